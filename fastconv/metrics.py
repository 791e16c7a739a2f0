"""Classification metrics: top-k accuracy and error (the ImageNet challenge's definition).

An image is correct at k when its true class is among the k highest scores. Ties follow the
ranking rule of fastconv.topk (equal scores: lower class index first), so an image counts as
correct exactly when fastconv.topk(scores, k) lists its true class. Concretely, the true class t
of a row s has rank #{c : s[c] > s[t]} + #{c < t : s[c] == s[t]}, and is correct when rank < k.
"""
from __future__ import annotations

import numpy as np

from .classify import as_scores

__all__ = ["topk_correct", "topk_accuracy", "topk_error"]


def _targets(targets, n: int, classes: int) -> np.ndarray:
    t = np.asarray(targets)
    if t.ndim == 0:
        t = t[None]
    if not np.issubdtype(t.dtype, np.integer) or t.dtype == bool:
        raise TypeError(f"targets must be integer class indices, got dtype {t.dtype}")
    if t.shape != (n,):
        raise ValueError(f"targets has shape {np.shape(targets)}, expected ({n},): one class index per row of scores")
    bad = np.flatnonzero((t < 0) | (t >= classes))
    if bad.size:
        raise ValueError(f"targets[{bad[0]}] = {t[bad[0]]} is not a class index in [0, {classes})")
    return t.astype(np.intp)


def topk_correct(scores, targets, k: int = 1) -> np.ndarray:
    """Per image: True when its target class is among the k highest scores. (N,) bool."""
    s = as_scores(scores)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    t = _targets(targets, s.shape[0], s.shape[1])
    target_score = s[np.arange(s.shape[0]), t][:, None]
    lower_index = np.arange(s.shape[1])[None, :] < t[:, None]
    rank = np.sum(s > target_score, axis=1) + np.sum((s == target_score) & lower_index, axis=1)
    return rank < k


def topk_accuracy(scores, targets, k: int = 1) -> float:
    """Fraction of images whose target is among their k highest scores."""
    return float(np.mean(topk_correct(scores, targets, k)))


def topk_error(scores, targets, k: int = 1) -> float:
    """1 - top-k accuracy (ImageNet's top-1 / top-5 error)."""
    return 1.0 - topk_accuracy(scores, targets, k)
