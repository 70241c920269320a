"""Checks for the exercises of chapter 4, confusion analysis; each judges the objects the student passes."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..data import CLASS_NAMES
from . import choice, exercise

UPPER_BODY = ("T-shirt/top", "Pullover", "Coat", "Shirt")

check_4_1 = exercise("4.1")(
    choice(
        "b",
        {
            "a": "recall divides by the images that are of a class: a row total; a column holds predictions",
            "c": "F1 combines two of these matrices' readings; one normalization gives only one of them",
            "d": "the diagonal holds correct predictions only: divided by a column total, of what share?",
        },
    )
)


@exercise("4.2")
def check_4_2(answer: Any) -> str | None:
    """The column-normalized 10 × 10 test confusion matrix."""
    matrix = np.asarray(answer, dtype=float)
    if matrix.shape != (10, 10):
        return "pass the 10 × 10 matrix that confusion_matrix(test_labels, test_pred, normalize=...) returns"
    columns_one, rows_one = np.allclose(matrix.sum(axis=0), 1), np.allclose(matrix.sum(axis=1), 1)
    if columns_one:
        return None
    if rows_one:
        return "each row sums to 1: that is normalize='true' (by true class); precision needs normalize='pred'"
    return "each column should sum to 1: normalize='pred' divides every column by its total"


@exercise("4.3")
def check_4_3(answer: Any) -> str | None:
    """(indices of the 16 most confident mistakes, test probabilities N × 10, test labels N)."""
    picked, probs, labels = (torch.as_tensor(part) for part in answer)
    confidence, predicted = probs.max(dim=1)
    wrong = predicted != labels
    if len(picked) != 16 or len(set(picked.tolist())) != 16:
        return "pick 16 different test images"
    if not wrong[picked].all():
        return "some of your images were classified correctly: keep only indices where test_pred != test_labels"
    threshold = confidence[wrong].sort(descending=True).values[15]
    if (confidence[picked] < threshold).any():
        return "there are more confident mistakes than some you picked: sort the mistakes by confidence, descending"
    return None


@exercise("4.4")
def check_4_4(answer: Any) -> str | None:
    """A tensor mapping each of the 10 class indices to its class in the 7-class problem."""
    merge = [int(v) for v in answer]
    if len(merge) != len(CLASS_NAMES):
        return "give one new label for each of the 10 class indices (torch.arange(10), then overwrite)"
    upper = {merge[CLASS_NAMES.index(name)] for name in UPPER_BODY}
    if len(upper) != 1:
        return "T-shirt/top, Pullover, Coat and Shirt must all get the same new label"
    others = [merge[i] for i, name in enumerate(CLASS_NAMES) if name not in UPPER_BODY]
    if len(set(others)) != len(others) or upper & set(others):
        return "only the four upper-body classes merge: Dress, Trouser, Bag and the footwear keep labels of their own"
    return None


@exercise("4.5")
def check_4_5(answer: Any) -> str | None:
    """The highest Shirt recall any model could reach, as a fraction."""
    value = float(answer)
    if value > 1:
        return "give a fraction between 0 and 1 (0.5 for 50 %)"
    if abs(value - 19 / 20) <= 0.005:
        return None
    if abs(value - 1 / 20) <= 0.005:
        return "that is the share of bad labels; the recall any model can reach is what is left"
    return "a model that sees every shirt right still disagrees with each bad label: recall at most 1 − 1/20"
