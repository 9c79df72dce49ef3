"""Nets (parent themes) in tables, every format and charts; `--no-nets` and parentless codebooks stay flat."""

from __future__ import annotations

import csv
import io
import json

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from coder.codebook.model import Codebook, Theme
from coder.coding.codings import import_codings
from coder.export.formats import FORMATS, render, to_csv
from coder.report.tables import build_crosstab, build_table, compare_table, percent, read_previous_csv
from coder.store import open_db
from coder.survey.load import import_responses
from coder.survey.spec import load_spec
from tests.conftest import CODEBOOKS, CORPUS, read_csv_rows
from tests.invoke import run
from tests.report.test_tables import TABLE_2_11

# child -> net; "customer-net" and "online-net" are new themes, business-transformation a net with codes of its own.
PARENTS = {
    "customer-access": "customer-net",
    "customer-account": "customer-net",
    "customer-service": "customer-net",
    "online-net": "customer-net",
    "website-forms": "online-net",
    "mobile": "online-net",
    "front-back-office": "business-transformation",
    "crm": "business-transformation",
}
NEW_NETS = [{"id": "customer-net", "label": "Customer experience"}, {"id": "online-net", "label": "Online channels"}]


def hierarchical_codebook(path):
    data = yaml.safe_load((CODEBOOKS / "priorities-2014.yaml").read_text(encoding="utf-8"))
    data["themes"] += NEW_NETS  # nets after their children in the file: the table still puts children beneath
    for theme in data["themes"]:
        theme.pop("parent", None)
        if theme["id"] in PARENTS:
            theme["parent"] = PARENTS[theme["id"]]
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


@pytest.fixture(scope="module")
def nets_db_path(tmp_path_factory):
    """The corpus with its gold codings, q14's priorities grouped under nets."""
    folder = tmp_path_factory.mktemp("nets")
    hierarchical_codebook(folder / "priorities-nets.yaml")
    spec = (CORPUS / "survey.yaml").read_text(encoding="utf-8")
    spec = spec.replace("../../codebooks/priorities-2014.yaml", str(folder / "priorities-nets.yaml"))
    spec = spec.replace("../../codebooks/", f"{CODEBOOKS}/")
    (folder / "survey.yaml").write_text(spec, encoding="utf-8")
    path = folder / "nets.db"
    db = open_db(path)
    import_responses(db, load_spec(folder / "survey.yaml"), CORPUS / "responses.csv")
    import_codings(db, CORPUS / "codings.csv", coder="gold")
    db.close()
    return path


@pytest.fixture
def nets_db(nets_db_path):
    db = open_db(nets_db_path)
    yield db
    db.close()


def net_members(net: str) -> set[str]:
    """The net and every theme beneath it, from PARENTS alone (not from the code under test)."""
    members, grew = {net}, True
    while grew:
        grew = False
        for child, parent in PARENTS.items():
            if parent in members and child not in members:
                members.add(child)
                grew = True
    return members


def gold_q14() -> list[tuple[str, str, str]]:
    """(theme id, respondent, rank) for every q14 coding of the gold file."""
    data = yaml.safe_load((CODEBOOKS / "priorities-2014.yaml").read_text(encoding="utf-8"))
    by_label = {t["label"]: t["id"] for t in data["themes"]}
    return [
        (by_label[r["theme"]], r["respondent_id"], r["rank"])
        for r in read_csv_rows(CORPUS / "codings.csv")
        if r["question"] == "q14"
    ]


NETS = ["customer-net", "online-net", "business-transformation"]


@pytest.mark.parametrize("base", ["respondents", "mentions"])
def test_net_counts_each_respondent_or_answer_once(nets_db, base):
    table = build_table(nets_db, "q14", base)
    rows = {r.theme_id: r for r in table.rows}
    codings = gold_q14()
    for net in NETS:
        members = net_members(net)
        if base == "respondents":
            expected = len({who for theme, who, _ in codings if theme in members})
        else:
            expected = len({(who, rank) for theme, who, rank in codings if theme in members})
        assert rows[net].count == expected, net
        assert rows[net].net
        assert rows[net].percent == percent(expected, table.base_n)  # the children's base
    # Children keep their flat counts and the base is the flat table's.
    flat = {r.theme_id: r for r in build_table(nets_db, "q14", base, nets=False).rows}
    for theme_id, row in rows.items():
        if theme_id in flat and theme_id not in NETS:
            assert (row.count, row.percent) == (flat[theme_id].count, flat[theme_id].percent)
    assert table.base_n == (68 if base == "respondents" else 152)


