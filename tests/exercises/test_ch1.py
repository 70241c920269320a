"""Chapter 1's exercise checks: the reference answer passes, a typical wrong one gets its hint."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from lenet_utils import CLASS_NAMES, DEFAULT_SEED, DEFAULT_VAL_SIZE, SPLIT_SIZES, train_val_indices
from lenet_utils.exercises import ch1

from . import checked


@pytest.fixture
def tiny_train(monkeypatch: pytest.MonkeyPatch) -> tuple[torch.Tensor, torch.Tensor]:
    """Twenty 2 × 2 images, two per class, whose brightness grows with the class index."""
    labels = torch.arange(10).repeat(2)
    images = (labels * 20 + torch.tensor([0, 10]).repeat_interleave(10)).to(torch.uint8)
    images = images[:, None, None].expand(-1, 2, 2).contiguous()
    monkeypatch.setattr(ch1, "_training_images", lambda: (images, labels))
    return images, labels


def brightness(images: torch.Tensor, labels: torch.Tensor, scale: float = 255) -> pd.Series:
    """The reference solution of exercise 1.3, on any images."""
    means = [(images[labels == c].double() / scale).mean().item() for c in range(10)]
    return pd.Series(means, index=CLASS_NAMES).sort_values()


def test_1_2_accepts_the_right_letter_and_explains_a_wrong_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert checked("1.2", "(a)")
    assert not checked("1.2", "c")
    assert "maximum" in capsys.readouterr().out


def test_1_3_accepts_the_reference_solution(tiny_train, capsys: pytest.CaptureFixture[str]) -> None:
    assert checked("1.3", brightness(*tiny_train))
    assert "✔ Exercise 1.3: right." in capsys.readouterr().out


@pytest.mark.parametrize(
    ("mistake", "hint"),
    [
        (lambda s: s.sort_values(ascending=False), "sort them from darkest to brightest"),
        (lambda s: s.drop("Bag"), "one value per class"),
        (lambda s: s + 0.01, "average all pixels"),
    ],
)
def test_1_3_hints_at_a_typical_mistake(tiny_train, mistake, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert not checked("1.3", mistake(brightness(*tiny_train)))
    assert hint in capsys.readouterr().out


def test_1_3_notices_the_0_to_255_scale(tiny_train, capsys: pytest.CaptureFixture[str]) -> None:
    assert not checked("1.3", brightness(*tiny_train, scale=1))
    assert "divide the pixels by 255" in capsys.readouterr().out


def test_1_4_accepts_the_overlap_of_the_two_validation_parts(capsys: pytest.CaptureFixture[str]) -> None:
    _, ours = train_val_indices(SPLIT_SIZES["train"], val_size=DEFAULT_VAL_SIZE, seed=DEFAULT_SEED)
    _, other = train_val_indices(SPLIT_SIZES["train"], val_size=DEFAULT_VAL_SIZE, seed=0)
    shared = len(set(ours.tolist()) & set(other.tolist()))
    assert checked("1.4", shared)
    assert not checked("1.4", shared / DEFAULT_VAL_SIZE)
    assert "not their share" in capsys.readouterr().out


def test_1_4_notices_the_training_parts_were_compared(capsys: pytest.CaptureFixture[str]) -> None:
    assert not checked("1.4", 50_405)
    assert "validation parts, not in both training parts" in capsys.readouterr().out


@pytest.mark.real_data
@pytest.mark.slow
def test_1_3_on_the_real_training_images(real_splits, capsys: pytest.CaptureFixture[str]) -> None:
    ch1._training_images.cache_clear()
    assert checked("1.3", brightness(*real_splits["train"]))
    assert brightness(*real_splits["train"]).index[[0, -1]].tolist() == ["Sandal", "Coat"]
