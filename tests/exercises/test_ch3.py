"""Chapter 3's exercise checks: the reference answer passes, a typical wrong one gets its hint."""

from __future__ import annotations

import pytest
import torch

from . import checked


def relu3_outputs() -> torch.Tensor:
    """Made-up relu3 outputs for 5,000 images: units 0-1 dead, unit 2 active on 10 images (> 99 % silent)."""
    generator = torch.Generator().manual_seed(0)
    outputs = torch.rand(5_000, 84, generator=generator) + 0.1
    outputs[:, :2] = 0
    outputs[10:, 2] = 0
    return outputs


@pytest.mark.parametrize(
    ("number", "right", "wrong", "hint"),
    [
        ("3.1", (1 / 64, 1), (3 / 4, 1), "multiply, they do not add"),
        ("3.1", (1 / 64, 1), (1 / 4, 1), "one sigmoid layer"),
        ("3.1", (1 / 64, 1), (1 / 8, 1), "not the value σ(0) = 1/2"),
        ("3.1", (1 / 64, 1), (1 / 64, 1 / 64), "reaches 1 at x = 0"),
        ("3.2", 4.0, 2.0, "a second factor 2"),
        ("3.2", 4.0, 0.25, "the question asks for tanh'(0) / σ'(0)"),
        ("3.3", "b", "c", "does output negative values"),
        ("3.3", "(b)", "a", "boundedness is not what revives a unit"),
        ("3.5", "b", "d", "not of training"),
        ("3.5", "B", "c", "rewards luck"),
    ],
)
def test_right_answer_passes_and_wrong_one_gets_its_hint(
    number: str, right, wrong, hint: str, right_then_wrong
) -> None:
    right_then_wrong(number, right, wrong, hint)


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (lambda out: (out, 3, 3), "dead means a share of exactly 1"),
        (lambda out: (out, 2, 1), "includes the dead units"),
        (lambda out: (out, 2, 4), "share of zero outputs is above 0.99"),
        (lambda out: (out - 0.5, 2, 3), "not after fc1"),
        (lambda out: (out[:2_000], 2, 3), "use all 5,000 validation images"),
        (lambda out: (out.T, 2, 3), "one row per image and 84 columns"),
    ],
)
def test_dead_units_are_recounted_from_the_outputs(wrong, hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = relu3_outputs()
    assert checked("3.4", (outputs, 2, 3))
    assert "✔ Exercise 3.4: right." in capsys.readouterr().out
    assert not checked("3.4", wrong(outputs))
    assert hint in capsys.readouterr().out


def test_a_malformed_answer_gets_a_hint_not_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert not checked("3.1", 1 / 64)
    assert "could not be checked" in capsys.readouterr().out
