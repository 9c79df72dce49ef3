"""Discovery round 4: labels that read whole, and the benchmark's stance development sets."""

from __future__ import annotations

import csv
import sys

import numpy as np
import pytest

from coder.suggest.discover import _Phrases, discover
from tests.conftest import ROOT

# Each planted phrase with what its answers go on to say: the label must not stop where they go on.
CUT = [
    "Customers should self-serve online",  # "Customer self" cuts "self-serve"
    "Life skills education including budgeting",  # "... education including" promises a list
    "A ban would hurt gender equality in sport",  # "Ban would hurt gender" cuts "gender equality"
    "Atheism fosters a sense of community",  # "Atheism fosters" stops before its object
    "Especially elected members",  # begins mid-thought
    "advertising on kids' channels",  # "advertising on kids" cuts a possessive
]


def whole_phrases(texts: list[str]) -> set[str]:
    phrases = _Phrases(texts, np.ones(len(texts)), frozenset())
    return {" ".join(k) for k, whole in zip(phrases.keys, phrases.whole) if whole}


def test_phrases_that_stop_where_the_answer_goes_on_are_no_labels():
    whole = whole_phrases(CUT)
    for fragment in [
        "customer should self",
        "life skill education include",
        "ban would hurt gender",
        "atheism foster",
        "especially elect member",
        "advertise on kid",
        "self",
        "kid",
    ]:
        assert fragment not in whole, fragment
    # The readable pieces of the same answers stay.
    assert {"self - serve", "life skill education", "elect member", "kid ' channel", "sense of community"} <= whole


def test_a_compound_is_cut_only_when_most_answers_read_on_from_the_same_word():
    # "relationship management" always follows "customer": a piece of "customer relationship management".
    crm = ["we need customer relationship management", "invest in customer relationship management now"]
    assert "relationship management" not in whole_phrases(crm)
    assert "customer relationship management" in whole_phrases(crm)
    # "gambling adverts" follows a different word each time, and stands alone once: a phrase of its own.
    ads = ["ban gambling adverts", "fewer gambling adverts please", "gambling adverts on tv"]
    assert "gamble advert" in whole_phrases(ads)  # lemmas
    # Adverbs end a clause: "real users" goes on to nothing.
    assert "test with real user" in whole_phrases(["test with real users early", "test with real users often"])


def test_proposed_labels_do_not_end_mid_phrase():
    # Three planted themes whose every answer runs its key phrase into more words.
    texts = [f"life skills education including {w}" for w in ["budgeting", "cooking", "taxes", "odds", "debt", "maths"]]
    texts += [
        f"a ban would hurt gender equality {w}" for w in ["in sport", "in football", "for women", "on tv", "badly"]
    ]
    texts += [f"customers to self-serve {w}" for w in ["online", "at home", "by phone", "on the app", "any time"]]
    labels = [p.label for p in discover(texts, min_size=3)]
    assert len(labels) == 3, labels
    for label in labels:
        assert label.lower().split()[-1] not in {"including", "gender", "self", "to"}, label
    assert "Life skills education" in labels  # was "Life skills education including"
    assert any("gender equality" in label.lower() for label in labels), labels  # was "Ban would hurt gender"


def test_corpus_q14_labels_read_whole(corpus_db):
    from coder.suggest.discover import discover_themes

    # In TF-IDF space q14 was labelled "Customer self (19)" and "Online self (9)" ("self-service", "self help").
    labels = [p.label for p in discover_themes(corpus_db, "q14", all_answers=True, embeddings=False).proposals]
    assert len(labels) >= 8
    for label in labels:
        assert label.lower().split()[-1] not in {"self", "including", "of", "the", "to"}, label


# --- the benchmark's stance sets ---------------------------------------------------------------


def _bench():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_discover

    return bench_discover