def test_an_answer_with_two_children_counts_once_in_the_net(nets_db):
    members = net_members("customer-net")
    per_answer: dict[tuple, set] = {}
    for theme, who, rank in gold_q14():
        if theme in members:
            per_answer.setdefault((who, rank), set()).add(theme)
    doubles = sum(len(themes) - 1 for themes in per_answer.values())
    assert doubles, "the corpus has answers carrying two customer themes"
    rows = {r.theme_id: r for r in build_table(nets_db, "q14", "mentions").rows}
    children = ["customer-access", "customer-account", "customer-service", "website-forms", "mobile"]
    assert sum(rows[c].count for c in children) - rows["customer-net"].count == doubles


def test_children_sit_indented_under_their_net_in_codebook_order(nets_db):
    table = build_table(nets_db, "q14")
    placed = [(r.theme_id, r.level, r.net) for r in table.rows]
    start = placed.index(("customer-net", 0, True))
    assert placed[start : start + 7] == [
        ("customer-net", 0, True),
        ("customer-access", 1, False),
        ("customer-account", 1, False),
        ("customer-service", 1, False),
        ("online-net", 1, True),
        ("website-forms", 2, False),
        ("mobile", 2, False),
    ]
    start = placed.index(("business-transformation", 0, True))
    assert placed[start + 1 : start + 3] == [("front-back-office", 1, False), ("crm", 1, False)]
    top = [theme for theme, level, _ in placed if level == 0]
    data = yaml.safe_load((CODEBOOKS / "priorities-2014.yaml").read_text(encoding="utf-8"))
    order = [t["id"] for t in data["themes"]] + [n["id"] for n in NEW_NETS]
    assert top == sorted(top, key=order.index)  # codebook order, not by count
    assert table.has_nets


def test_no_nets_is_the_published_flat_table(nets_db, gold_db):
    flat = build_table(nets_db, "q14", nets=False)
    assert [(r.label, str(r.percent)) for r in flat.rows] == TABLE_2_11
    assert not flat.has_nets
    today = build_table(gold_db, "q14")
    for fmt in FORMATS:
        if fmt != "xlsx":
            assert render(flat, fmt) == render(today, fmt), fmt


@pytest.mark.parametrize("question", ["q13", "q14"])
def test_a_codebook_without_parents_prints_as_before(gold_db, question):
    netted, flat = build_table(gold_db, question), build_table(gold_db, question, nets=False)
    assert netted == flat and not netted.has_nets
    for fmt in FORMATS:
        assert render(netted, fmt) == render(flat, fmt) or fmt == "xlsx"
    assert to_csv(netted).splitlines()[0] == "theme,count,percent"
    page = render(netted, "html")
    assert "tr.net" not in page and 'class="net"' not in page and " style=" not in page  # not even in the stylesheet
    assert "level" not in json.loads(render(netted, "json"))["rows"][0]


# --- every format -------------------------------------------------------------------------------------

NBSP = "\u00a0"


