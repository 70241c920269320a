"""Chapter 5's exercise checks: the reference answer passes, a typical wrong one gets its hint."""

from __future__ import annotations

import math
from dataclasses import replace

import pandas as pd
import pytest

from lenet_utils import count_parameters
from lenet_utils.exercises.ch5 import FINAL_CONFIG, WIDTHS_5_2

from . import checked

# A tiny ablation table in the shape of the chapter's `results` (made-up accuracies).
RESULTS = pd.DataFrame({"val accuracy": [0.858, 0.881, 0.893, 0.893], "train accuracy": [0.85, 0.87, 0.89, 0.88]})
GAIN = 100 * RESULTS["val accuracy"].diff()


def counts(**changes: object) -> dict[tuple[int, ...], int]:
    """Parameter counts of the final architecture with each width of exercise 5.2."""
    return {w: count_parameters(replace(FINAL_CONFIG, widths=w, **changes).build_model()) for w in WIDTHS_5_2}


SE_5_6 = 100 * math.sqrt(0.951 * 0.049 / 10_000)


@pytest.mark.parametrize(
    ("number", "right", "wrong", "hint"),
    [
        ("5.1", 8, 7, "the full model"),
        ("5.2", counts(), counts(batch_norm=False), "no batch normalization"),
        ("5.2", counts(), {(16, 32, 64, 84): 71_046}, "one count for each of the four widths"),
        ("5.2", counts(), {**counts(), (64, 32, 64, 84): 1}, "recount (64, 32, 64, 84)"),
        ("5.3", "b", "a", "sole-up"),
        ("5.3", "b", "d", "what the test set contains"),
        ("5.4", (RESULTS, GAIN), (RESULTS, GAIN / 100), "multiply by 100"),
        ("5.4", (RESULTS, GAIN.iloc[1:]), (RESULTS, -GAIN), "not the other way round"),
        ("5.4", (RESULTS, GAIN), (RESULTS, 100 * RESULTS["train accuracy"].diff()), "not training accuracy"),
        ("5.5", 128, 222, "fc1 and fc2"),
        ("5.6", SE_5_6, SE_5_6 / 100, "multiply by 100"),
        ("5.6", round(SE_5_6, 2), 1.96 * SE_5_6, "half-width"),
    ],
)
def test_right_answer_passes_and_wrong_one_gets_its_hint(
    number: str, right, wrong, hint: str, right_then_wrong
) -> None:
    right_then_wrong(number, right, wrong, hint)


def test_exercise_5_2s_widths_are_the_chapters() -> None:
    assert counts()[(16, 32, 64, 84)] == 71_046, "the chapter's sweep gives (16, 32, 64, 84) 71,046 parameters"


def test_a_malformed_answer_gets_a_hint_not_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert not checked("5.4", (RESULTS, [1.0]))
    assert "could not be checked" in capsys.readouterr().out


def test_the_final_configuration_is_the_chapters() -> None:
    assert count_parameters(FINAL_CONFIG.build_model()) == 84_294, "chapter 5's final model has 84,294 parameters"