def _argkp(folder, part: str, topics: dict[str, dict[str, list[str]]]) -> None:
    """An ArgKP-shaped folder: arguments, key points and match labels per motion."""
    folder.mkdir(parents=True, exist_ok=True)
    with (
        open(folder / f"arguments_{part}.csv", "w", newline="", encoding="utf-8") as a,
        open(folder / f"key_points_{part}.csv", "w", newline="", encoding="utf-8") as k,
        open(folder / f"labels_{part}.csv", "w", newline="", encoding="utf-8") as m,
    ):
        args, kps, labels = csv.writer(a), csv.writer(k), csv.writer(m)
        args.writerow(["arg_id", "argument", "topic", "stance"])
        kps.writerow(["key_point_id", "key_point", "topic", "stance"])
        labels.writerow(["arg_id", "key_point_id", "label"])
        for t, (topic, points) in enumerate(topics.items()):
            for p, (point, arguments) in enumerate(points.items()):
                kp = f"kp_{t}_{p}"
                kps.writerow([kp, point, topic, 1])
                for i, argument in enumerate(arguments):
                    arg = f"arg_{t}_{p}_{i}"
                    args.writerow([arg, argument, topic, 1])
                    labels.writerow([arg, kp, 1])
                    labels.writerow([arg, f"kp_{t}_{(p + 1) % len(points)}", 0])  # a non-match is no theme


def test_stance_sets_read_argkp_motions(tmp_path):
    points = {
        "Cannabis relieves pain": [f"cannabis relieves chronic pain number {i}" for i in range(6)],
        "Cannabis is a gateway drug": [f"cannabis leads users to harder drugs {i}" for i in range(6)],
        "Too few to count": ["one argument alone"],
    }
    _argkp(tmp_path / "kpm_data", "train", {"We should legalize cannabis": points})
    (name, texts, themes, names), *rest = _bench().stance_sets(tmp_path, "train")
    assert not rest and name == "stance We should legalize cannabis" and len(texts) == 13
    assert names["kp_0_1"] == "Cannabis is a gateway drug"  # the key points name the themes (label score)
    assert sorted(len(m) for m in themes.values()) == [1, 6, 6]  # run_dev keeps those with >= 5
    assert {texts[i] for i in themes["kp_0_0"]} == set(points["Cannabis relieves pain"])
    with pytest.raises(SystemExit, match="no ArgKP dev files"):
        list(_bench().stance_sets(tmp_path, "held-out"))


def test_bench_stance_option_prints_the_family_beside_kmeans(tmp_path, capsys):
    points = {
        "Voting is a civic duty": [f"voting is every citizen's civic duty, reason {i}" for i in range(8)],
        "People should be free not to vote": [f"forcing people to vote takes away freedom {i}" for i in range(8)],
    }
    _argkp(tmp_path / "kpm_data", "train", {"We should introduce compulsory voting": points})
    assert _bench().main(["--stance", str(tmp_path), "--no-embeddings"]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.strip().startswith("stance ") and "answers" not in line)
    assert "discover" in line and "/2" in line and "kmeans" in line
    assert "corpus" not in out  # --stance alone measures the stance sets only


def test_dev_samples_are_paired_only_when_asked(tmp_path):
    folder = tmp_path / "traintest_data"
    folder.mkdir()
    with open(folder / "dataset1_Xtrain.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["caseID", "verbatim"])
        w.writerows([i, f"answer {i}"] for i in range(20))
    with open(folder / "dataset1_ytrain.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["1", "2"])
        w.writerows(["1", "0"] if i % 2 else ["0", "1"] for i in range(20))
    names = [s[0] for s in _bench().dev_sets(tmp_path, [1], [0]) if s[0].startswith("anes")]
    assert names == ["anes 1 seed 0"]
    paired = [s[0] for s in _bench().dev_sets(tmp_path, [1], [0], pairs=True) if s[0].startswith("anes")]
    assert paired == ["anes 1 seed 0", "anes 1 pairs 0"]


def test_a_label_in_use_is_not_given_to_a_second_proposal():
    # A stance and one of its arguments: both were named after the subject, and then merged into one theme.
    texts = [
        "affirmative action helps minorities get jobs",
        "affirmative action opens college doors",
        "affirmative action evens the odds",
        "affirmative action is no longer needed",
        "affirmative action is reverse racism",
        "affirmative action is outdated",
        "lower taxes",
        "better roads",
        "cheaper housing",
    ]
    phrases = _Phrases(texts, np.ones(len(texts)), frozenset())
    taken: set[int] = set()
    assert phrases.label(np.arange(6), taken) == "Affirmative action"
    second = phrases.label(np.arange(3, 6), taken)
    assert second and second.casefold() != "affirmative action" and second.lower().startswith("affirmative action")
