"""Chapter 1's exercise checks: the right answer passes in every form, every typical wrong one gets its hint."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from torch.utils.data import TensorDataset

from lenet_utils import CLASS_NAMES
from lenet_utils.data import normalize
from lenet_utils.exercises import book_data, ch1

from . import assert_rejected, assert_right
from .conftest import NONSENSE

SHARED = 405  # validation images the seed-59 and seed-0 splits share (recomputed by the check)


@pytest.fixture
def tiny_train(monkeypatch: pytest.MonkeyPatch) -> tuple[torch.Tensor, torch.Tensor]:
    """Twenty 2 × 2 images, two per class, whose brightness grows with the class index."""
    labels = torch.arange(10).repeat(2)
    images = (labels * 20 + torch.tensor([0, 10]).repeat_interleave(10)).to(torch.uint8)
    images = images[:, None, None].expand(-1, 2, 2).contiguous()
    splits = SimpleNamespace(train=TensorDataset(normalize(images[:15], 0.2, 0.1), labels[:15]), mean=0.2, std=0.1)
    splits.val = TensorDataset(normalize(images[15:], 0.2, 0.1), labels[15:])
    splits.test = TensorDataset(normalize(images + 5, 0.2, 0.1), labels)  # a test set a little brighter
    monkeypatch.setattr(ch1, "book_data", lambda: splits)
    return images, labels


def brightness(images: torch.Tensor, labels: torch.Tensor, scale: float = 255) -> pd.Series:
    """The reference solution of exercise 1.3, on any images."""
    means = [(images[labels == c].double() / scale).mean().item() for c in range(10)]
    return pd.Series(means, index=CLASS_NAMES).sort_values()


@pytest.mark.parametrize("answer", ["a", "(a)", " A ", "a)"])
def test_1_2_accepts_the_letter_in_any_usual_spelling(answer, capsys) -> None:
    assert_right("1.2", answer, capsys)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [("b", "maximum lie below"), ("c", "best of 20 lands"), ("d", "does tell us"), ("e", "one letter")]
    + [(nonsense, "one letter") for nonsense in NONSENSE],
)
def test_1_2_rejects_every_other_answer_with_a_hint(answer, hint: str, capsys) -> None:
    assert_rejected("1.2", answer, hint, capsys)


RIGHT_1_3 = {
    "the solution's Series": lambda s: s,
    "rounded to 3 decimals as printed": lambda s: s.round(3),
    "a dict": lambda s: s.to_dict(),
    "float32 values": lambda s: s.astype("float32"),
    "named": lambda s: s.rename("mean pixel value"),
}


@pytest.mark.parametrize("form", RIGHT_1_3.values(), ids=RIGHT_1_3.keys())
def test_1_3_accepts_the_class_means_in_every_form(tiny_train, form, capsys) -> None:
    assert_right("1.3", form(brightness(*tiny_train)), capsys)


WRONG_1_3 = {
    "brightest first": (lambda s: s.sort_values(ascending=False), "sort them from darkest to brightest"),
    "in class order": (lambda s: s.sort_index(), "sort them from darkest to brightest"),
    "a class missing": (lambda s: s.drop("Bag"), "one value per class"),
    "indexed by number": (lambda s: s.reset_index(drop=True), "one value per class"),
    "off by 0.01": (lambda s: s + 0.01, "average all pixels"),
    "made up, all 0.3": (lambda s: s * 0 + 0.3, "average all pixels"),
    "rounded too far": (lambda s: s.round(2), "2 significant figures or more"),  # 0.0196 as 0.02
    "cut off": (lambda s: np.trunc(s * 100) / 100, "not cut off"),
    "5 % off, not a rounding": (lambda s: s * 1.05, "average all pixels"),  # a wrong method is never "close"
    "means of empty selections": (lambda s: s * math.nan, "mean over nothing"),
    "a list of the values": (lambda s: s.tolist(), "pandas Series"),
    "the class names alone": (lambda s: list(s.index), "pandas Series"),
}


@pytest.mark.parametrize(("mistake", "hint"), WRONG_1_3.values(), ids=WRONG_1_3.keys())
def test_1_3_rejects_a_typical_mistake_with_its_hint(tiny_train, mistake, hint: str, capsys) -> None:
    assert_rejected("1.3", mistake(brightness(*tiny_train)), hint, capsys)


def test_1_3_notices_the_test_images_means(tiny_train, capsys) -> None:
    assert_rejected("1.3", brightness(tiny_train[0] + 5, tiny_train[1]), "the test images' means", capsys)


def test_1_3_notices_the_0_to_255_scale(tiny_train, capsys) -> None:
    assert_rejected("1.3", brightness(*tiny_train, scale=1), "divide the pixels by 255", capsys)


@pytest.mark.parametrize("answer", [SHARED, 405.0, np.int64(SHARED), torch.tensor(SHARED), np.array([SHARED])])
def test_1_4_accepts_the_overlap_as_any_whole_number(answer, capsys) -> None:
    assert_right("1.4", answer, capsys)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (SHARED / 5_000, "not their share"),
        (100 * SHARED / 5_000, "not their share"),  # in percent, 8.1: not "count again"
        (50_000 + SHARED, "not in both training parts"),
        (5_000, "the same one"),
        (SHARED + 0.9, "not a whole number"),
        (SHARED + 1, "count the indices that both"),  # not the solution's code: it was the hint
        (417, "count the indices that both"),  # what chance alone would give
        (list(range(SHARED)), "not a list of them"),  # the shared indices themselves: their count is the answer
        ("405", "give a number"),
        ([SHARED, SHARED], "one number"),
    ]
    + [(nonsense, "") for nonsense in NONSENSE],
)
def test_1_4_rejects_a_typical_mistake_with_its_hint(answer, hint: str, capsys) -> None:
    assert_rejected("1.4", answer, hint, capsys, "405")


@pytest.mark.real_data
@pytest.mark.slow
def test_1_3_on_the_real_training_images(real_splits, capsys) -> None:
    book_data.cache_clear()
    assert_right("1.3", brightness(*real_splits["train"]), capsys)
    assert brightness(*real_splits["train"]).index[[0, -1]].tolist() == ["Sandal", "Coat"]
    assert_rejected("1.3", brightness(*real_splits["train"]).round(1), "2 significant figures", capsys)
