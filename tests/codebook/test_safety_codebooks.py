"""Hostile specs, codebooks and labels (issue 10): a clear, short error at once, never a hang or a traceback."""

from __future__ import annotations

import codecs
import os
import shutil
import time

import pytest

from coder.codebook.db import add_alias, add_theme, describe_theme, merge_themes, read_codebook, rename_theme
from coder.codebook.model import load_codebook
from coder.codebook.qdc import dump_qdc, load_qdc
from coder.errors import CoderError
from coder.safe_input import MAX_YAML_BYTES
from coder.store import open_db
from coder.survey.spec import load_spec
from tests.conftest import MINI_SPEC
from tests.invoke import run

CODEBOOK_HEAD = "id: fruit\ntitle: Fruit\nthemes:\n  - id: apple\n    label: Apple\n"


def laughs(levels: int = 9) -> str:
    """A billion-laughs anchor chain: `*l8` stands for 9**9 strings."""
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for n in range(1, levels):
        lines.append(f"l{n}: &l{n} [{','.join([f'*l{n - 1}'] * 9)}]")
    return "\n".join(lines) + "\n"


def refused(load, path, match):
    """Loading fails with a CoderError matching `match`, quickly, naming the file, in a short message.

    Quickly in CPU seconds: wall time also counts the processes sharing the cores (a parallel run
    on 2 busy cores took 1.3 s for a 0.3 s parse).
    """
    start = time.process_time()
    with pytest.raises(CoderError, match=match) as info:
        load(path)
    assert time.process_time() - start < 1.0
    assert str(path) in str(info.value) and len(str(info.value)) < len(str(path)) + 300
    return info.value


# --- YAML bombs, devices, depth, size ------------------------------------------------------------------


@pytest.mark.parametrize("field", ["title", "keywords", "aliases", "description"])
def test_alias_bomb_in_a_codebook_is_refused_at_once(tmp_path, field):
    path = tmp_path / "bomb.yaml"
    indent = "    " if field in ("keywords", "aliases") else ""
    target = f"{indent}{field}: *l8\n"
    head = CODEBOOK_HEAD + target if indent else CODEBOOK_HEAD.replace("themes:", target + "themes:")
    path.write_text("bombs:\n" + "".join("  " + line + "\n" for line in laughs().splitlines()) + head)
    refused(load_codebook, path, "anchors and aliases")


def test_a_single_harmless_anchor_is_refused_too(tmp_path):
    path = tmp_path / "anchor.yaml"
    path.write_text(CODEBOOK_HEAD + "    keywords: &k [a, b]\n  - id: pear\n    label: Pear\n    keywords: *k\n")
    refused(load_codebook, path, r"line 6: YAML anchors and aliases")


@pytest.mark.parametrize("field", ["title", "non_answers"])
def test_alias_bomb_in_a_spec_is_refused_at_once(mini, field):
    mini["spec"].write_text(laughs(5) + MINI_SPEC + f"{field}: [*l4, *l4]\n")
    refused(load_spec, mini["spec"], "anchors and aliases")


def test_alias_bomb_in_a_question_non_answers(mini):
    spec = MINI_SPEC.replace("    base: mentions\n", "    base: mentions\n    non_answers: [*l4, *l4, *l4]\n")
    mini["spec"].write_text(laughs(5) + spec)
    refused(load_spec, mini["spec"], "anchors and aliases")


