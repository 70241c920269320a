"""Checks for the exercises of chapter 1, the data; each recomputes its answer from the data or the split."""

from __future__ import annotations

from functools import cache
from typing import Any

import torch

from ..data import CLASS_NAMES, DEFAULT_VAL_SIZE, SPLIT_SIZES, load_split, train_val_indices
from ..runtime import DEFAULT_SEED
from . import choice, exercise

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


@cache
def _training_images() -> tuple[torch.Tensor, torch.Tensor]:
    """The official training images and labels (loaded once; tests replace this with tiny data)."""
    return load_split("train")


@exercise("1.3")
def check_1_3(answer: Any) -> str | None:
    """Mean pixel value (0..1) per class, sorted from darkest to brightest, as a pandas Series."""
    images, labels = _training_images()
    expected = {name: (images[labels == c].double() / 255).mean().item() for c, name in enumerate(CLASS_NAMES)}
    names, values = list(answer.index), [float(v) for v in answer.to_numpy()]
    if sorted(names) != sorted(CLASS_NAMES):
        return "give one value per class, indexed by the class names (index=CLASS_NAMES)"
    got = dict(zip(names, values, strict=True))
    if all(abs(got[n] - 255 * v) < 0.5 for n, v in expected.items()):
        return "these are on the 0..255 scale: divide the pixels by 255 before averaging"
    if any(abs(got[n] - v) > 1e-3 for n, v in expected.items()):
        return "average all pixels of all training images of each class (train_labels == c selects them)"
    if values != sorted(values):
        return "the values are right, but sort them from darkest to brightest (.sort_values())"
    return None


@exercise("1.4")
def check_1_4(answer: Any) -> str | None:
    """The number of validation images that the seed-59 and the seed-0 split share."""
    total = SPLIT_SIZES["train"]
    _, ours = train_val_indices(total, val_size=DEFAULT_VAL_SIZE, seed=DEFAULT_SEED)
    _, other = train_val_indices(total, val_size=DEFAULT_VAL_SIZE, seed=0)
    shared = len(set(ours.tolist()) & set(other.tolist()))
    if isinstance(answer, float) and 0 < answer < 1:
        return "give the number of shared validation images, not their share"
    if int(answer) == shared:
        return None
    if int(answer) > DEFAULT_VAL_SIZE:
        return "count the images in both validation parts, not in both training parts"
    return "intersect the two validation parts: len(set(a.tolist()) & set(b.tolist()))"
