# Every target sets itself up: a fresh machine needs only Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
CORPUS := corpus/local-digital-2014

.PHONY: demo test clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	rm -f demo.db demo.db-wal demo.db-shm
	$(BIN)/coder import demo.db --survey $(CORPUS)/survey.yaml --responses $(CORPUS)/responses.csv
	$(BIN)/coder codings import demo.db $(CORPUS)/codings.csv --coder gold
	@echo
	@$(BIN)/coder table demo.db --question q13
	@echo
	@$(BIN)/coder table demo.db --question q14

test: $(STAMP)
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) demo.db demo.db-wal demo.db-shm .pytest_cache