def test_every_format_has_the_net_rows(nets_db):
    from openpyxl import load_workbook

    table = build_table(nets_db, "q14")
    md = render(table, "md")
    assert "| **Customer experience** | 63.2% |" in md
    assert f"| {NBSP * 2}Customer access / self service | 30.9% |" in md
    assert f"| {NBSP * 2}**Online channels** | 25.0% |" in md
    assert f"| {NBSP * 4}Mobile platform/site and apps | 10.3% |" in md

    lines = list(csv.reader(io.StringIO(render(table, "csv"))))
    assert lines[0] == ["theme", "count", "percent", "level", "net"]
    assert ["Customer experience", "43", "63.2", "0", "1"] in lines
    assert ["    Mobile platform/site and apps", "7", "10.3", "2", "0"] in lines

    sheet = load_workbook(io.BytesIO(render(table, "xlsx"))).active
    cells = {row[0].value: row for row in sheet.iter_rows() if row[0].value}
    assert [c.value for c in sheet[3]] == ["Top service redesign priorities", "Count", "Response", "level", "net"]
    net = cells["Customer experience"]
    assert [c.value for c in net] == ["Customer experience", 43, 63.2, 0, 1] and net[0].font.bold
    child = cells["Mobile platform/site and apps"]
    assert child[0].alignment.indent == 2 and not child[0].font.bold and child[3].value == 2

    page = render(table, "html")
    assert '<tr class="net"><th scope="row" style="font-weight:bold">Customer experience</th>' in page
    assert '<tr class="net"><th scope="row" style="padding-left:1.8rem;font-weight:bold">Online channels</th>' in page
    assert '<th scope="row" style="padding-left:3.0rem">Mobile platform/site and apps</th>' in page

    tex = render(table, "latex")
    assert r"\textbf{Customer experience} & 43 & 63.2\% \\" in tex
    assert r"\hspace{1em}\textbf{Online channels} & 17 & 25.0\% \\" in tex
    assert r"\hspace{2em}Mobile platform/site and apps & 7 & 10.3\% \\" in tex

    rows = {r["theme_id"]: r for r in json.loads(render(table, "json"))["rows"]}
    assert (rows["customer-net"]["level"], rows["customer-net"]["net"]) == (0, True)
    assert (rows["mobile"]["level"], rows["mobile"]["net"], rows["mobile"]["count"]) == (2, False, 7)


def test_crosstab_nets_count_each_group_once(nets_db):
    crosstab = build_crosstab(nets_db, "q14", "role")
    index = [r.theme_id for r in crosstab.table.rows].index("customer-net")
    role = dict(
        nets_db.execute("SELECT respondent_id, value FROM respondent_attributes WHERE name = 'role'").fetchall()
    )
    members = net_members("customer-net")
    for column in crosstab.columns:
        expected = len(
            {
                who
                for theme, who, _ in gold_q14()
                if theme in members and ((role.get(who) or "").strip() or "(not given)") == column.name
            }
        )
        assert column.counts[index] == expected, column.name
    assert crosstab.total.counts[index] == 43
    for fmt in ("md", "csv", "html", "latex", "json"):
        assert "Customer experience" in render(crosstab, fmt)
    assert list(csv.reader(io.StringIO(render(crosstab, "csv"))))[0][-2:] == ["level", "net"]
    assert "| **Customer experience** |" in render(crosstab, "md")


def test_compare_reads_a_netted_csv(nets_db, tmp_path):
    table = build_table(nets_db, "q14")
    previous = tmp_path / "q14-2013.csv"
    previous.write_text(to_csv(table), encoding="utf-8")
    rows = read_previous_csv(previous)
    assert ("Mobile platform/site and apps", 7) in [(r.label, r.count) for r in rows]
    compared = compare_table(table, rows)
    net = next(r for r in compared.rows if r.label == "Online channels")
    assert (net.level, net.net, net.change) == (1, True, 0)
    assert r"\hspace{1em}\textbf{Online channels}" in render(compared, "latex")


def test_nets_are_never_folded_but_count_their_folded_children(nets_db):
    table = build_table(nets_db, "q14", min_count=8)
    rows = {r.theme_id: r for r in table.rows}
    assert "mobile" not in rows and "crm" not in rows  # folded into Other
    assert rows["online-net"].count == 17 and rows["business-transformation"].count == 27
    assert table.rows[-1].theme_id == "other" and table.rows[-1].folded and table.rows[-1].level == 0
    small = {r.theme_id for r in build_table(nets_db, "q14", nets=False).rows if r.count < 8} - set(NETS)
    assert table.rows[-1].count == len({who for theme, who, _ in gold_q14() if theme in small})


# --- commands, chart and report -----------------------------------------------------------------------


def test_table_command_nets_and_no_nets(nets_db_path, tmp_path):
    netted = run("table", nets_db_path, "--question", "q14", "--format", "csv").output
    assert netted.startswith("theme,count,percent,level,net\n") and "Customer experience,43,63.2,0,1" in netted
    out = tmp_path / "flat.csv"
    run("table", nets_db_path, "--question", "q14", "--format", "csv", "--no-nets", "--output", out)
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0] == ["theme", "count", "percent"]
    assert [(label, share) for label, _, share in rows[1:]] == TABLE_2_11


