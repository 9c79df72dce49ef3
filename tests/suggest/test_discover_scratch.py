"""Discovery from scratch: a question with no themes gets a starter codebook from all its answers."""

from __future__ import annotations

import csv
import json

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import coder.codebook.db as theme_ops
from coder.coding.codings import question_codebook
from coder.errors import CoderError
from coder.store import open_db
from coder.suggest import embeddings
from coder.suggest.discover import discover, discover_themes
from tests.conftest import fingerprint
from tests.invoke import run

# Five planted themes, each worded 20 ways: four openings x five cores, the openings shared by all.
OPENINGS = ["", "Honestly, ", "I think ", "Please sort out "]
THEMES = {
    "buses": [
        "the bus service is unreliable",
        "more frequent buses at night",
        "buses that turn up on time",
        "cheaper bus fares for students",
        "a bus route to the hospital",
    ],
    "potholes": [
        "potholes on every road",
        "fix the potholes near the school",
        "potholes damage our cars",
        "the potholes on the high street",
        "road repairs for the potholes",
    ],
    "library": [
        "keep the library open longer",
        "the library needs more books",
        "library opening hours on sundays",
        "do not close the village library",
        "a quiet library for studying",
    ],
    "bins": [
        "weekly bin collections",
        "the bins are collected late",
        "bin collections missed again",
        "recycling bins for flats",
        "bigger bins for families",
    ],
    "parking": [
        "parking permits cost too much",
        "free parking in the town centre",
        "parking for disabled drivers",
        "more parking near the station",
        "parking fines are unfair",
    ],
}
# Answers that share nothing with each other or with the themes: they belong in no proposal.
NOISE = [
    "my cat sleeps all afternoon",
    "quantum physics lectures",
    "grandma bakes excellent scones",
    "violin concerto tickets sold out",
    "astronomy telescope",
    "knitting wool jumper",
    "chess tournament yesterday",
    "volcano eruption documentary",
]


def planted() -> tuple[list[str], dict[str, set[int]], set[int]]:
    texts, themes = [], {}
    for theme, cores in THEMES.items():
        for opening in OPENINGS:
            for core in cores:
                themes.setdefault(theme, set()).add(len(texts))
                texts.append(opening + core)
    noise = set(range(len(texts), len(texts) + len(NOISE)))
    return texts + NOISE, themes, noise


def f1(members, theme) -> float:
    members = set(members)
    return 2 * len(members & theme) / (len(members) + len(theme))


def check_recovered(proposals, texts, themes, noise):
    for name, theme in themes.items():
        best = max(proposals, key=lambda p: f1(p.member_ids, theme))
        assert f1(best.member_ids, theme) >= 0.8, (name, best.label)
        # A phrase the answers use, not a list of lemmas.
        assert "/" not in best.label and best.label[0].isupper()
        assert any(best.label.lower() in texts[i].lower() for i in best.member_ids), best.label
    assert not noise & {m for p in proposals for m in p.member_ids}


def test_planted_themes_are_recovered_and_noise_left_out():
    texts, themes, noise = planted()
    proposals = discover(texts, max_themes=20)
    check_recovered(proposals, texts, themes, noise)
    for p in proposals:
        assert p.description.endswith(".") and str(p.size) in p.description and "\n" not in p.description
        assert len(p.examples) == 3 and p.size == len(p.member_ids)
    assert discover(list(texts), max_themes=20) == proposals


def test_a_theme_split_by_the_clustering_is_one_proposal():
    # TF-IDF clusters the bus answers in two (reliability, fares); led by the same word, they are merged.
    texts, themes, _ = planted()
    proposals = discover(texts, max_themes=20)
    for name, theme in themes.items():
        assert sum(len(theme & set(p.member_ids)) * 2 > p.size for p in proposals) == 1, name


