"""Chapter 4's exercise checks: the reference answer passes, a typical wrong one gets its hint."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import confusion_matrix

from lenet_utils import CLASS_NAMES

from . import checked


@pytest.fixture
def predictions() -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax-like probabilities of 200 made-up test images and their labels, about 70 % right."""
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(200) % 10
    logits = torch.randn(200, 10, generator=generator)
    logits[torch.arange(200), labels] += 1.5
    return logits.softmax(dim=1), labels


def check(number: str, right, wrong, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The right answer passes; the wrong one fails with `hint`."""
    assert checked(number, right)
    assert f"✔ Exercise {number}: right." in capsys.readouterr().out
    assert not checked(number, wrong)
    assert hint in capsys.readouterr().out


def test_4_1_is_precision(capsys: pytest.CaptureFixture[str]) -> None:
    check("4.1", "b", "a", "a column holds predictions", capsys)


def test_4_2_wants_columns_that_sum_to_one(predictions, capsys: pytest.CaptureFixture[str]) -> None:
    probs, labels = predictions
    pred = probs.argmax(dim=1)
    by_column = confusion_matrix(labels, pred, normalize="pred")
    check("4.2", by_column, confusion_matrix(labels, pred, normalize="true"), "normalize='pred'", capsys)


def test_4_3_wants_the_16_most_confident_mistakes(predictions, capsys: pytest.CaptureFixture[str]) -> None:
    probs, labels = predictions
    confidence, pred = probs.max(dim=1)
    wrong = torch.nonzero(pred != labels).squeeze(1)
    most = wrong[confidence[wrong].argsort(descending=True)][:16]
    least = wrong[confidence[wrong].argsort()][:16]
    check("4.3", (most, probs, labels), (least, probs, labels), "sort the mistakes by confidence", capsys)
    right = torch.nonzero(pred == labels).squeeze(1)[:16]
    assert not checked("4.3", (right, probs, labels))
    assert "classified correctly" in capsys.readouterr().out


def test_4_4_merges_exactly_the_four_upper_body_classes(capsys: pytest.CaptureFixture[str]) -> None:
    merge = torch.arange(10)
    for name in ("Pullover", "Coat", "Shirt"):
        merge[CLASS_NAMES.index(name)] = CLASS_NAMES.index("T-shirt/top")
    with_dress = merge.clone()
    with_dress[CLASS_NAMES.index("Dress")] = CLASS_NAMES.index("T-shirt/top")
    check("4.4", merge, with_dress, "Dress, Trouser, Bag and the footwear keep labels", capsys)
    assert not checked("4.4", np.arange(10))
    assert "must all get the same new label" in capsys.readouterr().out


def test_4_5_is_one_minus_the_noise(capsys: pytest.CaptureFixture[str]) -> None:
    check("4.5", 0.95, 0.05, "share of bad labels", capsys)
    assert not checked("4.5", 95)
    assert "fraction between 0 and 1" in capsys.readouterr().out
