"""`verify` and `hint_for` (lenet_utils.exercises): any exercise number, any answer, one line of feedback."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from lenet_utils import exercises
from lenet_utils.exercises import Unreadable, agrees, count, exercise, hint_for, matches, number, verify

EVERY_CHECK = ", ".join(
    ["1.2", "1.3", "1.4"] + [f"{c}.{k}" for c in (2, 3, 4) for k in range(1, 6)] + [f"5.{k}" for k in range(1, 7)]
)


@pytest.mark.parametrize("number", [2.1, np.float64(2.1), " 2.1", "2.1 "])
def test_an_exercise_number_may_be_a_float_or_padded(number, capsys) -> None:
    verify(number, (2_416, 1_516))
    assert capsys.readouterr().out == "✔ Exercise 2.1: right.\n"
    assert hint_for(number, (2_416, 1_516)) is None


@pytest.mark.parametrize("unknown", [None, 21, "21", 9.9, "2.9", "", "ch1"])
def test_an_unknown_number_gets_one_line_that_lists_every_check(unknown, capsys) -> None:
    verify(unknown, "a")
    out = capsys.readouterr().out
    assert out.startswith("✘ there is no exercise")
    assert out.count("\n") == 1
    assert out.rstrip().endswith(f"the exercises with checks are {EVERY_CHECK}.")


def test_the_listing_includes_chapters_not_imported_yet(monkeypatch, capsys) -> None:
    monkeypatch.setattr(exercises, "CHECKS", {})
    for name in [name for name in sys.modules if name.startswith("lenet_utils.exercises.ch")]:
        monkeypatch.delitem(sys.modules, name)
    with pytest.raises(KeyError, match=f"the exercises with checks are {EVERY_CHECK}"):
        hint_for("9.1", 1)


def test_a_check_that_fails_on_an_answer_gives_a_plain_hint_with_what_to_give(monkeypatch) -> None:
    monkeypatch.setattr(exercises, "CHECKS", dict(exercises.CHECKS))

    @exercise("9.1")
    def broken(answer: object) -> str | None:
        """A pair of numbers (mean, spread)."""
        raise ZeroDivisionError("division by zero")

    assert hint_for("9.1", 1) == "your answer could not be read. What to give: A pair of numbers (mean, spread)."


@pytest.mark.parametrize("value", [405, 405.0, np.int64(405), torch.tensor(405), np.array([405.0])])
def test_a_count_may_be_any_whole_number(value) -> None:
    assert count(value) == 405


@pytest.mark.parametrize("value", ["405", None, True, 405.9, float("nan"), [405, 406]])
def test_a_count_refuses_what_is_not_one_whole_number(value) -> None:
    with pytest.raises(Unreadable):
        count(value)


@pytest.mark.parametrize("values", [list(range(405)), np.arange(128), torch.arange(8)])
def test_number_never_says_how_many_values_it_was_given(values) -> None:
    with pytest.raises(Unreadable, match="give one number here, not a list of them") as refusal:
        number(values)
    assert str(len(values)) not in str(refusal.value)


def test_number_refuses_what_is_not_one_finite_number() -> None:
    for value in (None, "0.5", b"0.5", False, float("inf"), [], [0.5, 0.5], object()):
        with pytest.raises(Unreadable):
            number(value)


@pytest.mark.parametrize(
    ("value", "expected", "right"),
    [
        (0.015625, 1 / 64, True),
        (0.0156, 1 / 64, True),
        (0.016, 1 / 64, True),
        (0.015, 1 / 64, False),  # truncated
        (0.0166, 1 / 64, False),  # a near miss
        (0.02, 1 / 64, False),  # one figure: rounded too far
        (0.22, 0.21588, True),
        (0.21, 0.21588, False),  # truncated
    ],
)
def test_matches_accepts_roundings_to_2_figures_not_truncations(value: float, expected: float, right: bool) -> None:
    assert matches(value, expected) is right


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.02, 1 / 64), (0.2, 0.21588), (0.015, 1 / 64), (0.21, 0.21588), ([2.3, -0.1], [2.32, -0.06]), (400, 405.9)],
)
def test_agrees_says_the_rule_for_a_number_rounded_too_far_or_cut_off(value, expected) -> None:
    with pytest.raises(Unreadable, match="2 significant figures or more, rounded, not cut off"):
        agrees(value, expected)


@pytest.mark.parametrize(
    ("value", "expected", "right"),
    [(0.016, 1 / 64, True), (0.1, 1 / 64, False), (0.0166, 1 / 64, False), (0.23, 0.21588, False), (0.95, 1, False)],
)
def test_agrees_takes_2_significant_figures_and_refuses_what_is_not_a_rounding_of_it(value, expected, right) -> None:
    assert agrees(value, expected) is right
