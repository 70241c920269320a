"""Checks for the exercises of chapter 5, beyond the original; each recomputes its answer from a model or the table."""

from __future__ import annotations

import math
from dataclasses import replace
from itertools import pairwise
from typing import Any

import numpy as np
from torch import nn

from ..experiment import TrainConfig
from ..model import count_parameters
from . import choice, exercise

# Chapter 5's final configuration (step 7 of its ablation), the network exercises 5.2 and 5.5 ask about.
FINAL_CONFIG = TrainConfig(
    "relu",
    epochs=11,
    lr=3e-3,
    act_after_conv2=True,
    pool="max",
    batch_norm=True,
    widths=(32, 32, 64, 84),
    flip=True,
    schedule="onecycle",
)
ABLATION_INGREDIENTS = 7  # steps 1 to 7 of the chapter's ablation
WIDTHS_5_2 = ((16, 32, 64, 84), (32, 32, 120, 84), (32, 64, 64, 84), (64, 32, 64, 84))
CLAIMED_ACCURACY, TEST_IMAGES = 0.951, 10_000  # exercise 5.6's classmate, on the official test set


@exercise("5.1")
def check_5_1(answer: Any) -> str | None:
    """The number of training runs of a leave-one-out ablation of the final model."""
    runs = int(answer)
    if runs == ABLATION_INGREDIENTS + 1:
        return None
    if runs == ABLATION_INGREDIENTS:
        return "one run without each ingredient, and one more: the full model they are compared with"
    return f"the ablation has {ABLATION_INGREDIENTS} ingredients (steps 1 to 7): one run leaves out each, plus?"


def _count(widths: tuple[int, ...], **changes: Any) -> int:
    """Parameters of the final architecture with `widths` (and any other `changes`)."""
    return count_parameters(replace(FINAL_CONFIG, widths=widths, **changes).build_model())


@exercise("5.2")
def check_5_2(answer: Any) -> str | None:
    """A dict {widths: parameter count} for the four widths of the exercise."""
    got = {tuple(widths): int(count) for widths, count in dict(answer).items()}
    if set(got) != set(WIDTHS_5_2):
        return f"give one count for each of the four widths, as a dict keyed by the tuples {list(WIDTHS_5_2)}"
    if all(got[w] == _count(w, batch_norm=False) for w in WIDTHS_5_2):
        return "these networks have no batch normalization: start from final_config, which has it"
    wrong = [w for w in WIDTHS_5_2 if got[w] != _count(w)]
    if wrong:
        return f"recount {wrong[0]}: count_parameters(replace(final_config, widths=...).build_model())"
    return None


check_5_3 = exercise("5.3")(
    choice(
        "b",
        {
            "a": "look at the bottom row: does any test image show a boot sole-up or a dress hem-up?",
            "c": "a mirrored sneaker points the other way: is that unusual among the test images?",
            "d": "the question is what the test set contains, not what a network might ideally handle",
        },
    )
)


def _as_points(values: Any, length: int) -> np.ndarray:
    """The student's per-step gains as an array over steps 1..length-1 (a leading NaN for step 0 is dropped)."""
    array = np.asarray(values, dtype=float).ravel()
    if len(array) == length:
        array = array[1:]
    if len(array) != length - 1:
        raise ValueError(f"expected one gain per step ({length - 1} or {length} values), got {len(array)}")
    return array


@exercise("5.4")
def check_5_4(answer: Any) -> str | None:
    """(results, gain): the ablation table and the change in validation accuracy of each step, in points."""
    results, gain = answer
    gains = _as_points(gain, len(results))
    expected = 100 * results["val accuracy"].diff().to_numpy()[1:]
    if np.allclose(gains, expected, atol=0.01):
        return None
    if np.allclose(gains, expected / 100, atol=1e-4):
        return "these are fractions: multiply by 100 for percentage points"
    if np.allclose(gains, -expected, atol=0.01):
        return "subtract the step before from each step (.diff()), not the other way round"
    if np.allclose(gains, 100 * results["train accuracy"].diff().to_numpy()[1:], atol=0.01):
        return "rank by validation accuracy, not training accuracy"
    return "each step's gain is its validation accuracy minus that of the step before, in points"


@exercise("5.5")
def check_5_5(answer: Any) -> str | None:
    """The number of parameters of the final model made redundant by batch normalization."""
    model = FINAL_CONFIG.build_model()
    layers = list(model.named_children())
    redundant = sum(
        module.bias.numel()
        for (_, module), (_, after) in pairwise(layers)
        if isinstance(module, nn.Conv2d) and isinstance(after, nn.BatchNorm2d)
    )
    all_biases = sum(m.bias.numel() for _, m in layers if isinstance(m, nn.Conv2d | nn.Linear))
    count = int(answer)
    if count == redundant:
        return None
    if count == all_biases:
        return "fc1 and fc2 are not followed by batch normalization: count only the convolutions' biases"
    return "count the biases of the layers that feed straight into a batch normalization"


@exercise("5.6")
def check_5_6(answer: Any) -> str | None:
    """The standard error, in percentage points, of a 95.1 % test accuracy on 10,000 images."""
    se = 100 * math.sqrt(CLAIMED_ACCURACY * (1 - CLAIMED_ACCURACY) / TEST_IMAGES)
    value = float(answer)
    if abs(value - se) < 0.005:
        return None
    if abs(value - se / 100) < 5e-5:
        return "that is a fraction: multiply by 100 for percentage points"
    if abs(value - 1.96 * se) < 0.01:
        return "that is the half-width of a 95 % interval; the standard error is 1.96 times smaller"
    return "the standard error of an accuracy p on n images is sqrt(p (1 - p) / n)"