def town_survey(tmp_path, texts: list[str], themes: list[dict] | None = None):
    """Answers `texts` (respondents R000, R001, ...) imported under one question and codebook `themes`."""
    (tmp_path / "codebook.yaml").write_text(yaml.safe_dump({"id": "town", "title": "Town", "themes": themes or []}))
    question = {"id": "q1", "text": "What should the council fix?", "columns": "answer", "codebook": "codebook.yaml"}
    (tmp_path / "survey.yaml").write_text(
        yaml.safe_dump({"survey": "town", "respondent_id": "id", "questions": [question]})
    )
    with open(tmp_path / "responses.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "answer"])
        writer.writerows([f"R{i:03d}", text] for i, text in enumerate(texts))
    db = tmp_path / "town.db"
    run("import", db, "--survey", tmp_path / "survey.yaml", "--responses", tmp_path / "responses.csv")
    return db


@pytest.fixture
def survey(tmp_path):
    """A database of the planted answers under a question whose codebook has no themes."""
    texts, themes, noise = planted()
    db = town_survey(tmp_path, texts)
    ids = {name: {f"R{i:03d}" for i in members} for name, members in themes.items()}
    return db, ids, {f"R{i:03d}" for i in noise}


def themes_of(db):
    database = open_db(db)
    try:
        return theme_ops.read_codebook(database, question_codebook(database, "q1")).themes
    finally:
        database.close()


def test_json_lists_every_proposal_with_its_members(survey):
    db, themes, noise = survey
    before = fingerprint(db)
    result = run("discover", db, "-q", "q1", "--json", "--max-themes", "20")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["scope"] == "all answers" and report["answers"] == 108 and report["embeddings"] is None
    for number, p in enumerate(report["proposals"], start=1):
        assert {"number", "label", "description", "terms", "size", "examples", "members"} <= set(p)
        assert p["number"] == number and p["size"] == len(p["members"]) and len(p["examples"]) == 3
        assert all(set(m) == {"respondent_id", "rank"} and m["rank"] == 1 for m in p["members"])
    for name, ids in themes.items():
        assert max(f1({m["respondent_id"] for m in p["members"]}, ids) for p in report["proposals"]) >= 0.8, name
    assert not noise & {m["respondent_id"] for p in report["proposals"] for m in p["members"]}
    assert fingerprint(db) == before  # proposing changes nothing


def test_accept_all_adds_every_proposal_in_one_audited_transaction(survey):
    db, _, _ = survey
    proposals = json.loads(run("discover", db, "-q", "q1", "--json").output)["proposals"]
    result = run("discover", db, "-q", "q1", "--accept", "all", "--coder", "ann")
    assert result.exit_code == 0, result.output
    added = themes_of(db)
    assert [t.label for t in added] == [p["label"] for p in proposals]
    assert all(
        t.description.startswith(p["description"]) and t.keywords == tuple(p["terms"]) for t, p in zip(added, proposals)
    )
    database = open_db(db)
    actions = [r[0] for r in database.execute("SELECT action FROM audit WHERE coder = 'ann' ORDER BY id")]
    database.close()
    assert actions == ["theme.add"] * len(proposals)


def test_accept_a_list_adds_just_those(survey):
    db, _, _ = survey
    proposals = json.loads(run("discover", db, "-q", "q1", "--json").output)["proposals"]
    result = run("discover", db, "-q", "q1", "--accept", "1, 3")
    assert result.exit_code == 0, result.output
    assert [t.label for t in themes_of(db)] == [proposals[0]["label"], proposals[2]["label"]]


def test_accept_is_all_or_nothing(survey, monkeypatch):
    db, _, _ = survey
    real = theme_ops.add_theme
    calls = []

    def fail_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise CoderError("disk on fire")
        return real(*args, **kwargs)

    monkeypatch.setattr(theme_ops, "add_theme", fail_second)
    result = run("discover", db, "-q", "q1", "--accept", "all", ok=False)
    assert result.exit_code == 1 and "disk on fire" in result.output
    assert themes_of(db) == ()


@pytest.mark.parametrize(
    "value, message",
    [
        ("x", "--accept takes a proposal number"),
        ("1,,2", "--accept takes a proposal number"),
        ("99", "there is no proposal 99"),
        ("0", "there is no proposal 0"),
    ],
)
def test_a_bad_accept_names_the_problem_and_adds_nothing(survey, value, message):
    db, _, _ = survey
    before = fingerprint(db)
    result = run("discover", db, "-q", "q1", "--accept", value, ok=False)
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output
    assert fingerprint(db) == before


def test_label_goes_with_one_proposal(survey):
    db, _, _ = survey
    result = run("discover", db, "-q", "q1", "--accept", "1,2", "--label", "Mine", ok=False)
    assert result.exit_code == 1 and "--label goes with one proposal: --accept N" in result.output
    assert run("discover", db, "-q", "q1", "--accept", "2", "--label", "Mine").exit_code == 0
    assert [t.label for t in themes_of(db)] == ["Mine"]


def test_planted_themes_in_sentence_vector_space(survey, monkeypatch):
    monkeypatch.setenv("CODER_EMBEDDINGS", "1")
    monkeypatch.delenv("CODER_EMBEDDING_MODEL", raising=False)
    if not embeddings.available():
        pytest.skip("no sentence-embedding model installed")
    db, themes, noise = survey
    before = fingerprint(db)
    report = json.loads(run("discover", db, "-q", "q1", "--json", "--max-themes", "20").output)
    assert report["embeddings"] and fingerprint(db) == before  # read-only: vectors are not stored
    for name, ids in themes.items():
        assert max(f1({m["respondent_id"] for m in p["members"]}, ids) for p in report["proposals"]) >= 0.6, name
    # After centring, the unrelated answers look alike to each other; they are still no theme.
    assert not noise & {m["respondent_id"] for p in report["proposals"] for m in p["members"]}
    assert all(p["label"][0].isupper() and "/" not in p["label"] for p in report["proposals"])


def test_with_themes_only_unfit_answers_unless_all(gold_db):
    fitted = discover_themes(gold_db, "q16")
    everything = discover_themes(gold_db, "q16", all_answers=True)
    assert not fitted.scratch and everything.scratch
    assert len(everything.answers) > len(fitted.answers)
    total = gold_db.execute("SELECT count(*) FROM answers WHERE question_id = 'q16' AND is_answer = 1").fetchone()[0]
    assert len(everything.answers) == total


def test_bench_discover_runs(tmp_path, capsys):
    """On a tiny copy of the ThemeFinder layout: the benchmark is run by hand, so nothing else would notice a break."""
    import sys

    from tests.conftest import ROOT

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_discover

    texts, themes, _ = planted()
    part = tmp_path / "question_part_1"
    part.mkdir()
    (part / "question.json").write_text(json.dumps({"question_text": "What should the council fix?"}))
    (part / "themes.json").write_text(json.dumps([{"topic_id": t.upper(), "topic_label": t.title()} for t in themes]))
    (part / "responses.jsonl").write_text(
        "".join(json.dumps({"response_id": 1000 + i, "response": t}) + "\n" for i, t in enumerate(texts))
    )
    (part / "mapping.jsonl").write_text(
        "".join(
            json.dumps({"response_id": 1000 + i, "labels": [t.upper() for t, ids in themes.items() if i in ids]}) + "\n"
            for i in range(len(texts))
        )
    )
    assert bench_discover.main(["--data", str(tmp_path)]) == 0
    output = capsys.readouterr().out
    assert "coder discover " in output and "TF-IDF + KMeans (k=5, the true number)" in output
    assert " 5/5" in output and "proposed labels:" in output


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.lists(
            st.sampled_from(["bus", "Bus", "x" * 90, "Ünï", "won't", "self-serve", " ", "\n", "\t", ".", "the"]),
            max_size=30,
        ).map("".join),
        min_size=3,
        max_size=25,
    )
)
def test_labels_are_one_short_line_from_the_answers(texts):
    for p in discover(texts * 2, min_size=2):
        assert p.label and "\n" not in p.label and "\t" not in p.label and len(p.label) <= 80
        assert p.label == p.label.strip() and len(p.description) < 400


def test_too_few_answers_for_vectors_are_clustered_by_their_words():
    # Vectors less their mean need enough answers for the mean to be the question's topic.
    import numpy as np

    texts = ["potholes", "fix potholes", "potholes again", "bins late", "bins missed", "late bins", "x"]
    vectors = np.random.default_rng(0).normal(size=(len(texts), 8))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    assert discover(texts, vectors=vectors) == discover(texts)