def test_chart_draws_net_bars_darker_in_table_order(nets_db_path, tmp_path):
    import xml.etree.ElementTree as ET

    from coder.export.charts import _COLOUR, _NET_COLOUR

    SVG = "{http://www.w3.org/2000/svg}"

    path = tmp_path / "q14.svg"
    result = run("chart", nets_db_path, "--question", "q14", "--output", path)
    assert "(18 bars)" in result.output
    root = ET.parse(path).getroot()
    bars = {
        el.get("id"): ET.tostring(el, encoding="unicode")
        for el in root.iter()
        if (el.get("id") or "").startswith("bar-")
    }
    table = build_table(open_db(nets_db_path), "q14")
    for index, row in enumerate(table.rows):
        assert (_NET_COLOUR if row.net else _COLOUR).lstrip("#") in bars[f"bar-{index}"].lower(), row.label
    labels = {el.text: el.get("style") for el in root.iter(f"{SVG}text") if el.text}
    assert "font-weight: 700" in labels["\u2013 Online channels"]  # a net: bold, one dash under its net
    assert "font-weight: 700" not in labels["\u2013 \u2013 Mobile platform/site and apps"]
    run("chart", nets_db_path, "--question", "q14", "--no-nets", "--output", tmp_path / "flat.svg")
    assert "\u2013" not in (tmp_path / "flat.svg").read_text(encoding="utf-8")


def test_report_folder_shows_nets(nets_db_path, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "coder.report.quotes", None)
    monkeypatch.setattr("coder.export.charts.render_chart", lambda table, path: None)  # charts: tested above, and slow
    out = tmp_path / "report"
    run("report", nets_db_path, "--output", out)
    assert "| **Customer experience** | 63.2% |" in (out / "index.md").read_text(encoding="utf-8")
    assert '<tr class="net"><th scope="row" style="font-weight:bold">Customer experience</th>' in (
        out / "index.html"
    ).read_text(encoding="utf-8")
    assert (out / "q14.csv").read_text(encoding="utf-8").startswith("theme,count,percent,level,net\n")
    assert (out / "q13.csv").read_text(encoding="utf-8").startswith("theme,count,percent\n")  # no parents: flat


# --- any tree ------------------------------------------------------------------------------------------


@st.composite
def coded_trees(draw):
    """A codebook of up to 8 themes nested at random (parents anywhere in the file) and codings on them."""
    size = draw(st.integers(1, 8))
    parents = [None] + [draw(st.one_of(st.none(), st.integers(0, i - 1))) for i in range(1, size)]
    order = draw(st.permutations(range(size)))
    themes = tuple(Theme(f"t{i}", f"Theme {i}", parent=None if parents[i] is None else f"t{parents[i]}") for i in order)
    cells = draw(st.sets(st.tuples(st.integers(0, size - 1), st.integers(0, 9)), max_size=30))
    pairs = [(f"t{theme}", f"r{answer // 2}", answer) for theme, answer in cells]  # two answers per respondent
    return Codebook("tree", "Tree", themes=themes), parents, pairs


@settings(max_examples=60, deadline=None)
@given(coded_trees(), st.sampled_from(["respondents", "mentions"]))
def test_any_tree_counts_every_net_once_and_nests_its_rows(tree, base):
    from coder.report.tables import _layout, _Source, _tabulate

    codebook, parents, pairs = tree
    source = _Source("q", "Q", "Theme", base, codebook, None, len({p[1] for p in pairs}), 0, pairs)
    table = _tabulate(source, _layout(source), include_empty=True)

    def beneath(i):  # theme i and its descendants, from the drawn parents alone
        return {j for j in range(len(parents)) if any(k == i for k in chain(j))}

    def chain(j):
        while j is not None:
            yield j
            j = parents[j]

    unit = 1 if base == "respondents" else 2
    assert table.has_nets == any(p is not None for p in parents)  # the codebook decides, not which rows have counts
    assert sorted(r.theme_id for r in table.rows) == sorted(t.id for t in codebook.themes)
    for row in table.rows:
        i = int(row.theme_id[1:])
        members = {f"t{j}" for j in beneath(i)}
        assert row.net == (len(members) > 1)
        assert row.count == len({p[unit] for p in pairs if p[0] in members})  # a leaf: {itself}
        assert row.level == len(list(chain(i))) - 1
    for index, row in enumerate(table.rows):  # each child's nearest row one level up is its parent
        if row.level:
            above = next(r for r in reversed(table.rows[:index]) if r.level == row.level - 1)
            assert above.theme_id == f"t{parents[int(row.theme_id[1:])]}"
