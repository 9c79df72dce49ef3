"""Bad input at every command: a clear error that says where, exit status 1, the database unchanged."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coder.store import open_db
from tests.conftest import CORPUS, fingerprint
from tests.invoke import run

HEADER = (CORPUS / "responses.csv").read_text(encoding="utf-8").splitlines()[0]


@pytest.fixture
def db_path(gold_copy_path):
    return gold_copy_path


def write(path, data: bytes | str):
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def row(rid: str, **cells) -> str:
    columns = HEADER.split(",")
    values = [cells.get(c, "") for c in columns]
    values[0] = rid
    return ",".join(values)


RESPONSES = {
    "empty": (b"", "the file is empty"),
    "binary-garbage": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01", "NUL byte"),
    "undecodable": (f"{HEADER}\n".encode() + b"R900,caf\x81,,,,,,,,,,,,,\n", "undecodable byte 0x81"),
    "wrong-delimiter": (HEADER.replace(",", ":") + "\n" + "R900:x\n", "missing columns"),
    "ragged-rows": (f"{HEADER}\n{row('R900')},extra,cells\n", "row 2"),
    "short-row": (f"{HEADER}\nR900,Ann\n", "cut short"),
    "duplicate-ids": (f"{HEADER}\n{row('R900')}\n{row('R900')}\n", "duplicate respondent id 'R900'"),
    "missing-column": (HEADER.replace(",q16_comments", "") + "\n", "missing column 'q16_comments'"),
    "header-only": (f"{HEADER}\n", "no data rows"),
    "huge-cell": (None, "characters; the limit"),
    "unterminated-quote": (f'{HEADER}\nR900,"Ann\nR901,Bob\n', "an unclosed quote"),
}


@pytest.mark.parametrize("case", list(RESPONSES), ids=list(RESPONSES))
def test_import_refuses_bad_exports(db_path, tmp_path, case):
    data, message = RESPONSES[case]
    if case == "huge-cell":
        data = (HEADER + "\n" + row("R900", q16_comments="x" * (50 * 1024 * 1024)) + "\n").encode()  # a 50 MB cell
    before = fingerprint(db_path)
    result = run(
        "import",
        db_path,
        "--survey",
        CORPUS / "survey.yaml",
        "--responses",
        write(tmp_path / "bad.csv", data),
        ok=False,
    )
    assert result.exit_code == 1, result.output
    assert message in result.output and "bad.csv" in result.output and "Traceback" not in result.output
    assert fingerprint(db_path) == before


def test_control_characters_are_kept_as_data(db_path, tmp_path):
    """Not an error: a tab, a bell or an escape in an answer is what the respondent's software sent."""
    odd = "odd \x07 bell \x1b[31m red"
    export = write(tmp_path / "ctl.csv", HEADER + "\n" + row("R900", q16_comments=odd) + "\n")
    assert run("import", db_path, "--survey", CORPUS / "survey.yaml", "--responses", export).exit_code == 0
    db = open_db(db_path)
    assert db.execute("SELECT text FROM answers WHERE respondent_id = 'R900'").fetchone()[0] == odd


SPECS = {
    "not-yaml": ("survey: [broken\n", "not valid YAML"),
    "no-questions": ("survey: s\nrespondent_id: respondent_id\nquestions: []\n", "non-empty list"),
    "unknown-codebook": (
        "survey: s\nrespondent_id: respondent_id\nquestions:\n  - {id: q, columns: q16_comments, codebook: nope.yaml}\n",
        "codebook file 'nope.yaml' not found",
    ),
}


@pytest.mark.parametrize("case", list(SPECS), ids=list(SPECS))
def test_import_refuses_bad_specs(db_path, tmp_path, case):
    text, message = SPECS[case]
    before = fingerprint(db_path)
    spec = write(tmp_path / "spec.yaml", text)
    result = run("import", db_path, "--survey", spec, "--responses", CORPUS / "responses.csv", ok=False)
    assert result.exit_code == 1 and message in result.output and "spec.yaml" in result.output
    assert fingerprint(db_path) == before


