"""fastconv.topk and fastconv.metrics on hand-made cases a wrong tie-break or off-by-one fails,
and against a brute-force definition on random scores full of ties."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastconv
from fastconv.classify import imagenet_labels, softmax
from fastconv.metrics import topk_accuracy, topk_correct, topk_error


def test_imagenet_labels_ship_in_standard_order():
    labels = imagenet_labels()
    assert len(labels) == 1000 and len(set(labels)) == 1000
    assert labels[0] == "tench" and labels[1] == "goldfish" and labels[281] == "tabby"
    assert labels[285] == "Egyptian cat" and labels[999] == "toilet tissue"


def test_topk_probabilities_are_kept_and_ordered():
    probs = np.array([0.1, 0.6, 0.05, 0.25])
    assert fastconv.topk(probs, k=3, labels=["a", "b", "c", "d"]) == [("b", 0.6), ("d", 0.25), ("a", 0.1)]


def test_topk_applies_softmax_to_logits():
    logits = np.array([[2.0, 1.0, 0.0], [-1.0, 3.0, 3.5]])
    got = fastconv.topk(logits, k=2)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert [c for c, _ in got[0]] == [0, 1] and [c for c, _ in got[1]] == [2, 1]
    np.testing.assert_allclose([v for _, v in got[0]], p[0, [0, 1]], rtol=1e-12)
    np.testing.assert_allclose([v for _, v in got[1]], p[1, [2, 1]], rtol=1e-12)
    # Told explicitly: scores that look like probabilities are treated as logits when logits=True.
    looks_like_probs = np.array([0.5, 0.3, 0.2])
    got = fastconv.topk(looks_like_probs, k=1, logits=True)
    np.testing.assert_allclose(got[0][1], softmax(looks_like_probs)[0], rtol=1e-12)
    assert fastconv.topk(np.array([0.5, 0.3, 0.2]), k=1, logits=False) == [(0, 0.5)]


def test_topk_ties_go_to_the_lower_index():
    probs = np.array([0.1, 0.3, 0.3, 0.3])
    assert [c for c, _ in fastconv.topk(probs, k=2)] == [1, 2]
    assert [c for c, _ in fastconv.topk(probs[::-1].copy(), k=2)] == [0, 1]


def test_topk_defaults_to_imagenet_names_and_clips_k():
    logits = np.zeros((2, 1000))
    logits[0, 281], logits[1, 999] = 10.0, 10.0
    got = fastconv.topk(logits, k=1)
    assert got[0][0][0] == "tabby" and got[1][0][0] == "toilet tissue"
    assert len(fastconv.topk(np.array([0.2, 0.8]), k=5)) == 2


def test_metrics_off_by_one_and_ties():
    #                  class: 0    1    2    3    4
    scores = np.array([[0.9, 0.8, 0.7, 0.6, 0.5],    # target 2 has rank 2 (0-based)
                       [0.5, 0.5, 0.5, 0.1, 0.1],    # target 2 ties with 0 and 1, which rank first
                       [0.1, 0.5, 0.5, 0.5, 0.0],    # target 1 ties with 2 and 3 and ranks first
                       [0.2, 0.2, 0.2, 0.2, 0.2]])   # all equal: target 4 ranks last
    targets = np.array([2, 2, 1, 4])
    np.testing.assert_array_equal(topk_correct(scores, targets, 1), [False, False, True, False])
    np.testing.assert_array_equal(topk_correct(scores, targets, 2), [False, False, True, False])
    np.testing.assert_array_equal(topk_correct(scores, targets, 3), [True, True, True, False])
    np.testing.assert_array_equal(topk_correct(scores, targets, 4), [True, True, True, False])
    np.testing.assert_array_equal(topk_correct(scores, targets, 5), [True, True, True, True])
    assert topk_error(scores, targets, 1) == 0.75 and topk_accuracy(scores, targets, 3) == 0.75


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 8), classes=st.integers(1, 12), k=st.integers(1, 14), seed=st.integers(0, 2**31))
def test_metrics_agree_with_topk_on_random_ties(n, classes, k, seed):
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 3, (n, classes)).astype(np.float64)  # few distinct values: many ties
    targets = rng.integers(0, classes, n)
    listed = fastconv.topk(scores, k=k, logits=False)
    listed = listed if scores.ndim == 2 else [listed]
    expected = [t in [c for c, _ in row] for t, row in zip(targets, listed)]
    # Brute force from the definition: sort (score desc, index asc), look at the first k.
    brute = [t in sorted(range(classes), key=lambda c: (-s[c], c))[:k] for s, t in zip(scores, targets)]
    np.testing.assert_array_equal(topk_correct(scores, targets, k), expected)
    np.testing.assert_array_equal(expected, brute)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="NaN"):
        fastconv.topk(np.array([0.1, np.nan]))
    with pytest.raises(ValueError, match="k must be a positive int"):
        fastconv.topk(np.array([0.1, 0.9]), k=0)
    with pytest.raises(ValueError, match="labels has 3 names but the scores have 2 classes"):
        fastconv.topk(np.array([0.1, 0.9]), labels=["a", "b", "c"])
    with pytest.raises(ValueError, match="shape"):
        fastconv.topk(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"targets\[1\] = 3 is not a class index in \[0, 3\)"):
        topk_error(np.zeros((2, 3)), [0, 3], 1)
    with pytest.raises(ValueError, match=r"targets has shape \(3,\), expected \(2,\)"):
        topk_error(np.zeros((2, 3)), [0, 1, 2], 1)
    with pytest.raises(TypeError, match="integer class indices"):
        topk_error(np.zeros((2, 3)), [0.0, 1.0], 1)
