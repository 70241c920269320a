"""Chapter 3's exercise checks: the right answer passes in every form, every typical wrong one gets its hint."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch

from . import assert_rejected, assert_right
from .conftest import NONSENSE


def relu3_outputs() -> torch.Tensor:
    """Made-up relu3 outputs for 5,000 images: units 0-1 dead, unit 2 active on 10 images (> 99 % silent)."""
    generator = torch.Generator().manual_seed(0)
    outputs = torch.rand(5_000, 84, generator=generator) + 0.1
    outputs[:, :2] = 0
    outputs[10:, 2] = 0
    return outputs


@pytest.mark.parametrize(
    ("number", "answer"),
    [
        ("3.1", (1 / 64, 1)),
        ("3.1", (0.25**3, 1.0)),
        ("3.1", [0.0156, 1]),
        ("3.1", (0.016, 1)),
        ("3.1", (0.015625, 1)),
        ("3.1", (Fraction(1, 64), 1)),
        ("3.1", np.array([1 / 64, 1])),
        ("3.1", torch.tensor([1 / 64, 1])),
        ("3.2", 4),
        ("3.2", 4.0),
        ("3.2", torch.tensor(0.5) / torch.tensor(0.125)),
        ("3.2", np.float32(4)),
        ("3.3", "b"),
        ("3.3", "(b)"),
        ("3.5", "B"),
    ],
)
def test_the_right_answer_passes_in_every_form(number: str, answer, capsys) -> None:
    assert_right(number, answer, capsys)


SECRETS = {"3.1": ("1/64", "0.0156", "0.016", "reaches 1")}


@pytest.mark.parametrize(
    ("number", "answer", "hint"),
    [
        ("3.1", (3 / 4, 1), "multiply, they do not add"),
        ("3.1", (1 / 4, 1), "one sigmoid layer"),
        ("3.1", (1 / 8, 1), "not the value σ(0) = 1/2"),
        ("3.1", (1 / 64, 1 / 64), "tanh's slope"),
        ("3.1", (1 / 64, 3), "tanh's slope"),
        ("3.1", (0.015, 1), "do not cut digits off"),  # a truncation of 1/64
        ("3.1", (0.0166, 1), "close, but not it"),  # a near miss
        ("3.1", (0.02, 1), "largest value of σ(x)(1 - σ(x))"),  # rounded too far
        ("3.1", (1, 1 / 64), "largest value of σ(x)(1 - σ(x))"),  # swapped
        ("3.1", (float("nan"), float("nan")), "not a result"),
        ("3.1", torch.tensor([float("nan"), 1.0]), "not a result"),
        ("3.1", 1 / 64, "two numbers"),
        ("3.2", 2.0, "a second factor 2"),
        ("3.2", 0.25, "the question asks for tanh'(0) / σ'(0)"),
        ("3.2", 4.1, "differentiate tanh(x) = 2σ(2x) - 1"),
        ("3.2", 3.9, "differentiate tanh(x) = 2σ(2x) - 1"),
        ("3.2", 1.0, "differentiate tanh(x) = 2σ(2x) - 1"),
        ("3.2", (4, 4), "one number"),
        ("3.3", "a", "boundedness is not what revives a unit"),
        ("3.3", "c", "does output negative values"),
        ("3.3", "d", "only for positive inputs"),
        ("3.3", ["b"], "one letter"),
        ("3.5", "a", "one pair of runs"),
        ("3.5", "c", "rewards luck"),
        ("3.5", "d", "not of training"),
    ],
)
def test_a_typical_wrong_answer_gets_its_hint(number: str, answer, hint: str, capsys) -> None:
    assert_rejected(number, answer, hint, capsys, *SECRETS.get(number, ()))


RIGHT_3_4 = {
    "the solution's tensors and ints": lambda out: (out, 2, 3),
    "a list": lambda out: [out, 2, 3],
    "NumPy outputs": lambda out: (out.numpy(), 2, 3),
    "float16 outputs": lambda out: (out.half(), 2, 3),
    "outputs that require grad": lambda out: (out.clone().requires_grad_(), 2, 3),
    "tensor counts": lambda out: (out, torch.tensor(2), torch.tensor(3)),
    "NumPy counts": lambda out: (out, np.int64(2), np.int64(3)),
}


@pytest.mark.parametrize("form", RIGHT_3_4.values(), ids=RIGHT_3_4.keys())
def test_3_4_accepts_the_outputs_and_counts_in_every_form(form, capsys) -> None:
    assert_right("3.4", form(relu3_outputs()), capsys)


WRONG_3_4 = {
    "every unit dead": (lambda out: (torch.zeros(5_000, 84), 84, 84), "a trained network answers"),
    "every unit constant": (lambda out: (torch.ones(5_000, 84), 0, 0), "a trained network answers"),
    "one row copied": (lambda out: (out[:1].expand(5_000, -1), 2, 3), "a trained network answers"),
    "mostly silent for dead": (lambda out: (out, 3, 3), "dead means a share of exactly 1"),
    "dead left out of mostly": (lambda out: (out, 2, 1), "includes the dead units"),
    "a unit too many": (lambda out: (out, 2, 4), "share of zero outputs is above 0.99"),
    "after fc1": (lambda out: (out - 0.5, 2, 3), "not after fc1"),
    "2,000 images": (lambda out: (out[:2_000], 2, 3), "use all 5,000 validation images"),
    "transposed": (lambda out: (out.T, 2, 3), "one row per image and 84 columns"),
    "NaN outputs": (lambda out: (out * float("nan"), 2, 3), "not finite"),
    "a fractional count": (lambda out: (out, 2.5, 3), "not a whole number"),
    "two parts": (lambda out: (2, 3), "three things"),
    "counts alone": (lambda out: (None, 2, 3), "could not be read"),
}


@pytest.mark.parametrize(("wrong", "hint"), WRONG_3_4.values(), ids=WRONG_3_4.keys())
def test_3_4_recounts_the_units_from_the_outputs(wrong, hint: str, capsys) -> None:
    assert_rejected("3.4", wrong(relu3_outputs()), hint, capsys)


@pytest.mark.parametrize("number", ["3.1", "3.2", "3.3", "3.4", "3.5"])
@pytest.mark.parametrize("answer", NONSENSE)
def test_nonsense_gets_a_hint_not_a_traceback(number: str, answer, capsys) -> None:
    assert_rejected(number, answer, "", capsys, *SECRETS.get(number, ()))
