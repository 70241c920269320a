"""Checks for the exercises of chapter 1, the data; each recomputes its answer from the data or the split."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import torch

from ..data import CLASS_NAMES, DEFAULT_VAL_SIZE, SPLIT_SIZES, DataSplits, train_val_indices
from ..runtime import DEFAULT_SEED
from . import Unreadable, agrees, book_data, choice, count, exercise, matches, number

check_1_2 = exercise("1.2")(
    choice(
        "a",
        {
            "b": "the reported number is the best of 20, not a typical one: can a maximum lie below the mean?",
            "c": "unbiased would mean the best of 20 lands on average at the true accuracy; does a maximum?",
            "d": "the question says the variants are equally good, so the reported number does tell us something",
        },
    )
)


def _class_means(data: DataSplits, images: torch.Tensor, labels: torch.Tensor) -> list[float]:
    """Each class's mean pixel value of `images`, normalized as `data` is, back on the 0..1 scale."""
    return [images[labels == c].double().mean().item() * data.std + data.mean for c in range(len(CLASS_NAMES))]


@exercise("1.3")
def check_1_3(answer: Any) -> str | None:
    """A pandas Series of each class's mean pixel value (0..1), indexed by class name, darkest first."""
    if not isinstance(answer, pd.Series | Mapping):
        raise Unreadable("give a pandas Series of the ten class means, indexed by the class names (index=CLASS_NAMES)")
    got = {str(name): number(value) for name, value in answer.items()}
    if len(answer) != len(CLASS_NAMES) or sorted(got) != sorted(CLASS_NAMES):
        return "give one value per class, indexed by the class names (index=CLASS_NAMES)"
    data = book_data()  # every training image: the split's training and validation parts
    images, labels = (torch.cat(pair) for pair in zip(data.train.tensors, data.val.tensors, strict=True))
    expected = dict(zip(CLASS_NAMES, _class_means(data, images, labels), strict=True))
    if all(abs(got[name] - 255 * mean) < 0.5 for name, mean in expected.items()):
        return "these are on the 0..255 scale: divide the pixels by 255 before averaging"
    on_test = _class_means(data, *data.test.tensors)
    if all(matches(got[name], mean, rel_tol=1e-4) for name, mean in zip(CLASS_NAMES, on_test, strict=True)):
        return "these are the test images' means: the question is about the training images"
    if not agrees([got[name] for name in expected], list(expected.values())):
        return "average all pixels of all training images of each class (train_labels == c selects them)"
    if list(got) != sorted(expected, key=expected.get):
        return "the values are right, but sort them from darkest to brightest (.sort_values())"
    return None


@exercise("1.4")
def check_1_4(answer: Any) -> str | None:
    """The number of validation images that the seed-59 and the seed-0 split share."""
    total = SPLIT_SIZES["train"]
    _, ours = train_val_indices(total, val_size=DEFAULT_VAL_SIZE, seed=DEFAULT_SEED)
    _, other = train_val_indices(total, val_size=DEFAULT_VAL_SIZE, seed=0)
    shared = len(set(ours.tolist()) & set(other.tolist()))
    if 0 < number(answer) < 1 or matches(number(answer), 100 * shared / DEFAULT_VAL_SIZE):
        return "give the number of shared validation images, not their share"
    got = count(answer)
    if got == shared:
        return None
    if got == DEFAULT_VAL_SIZE:
        return "all of them would mean the two splits are the same one: make the second split with seed=0"
    if got > DEFAULT_VAL_SIZE:
        return "count the images in both validation parts, not in both training parts"
    return "count the indices that both validation parts hold, each once"
