"""The teaching order: the spread trades priority against the distance to earlier picks (counted once), and each batch mixes in answers drawn at random."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from coder.coding.queue import AT_RANDOM, BATCH, MIXED_BATCHES, max_min, mixed, spread, teaching_order


def test_a_valuable_answer_somewhat_like_a_pick_comes_before_a_different_one_of_little_value():
    # 1.0 x (1 - 0.3) = 0.7 beats 0.6 x 1; with the distance squared (0.49) the less valuable answer came first.
    priority = np.array([1.0, 1.0, 0.6])
    similarity = np.array([[1.0, 0.3, 0.0], [0.3, 1.0, 0.0], [0.0, 0.0, 1.0]])
    assert max_min(priority, similarity) == [0, 1, 2]


def test_a_near_duplicate_of_a_pick_waits_until_everything_different_is_offered():
    priority = np.array([1.0, 0.9, 0.2])
    similarity = np.array([[1.0, 0.95, 0.1], [0.95, 1.0, 0.1], [0.1, 0.1, 1.0]])
    assert max_min(priority, similarity) == [0, 2, 1]


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 12).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, 2**32 - 1))))
def test_each_pick_has_the_most_priority_times_distance_to_its_nearest_pick(case):
    n, seed = case
    rng = np.random.default_rng(seed)
    priority = rng.uniform(0.01, 1.0, n)
    vectors = rng.uniform(0.0, 1.0, (n, 4))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    similarity = vectors @ vectors.T
    order = max_min(priority, similarity)
    assert sorted(order) == list(range(n))
    for k in range(n):
        left = order[k:]
        nearest = similarity[np.ix_(left, order[:k])].max(axis=1) if k else np.zeros(len(left))
        value = priority[left] * (1.0 - nearest)
        assert value[0] >= value.max() - 1e-9


def test_spread_orders_real_texts_through_max_min():
    texts = ["more jobs", "more jobs please", "the war in iraq", "health care costs"]
    order = spread(texts, np.array([1.0, 1.0, 0.5, 0.5]), reference=[])
    assert order[0] in (0, 1) and sorted(order) == [0, 1, 2, 3]
    assert {order[1], order[2]} == {2, 3}  # the other wording of the first pick comes last


def test_two_of_each_batch_are_drawn_from_beyond_the_first_hundred():
    order = list(range(300))
    out = mixed(order, np.random.default_rng(0))
    assert sorted(out) == order
    for b in range(MIXED_BATCHES):
        batch = out[BATCH * b : BATCH * (b + 1)]
        assert batch[: BATCH - AT_RANDOM] == order[(BATCH - AT_RANDOM) * b : (BATCH - AT_RANDOM) * (b + 1)]
        assert all(a >= BATCH * MIXED_BATCHES for a in batch[BATCH - AT_RANDOM :])


def test_the_first_batch_holds_answers_the_suggestions_are_sure_of():
    # 100 doubtful answers and 200 sure ones: uncertainty alone would offer only doubtful ones for ten batches.
    n = 300
    texts = {i: f"answer number {i} about topic {i % 17}" for i in range(n)}
    order = teaching_order(
        list(range(n)),
        lambda chosen: [texts[i] for i in chosen],
        errors=[1.0] * 100 + [0.0] * 200,
        top_rarity=[1.0] * n,
    )
    assert sorted(order) == list(range(n))
    assert sum(1 for a in order[:BATCH] if a >= 100) == AT_RANDOM


def test_a_small_question_keeps_its_order():
    order = list(range(40))
    assert mixed(order, np.random.default_rng(0)) == order
