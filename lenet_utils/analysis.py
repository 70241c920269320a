"""Confusion-matrix helpers for chapter 4."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix

from .data import CLASS_NAMES


def normalized_confusion(labels: np.ndarray, predictions: np.ndarray) -> np.ndarray:
    """Confusion matrix whose rows (true classes) sum to 1 (explained in chapter 4)."""
    return confusion_matrix(labels, predictions, labels=range(len(CLASS_NAMES)), normalize="true")


def most_confused_pairs(labels: np.ndarray, predictions: np.ndarray, top: int = 5) -> pd.DataFrame:
    """The `top` (true, predicted) class pairs with the most mistakes, with counts and rates (chapter 4)."""
    counts = confusion_matrix(labels, predictions, labels=range(len(CLASS_NAMES)))
    per_class = counts.sum(axis=1)
    np.fill_diagonal(counts, 0)
    order = np.argsort(counts, axis=None)[::-1]
    order = order[counts.flat[order] > 0][:top]  # only real mistakes, even when there are fewer than `top`
    rows = [np.unravel_index(i, counts.shape) for i in order]
    return pd.DataFrame(
        {
            "true class": [CLASS_NAMES[t] for t, _ in rows],
            "predicted as": [CLASS_NAMES[p] for _, p in rows],
            "images": [int(counts[t, p]) for t, p in rows],
            "share of true class": [counts[t, p] / per_class[t] for t, p in rows],
        }
    )