CODEBOOKS = {
    "duplicate-ids": (
        "id: priorities-2014\nthemes:\n  - {id: a, label: A}\n  - {id: a, label: B}\n",
        "duplicate theme id 'a'",
    ),
    "cycle": (
        "id: priorities-2014\nthemes:\n  - {id: a, label: A, parent: b}\n  - {id: b, label: B, parent: a}\n",
        "nesting cycle",
    ),
    "empty-label": ("id: priorities-2014\nthemes:\n  - {id: a, label: ''}\n", "label is empty"),
    "drops-coded-theme": ("id: priorities-2014\nthemes:\n  - {id: crm, label: CRM}\n", "which have codings"),
    "not-a-codebook": ("- just\n- a list\n", "must be a mapping"),
}


@pytest.mark.parametrize("case", list(CODEBOOKS), ids=list(CODEBOOKS))
def test_codebook_import_refuses_bad_codebooks(db_path, tmp_path, case):
    text, message = CODEBOOKS[case]
    before = fingerprint(db_path)
    result = run("codebook", "import", db_path, write(tmp_path / "cb.yaml", text), ok=False)
    assert result.exit_code == 1 and message in result.output, result.output
    assert fingerprint(db_path) == before


CODINGS = {
    "unknown-theme": ("respondent_id,question,rank,theme\nR002,q14,1,Nonsense\n", "unknown theme 'Nonsense'", "row 2"),
    "unknown-answer": ("respondent_id,question,rank,theme\nR999,q14,1,CRM\n", "no answer cell", "row 2"),
    "unknown-question": ("respondent_id,question,rank,theme\nR002,q99,1,CRM\n", "unknown question 'q99'", "row 2"),
    "missing-column": ("respondent_id,question,rank\nR002,q14,1\n", "missing column 'theme'", "row 1"),
    "ranked-no-rank": ("respondent_id,question,theme\nR002,q14,CRM\n", "several answer columns", "row 2"),
    "bad-rank": ("respondent_id,question,rank,theme\nR002,q14,first,CRM\n", "rank must be a whole number", "row 2"),
    "binary": (b"\x00\x01\x02", "NUL byte", "c.csv"),
}


@pytest.mark.parametrize("case", list(CODINGS), ids=list(CODINGS))
def test_codings_files_are_checked_before_anything_is_written(db_path, tmp_path, case):
    text, message, where = CODINGS[case]
    before = fingerprint(db_path)
    path = write(tmp_path / "c.csv", text)
    for args in (["codings", "import", db_path, path, "--coder", "x"], ["evaluate", db_path, "--gold", path]):
        result = run(*args, ok=False)
        assert result.exit_code == 1 and message in result.output and where in result.output, (args, result.output)
    assert fingerprint(db_path) == before


def test_table_compare_refuses_a_bad_previous_wave(db_path, tmp_path):
    previous = write(tmp_path / "prev.csv", "theme,count,percent\nCRM,3,lots\n")
    result = run("table", db_path, "--question", "q14", "--compare", previous, ok=False)
    assert result.exit_code == 1 and "prev.csv" in result.output


def test_every_command_refuses_a_missing_database(tmp_path):
    missing = tmp_path / "nope.db"
    for args in (
        ["table", missing, "-q", "q14"],
        ["codings", "export", missing],
        ["suggest", missing],
        ["agreement", missing, "-q", "q14"],
        ["log", missing],
        ["quotes", missing, "-q", "q14"],
        ["questions", missing],
        ["report", missing, "--output", tmp_path / "r"],
    ):
        result = run(*args, ok=False)
        assert result.exit_code == 1 and "no such database" in result.output, (args, result.output)
    assert not missing.exists()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.binary(max_size=400) | st.text(max_size=300).map(lambda t: (HEADER + "\n" + t).encode("utf-8", "surrogatepass"))
)
def test_random_exports_never_crash_or_half_import(db_path, tmp_path, data):
    before = fingerprint(db_path)
    result = run(
        "import",
        db_path,
        "--survey",
        CORPUS / "survey.yaml",
        "--responses",
        write(tmp_path / "fuzz.csv", data),
        ok=None,
    )
    assert result.exit_code in (0, 1), result.output
    # A clean refusal is a SystemExit from click; anything else escaped our error handling.
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if result.exit_code == 1:
        assert "fuzz.csv" in result.output
        assert fingerprint(db_path) == before