def test_codebook_dev_zero_is_refused_not_read(mini):
    mini["spec"].write_text(
        MINI_SPEC.replace("codebook: fruit.yaml\n    base: mentions", "codebook: /dev/zero\n    base: mentions")
    )
    with pytest.raises(CoderError, match="device or pipe") as info:
        load_spec(mini["spec"])
    assert "/dev/zero" in str(info.value)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_codebook_or_spec_does_not_wait_for_a_writer(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    refused(load_codebook, fifo, "device or pipe")
    refused(load_spec, fifo, "device or pipe")
    qdc = tmp_path / "pipe.qdc"
    os.mkfifo(qdc)
    refused(load_qdc, qdc, "device or pipe")


def test_a_directory_is_refused(tmp_path):
    refused(load_codebook, tmp_path, "directory")


@pytest.mark.parametrize(
    "nesting",
    ["[" * 100_000 + "]" * 100_000, "[" * 100_000, "{a: " * 100_000],
    ids=["balanced", "unclosed", "mappings"],
)
def test_deep_nesting_is_a_clear_error(tmp_path, nesting):
    path = tmp_path / "deep.yaml"
    path.write_text(CODEBOOK_HEAD.replace("title: Fruit", "title: " + nesting))
    refused(load_codebook, path, "nested more than 20 levels|exceeded maximum nesting depth")
    spec = tmp_path / "spec.yaml"
    spec.write_text("survey: x\nrespondent_id: id\ntitle: " + nesting + "\n")
    refused(load_spec, spec, "nested more than 20 levels|exceeded maximum nesting depth")


def test_a_file_over_the_cap_is_refused_before_parsing(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text(CODEBOOK_HEAD + "# " + "x" * MAX_YAML_BYTES + "\n")
    refused(load_codebook, path, "larger than the limit of 2 MB")
    assert load_codebook(_small(tmp_path)).id == "fruit"


def _small(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(CODEBOOK_HEAD)
    return path


def test_an_integer_of_thousands_of_digits_is_a_clear_error(tmp_path):
    path = tmp_path / "digits.yaml"
    path.write_text(CODEBOOK_HEAD.replace("title: Fruit", "title: " + "9" * 5000))
    refused(load_codebook, path, "not valid YAML")


def test_a_yaml_error_quotes_only_an_excerpt(tmp_path):
    path = tmp_path / "tag.yaml"
    path.write_text(CODEBOOK_HEAD.replace("title: Fruit", "title: !" + "x" * 10_000 + " a"))
    refused(load_codebook, path, "not valid YAML")


# --- types and lengths of every field -------------------------------------------------------------------


@pytest.mark.parametrize(
    "line,match",
    [
        ("encoding: 5", "encoding must be text, found a number"),
        ("encoding: [utf-8]", "encoding must be text, found list"),
        ("encoding: klingon-8", "unknown encoding 'klingon-8'"),
        ("sheet: {a: 1}", "sheet must be text"),
        ("title: " + "T" * 10_000, "title is 10,000 characters long; the limit is 200"),
        ("survey: [a, b]", "survey must be text"),
    ],
    ids=["encoding-number", "encoding-list", "encoding-unknown", "sheet-mapping", "title-10k", "survey-list"],
)
def test_spec_fields_are_type_checked(mini, line, match):
    key = line.split(":")[0]
    text = "\n".join(row for row in MINI_SPEC.splitlines() if not row.startswith(key + ":")) + "\n" + line + "\n"
    mini["spec"].write_text(text)
    refused(load_spec, mini["spec"], match)


def test_a_valid_encoding_is_kept(mini):
    mini["spec"].write_text(MINI_SPEC + "encoding: cp1252\n")
    assert codecs.lookup(load_spec(mini["spec"]).encoding).name == "cp1252"


def test_question_fields_are_type_checked(mini):
    mini["spec"].write_text(MINI_SPEC.replace("text: Why?", "text: Why?\n    table: {title: [1, 2]}"))
    refused(load_spec, mini["spec"], "title must be text")
    mini["spec"].write_text(MINI_SPEC.replace("id: why", "id: 14"))
    refused(load_spec, mini["spec"], "id must be text, found a number 14; put it in quotes")
    mini["spec"].write_text(MINI_SPEC.replace("base: mentions", "base: [mentions]"))
    refused(load_spec, mini["spec"], "base must be text")
    mini["spec"].write_text(MINI_SPEC.replace("id: why", 'id: "why\\n"'))
    assert load_spec(mini["spec"]).question("why").id == "why"


@pytest.mark.parametrize(
    "theme_line,match",
    [
        ("    label: " + "L" * 10_000, "label is 10,000 characters long; the limit is 200"),
        ("    label: 012", "label must be text, found a number 10; put it in quotes"),
        ("    label: [a, b]", "label must be text, found list"),
        ('    label: "A\\e[31mB"', r"label 'A\\x1b\[31mB' holds a control character \(U\+001B\)"),
        ("    aliases: [" + "a" * 300 + "]", "each of the aliases is 300 characters long"),
        ("    keywords: [ok, " + "k" * 201 + "]", "each of the keywords is 201 characters long"),
        ("    keywords: [1.5]", "keywords must be a list of strings, found float"),
        ("    description: " + "d" * 20_001, "description is 20,001 characters long; the limit is 20,000"),
        ("  - id: " + "a" * 201 + "\n    label: Other", "id is 201 characters long"),
    ],
    ids=[
        "label-10k",
        "label-octal",
        "label-list",
        "label-escape",
        "alias-300",
        "keyword-201",
        "keyword-float",
        "description-20k",
        "id-201",
    ],
)
def test_codebook_fields_are_type_and_length_checked(tmp_path, theme_line, match):
    path = tmp_path / "cb.yaml"
    head = CODEBOOK_HEAD.replace("    label: Apple\n", "") if theme_line.startswith("    label") else CODEBOOK_HEAD
    path.write_text(head + theme_line + "\n")
    refused(load_codebook, path, match)


def test_too_many_items_in_a_list(tmp_path):
    path = tmp_path / "many.yaml"
    path.write_text(CODEBOOK_HEAD + "    keywords: [" + ",".join(["k"] * 10_001) + "]\n")
    refused(load_codebook, path, "keywords has 10,001 items; the limit is 10,000")


def test_nets_nested_too_deep(tmp_path):
    path = tmp_path / "nets.yaml"
    themes = "".join(f"  - id: t{n}\n    label: T{n}\n" + (f"    parent: t{n - 1}\n" if n else "") for n in range(30))
    path.write_text("id: nets\ntitle: Nets\nthemes:\n" + themes)
    refused(load_codebook, path, "nested more than 20 levels")


def test_the_bundled_codebooks_stay_well_under_the_caps():
    from tests.conftest import CODEBOOKS

    for path in CODEBOOKS.glob("*.yaml"):
        assert path.stat().st_size * 20 < MAX_YAML_BYTES
        load_codebook(path)


# --- labels entering through the database ---------------------------------------------------------------

LONG = "A pasted paragraph " * 530  # about 10 kB


def test_add_and_rename_refuse_a_10kb_label_and_control_characters(gold_db):
    before = read_codebook(gold_db, "priorities-2014")
    with pytest.raises(CoderError, match=r"a theme label is 10,\d{3} characters long; the limit is 200") as info:
        add_theme(gold_db, "priorities-2014", LONG)
    assert len(str(info.value)) < 200
    with pytest.raises(CoderError, match="the limit is 200"):
        rename_theme(gold_db, "priorities-2014", "crm", LONG)
    with pytest.raises(CoderError, match="control character"):
        add_theme(gold_db, "priorities-2014", "Red\x1b[31m alert")
    with pytest.raises(CoderError, match="control character"):
        add_alias(gold_db, "priorities-2014", "crm", "C\x00RM")
    with pytest.raises(CoderError, match="each keyword is 300 characters"):
        describe_theme(gold_db, "priorities-2014", "crm", keywords=("k" * 300,))
    with pytest.raises(CoderError, match="theme id is 300 characters"):
        add_theme(gold_db, "priorities-2014", "Fine", theme_id="a" * 300)
    assert read_codebook(gold_db, "priorities-2014") == before
    # A newline folds to a space, so every table format stays one row per theme.
    assert add_theme(gold_db, "priorities-2014", "Two\nlines", theme_id="two\n").label == "Two lines"
    assert read_codebook(gold_db, "priorities-2014").themes[-1].id == "two"
    assert add_theme(gold_db, "priorities-2014", "L" * 200).label == "L" * 200


def test_a_merge_of_a_names_theme_keeps_within_the_limits(gold_db):
    cb = read_codebook(gold_db, "departments")
    long_label = "D" * 200
    rename_theme(gold_db, "departments", cb.themes[-1].id, long_label)
    merge_themes(gold_db, "departments", cb.themes[-1].id, cb.themes[0].id)
    assert long_label in read_codebook(gold_db, "departments").themes[0].aliases


def test_cli_add_rename_and_discover_refuse_a_long_label(gold_db_path, tmp_path):
    db = tmp_path / "gold.db"
    shutil.copy(gold_db_path, db)
    for args in (
        ["codebook", "add", str(db), LONG, "-q", "q14"],
        ["codebook", "rename", str(db), "crm", LONG, "-q", "q14"],
        ["codebook", "add", str(db), "Fine", "--id", "a" * 300, "-q", "q14"],
    ):
        result = run(*args, ok=False)
        assert result.exit_code == 1, (args, result.output)
        assert "characters long; the limit is 200" in result.output and len(result.output) < 300
        assert "Traceback" not in result.output
    labels = [t.label for t in read_codebook(open_db(db), "priorities-2014").themes]
    assert all(len(label) <= 200 for label in labels)


def test_discover_accept_refuses_a_long_label(gold_db):
    """`coder discover --accept N --label L` (discovery itself takes seconds, so its proposal is made here)."""
    from types import SimpleNamespace

    from coder.suggest.discover import accept_proposal

    proposal = SimpleNamespace(label="Chatbots", examples=("a chatbot",), size=3, terms=("chatbot",), member_ids=())
    with pytest.raises(CoderError, match="the limit is 200"):
        accept_proposal(gold_db, "q14", proposal, label=LONG)
    assert accept_proposal(gold_db, "q14", proposal, label="Web\nchat").label == "Web chat"


def test_discover_accept_quotes_only_the_start_of_long_example_answers(gold_db):
    """Answers may run to 200,000 characters; the proposed theme's description must stay in its limit."""
    from types import SimpleNamespace

    from coder.suggest.discover import accept_proposal

    proposal = SimpleNamespace(label="Long", examples=("word " * 3000,) * 3, size=3, terms=("word",), member_ids=())
    theme = accept_proposal(gold_db, "q14", proposal)
    assert 600 < len(theme.description) < 1000


async def test_the_apps_new_theme_prompt_shows_the_limit(gold_db_path, tmp_path):
    from textual.widgets import Input

    from coder.tui import make_app
    from coder.tui.screens.message_screen import MessageScreen

    db = tmp_path / "gold.db"
    shutil.copy(gold_db_path, db)
    before = read_codebook(open_db(db), "priorities-2014")
    app = make_app(db, "q14", "ann", retrain=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("n")
        app.screen.query_one(Input).value = LONG
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, MessageScreen)
        assert "the limit is 200" in app.screen.body.plain
    assert read_codebook(open_db(db), "priorities-2014") == before


# --- REFI-QDA .qdc (XML) --------------------------------------------------------------------------------

QDC_HEAD = '<?xml version="1.0" encoding="utf-8"?>\n'
QDC_BODY = '<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>{codes}</Codes></CodeBook>\n'


def _qdc(tmp_path, text, name="cb.qdc", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_qdc_billion_laughs_and_external_entities_are_refused(tmp_path):
    entities = '<!ENTITY l0 "lol">' + "".join(
        f'<!ENTITY l{n} "{("&l" + str(n - 1) + ";") * 10}">' for n in range(1, 10)
    )
    bomb = QDC_HEAD + f"<!DOCTYPE CodeBook [{entities}]>" + QDC_BODY.format(codes='<Code guid="g" name="&l9;"/>')
    refused(load_qdc, _qdc(tmp_path, bomb), "DOCTYPE")
    xxe = (
        QDC_HEAD
        + '<!DOCTYPE CodeBook [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        + QDC_BODY.format(codes='<Code guid="g" name="&x;"/>')
    )
    refused(load_qdc, _qdc(tmp_path, xxe, "xxe.qdc"), "DOCTYPE")
    utf16 = '<?xml version="1.0" encoding="utf-16"?>\n' + bomb[len(QDC_HEAD) :]
    refused(load_qdc, _qdc(tmp_path, utf16, "utf16.qdc", "utf-16"), "DOCTYPE")


def test_qdc_deep_nesting_is_a_clear_error(tmp_path):
    codes = '<Code guid="g" name="c">' * 100_000 + "</Code>" * 100_000
    refused(load_qdc, _qdc(tmp_path, QDC_HEAD + QDC_BODY.format(codes=codes)), "nested more than 20 levels")


def test_qdc_long_names_and_huge_files_are_refused(tmp_path):
    long_name = QDC_HEAD + QDC_BODY.format(codes=f'<Code guid="g" name="{"N" * 10_000}"/>')
    refused(load_qdc, _qdc(tmp_path, long_name), "code name is 10,000 characters long; the limit is 200")
    colour = QDC_HEAD + QDC_BODY.format(codes=f'<Code guid="g" name="n" color="{"#" * 10_000}"/>')
    refused(load_qdc, _qdc(tmp_path, colour, "colour.qdc"), "must be a hex colour")
    huge = QDC_HEAD + "<!-- " + "x" * 10_000_000 + " -->" + QDC_BODY.format(codes='<Code guid="g" name="n"/>')
    refused(load_qdc, _qdc(tmp_path, huge, "huge.qdc"), "larger than the limit of 10 MB")


def test_a_qdc_file_coder_writes_still_reads_back(tmp_path):
    cb = load_codebook(_small(tmp_path))
    assert load_qdc(_qdc(tmp_path, dump_qdc(cb), "fruit.qdc"), codebook_id="fruit").themes[0].label == "Apple"
