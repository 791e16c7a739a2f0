"""Top-k classification: scores in, (label, probability) lists out.

Ranking rule (shared with fastconv.metrics): classes are ordered by score, highest first; equal
scores are ordered by class index, lowest first (a stable sort on the negated scores). So the
answer never depends on the sorting algorithm, and topk and topk_error always agree.
"""
from __future__ import annotations

import functools
from importlib import resources

import numpy as np

__all__ = ["topk", "imagenet_labels", "softmax", "load_labels"]


@functools.lru_cache(maxsize=1)
def _imagenet_labels() -> tuple[str, ...]:
    text = resources.files("fastconv").joinpath("data/imagenet_classes.txt").read_text(encoding="utf-8")
    return tuple(line for line in text.splitlines() if line)


def imagenet_labels() -> list[str]:
    """The 1000 ImageNet-1k class names in the standard index order (0 = 'tench')."""
    return list(_imagenet_labels())


def load_labels(path) -> list[str]:
    """Class names from a text file, one per line in index order (blank lines ignored)."""
    with open(path, encoding="utf-8") as f:
        labels = [line.strip() for line in f if line.strip()]
    if not labels:
        raise ValueError(f"label file {path} has no labels: expected one class name per line")
    return labels


def softmax(logits, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax in float64 (the maximum is subtracted first)."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - np.max(z, axis=axis, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=axis, keepdims=True)


def _looks_like_probabilities(scores: np.ndarray) -> bool:
    """Rows in [0, 1] that sum to 1 (within float32 rounding over 1000 classes) are probabilities."""
    return bool(np.all(scores >= 0) and np.all(scores <= 1)
                and np.allclose(scores.sum(axis=-1), 1.0, rtol=0, atol=1e-3))


def as_scores(scores, name: str = "scores") -> np.ndarray:
    """A finite 2-D float64 array (N, classes); a 1-D vector is one image."""
    arr = np.asarray(scores)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)) or arr.dtype == bool:
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise ValueError(f"{name} has shape {np.shape(scores)}, expected (classes,) or (N, classes) with classes >= 1")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinity (check the model's output)")
    return arr


def ranking(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k best classes per row, best first, ties to the lower index."""
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def topk(scores, k: int = 5, labels=None, logits: bool | None = None):
    """The k most likely classes of each image as (label, probability), most likely first.

    scores: (classes,) for one image -> one list; (N, classes) -> a list per image.
    labels: None (ImageNet names when there are 1000 classes, else the class indices), or a
        sequence of names, one per class.
    logits: True (apply a softmax), False (scores are already probabilities), None (detect: rows
        in [0, 1] summing to 1 are probabilities, anything else is logits).
    Equal scores rank by class index, lowest first.
    """
    single = np.ndim(scores) == 1
    s = as_scores(scores)
    classes = s.shape[1]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    k = min(int(k), classes)
    if labels is None:
        labels = _imagenet_labels() if classes == 1000 else range(classes)
    elif len(labels) != classes:
        raise ValueError(f"labels has {len(labels)} names but the scores have {classes} classes")
    if logits is None:
        logits = not _looks_like_probabilities(s)
    probs = softmax(s) if logits else s
    # Rank the scores themselves (softmax is monotonic), exactly as fastconv.metrics does.
    best = ranking(s, k)
    out = [[(labels[int(c)], float(probs[i, c])) for c in row] for i, row in enumerate(best)]
    return out[0] if single else out
