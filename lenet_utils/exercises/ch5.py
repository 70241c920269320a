"""Checks for the exercises of chapter 5, beyond the original; each recomputes its answer from a model or the table."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import replace
from itertools import pairwise, product
from typing import Any

import numpy as np
import pandas as pd
from torch import nn

from .. import TrainConfig
from ..chapter_models import ABLATION_STEPS, ablation_configs
from ..checkpoint import load_checkpoint
from ..errors import CheckpointMismatchError
from ..loop import History
from ..model import count_parameters
from ..paths import cache_dir
from . import Unreadable, agrees, array, choice, count, exercise, matches, number

FINAL_CONFIG = ablation_configs()[-1]  # chapter 5's final model, the network exercises 5.2 and 5.5 ask about
ABLATION_INGREDIENTS = len(ABLATION_STEPS) - 1  # steps 1 to 7 of the chapter's ablation
WIDTHS_5_2 = ((16, 32, 64, 84), (32, 32, 120, 84), (32, 64, 64, 84), (64, 32, 64, 84))
CLAIMED_ACCURACY, TEST_IMAGES = 0.951, 10_000  # exercise 5.6's classmate, on the official test set


@exercise("5.1")
def check_5_1(answer: Any) -> str | None:
    """The number of training runs of a leave-one-out ablation of the final model."""
    runs = count(answer)
    if runs == ABLATION_INGREDIENTS + 1:
        return None
    if runs == ABLATION_INGREDIENTS:
        return "a run that leaves an ingredient out is compared with something: count every run that has to train"
    return "one run leaves out each ingredient (steps 1 to 7): what is each of those runs compared with?"


def _count(widths: tuple[int, ...], **changes: Any) -> int:
    """Parameters of the final architecture with `widths` (and any other `changes`)."""
    return count_parameters(replace(FINAL_CONFIG, widths=widths, **changes).build_model())


def _widths(key: Any) -> tuple[int, ...]:
    """A widths key of exercise 5.2 as a tuple: (16, 32, 64, 84) itself, or its text."""
    return tuple(int(w) for w in re.findall(r"\d+", key)) if isinstance(key, str) else tuple(count(w) for w in key)


@exercise("5.2")
def check_5_2(answer: Any) -> str | None:
    """A dict {widths: parameter count} for the four widths of the exercise (more widths may be in it)."""
    if isinstance(answer, Mapping | pd.Series):  # keys may be tuples or their text, "(16, 32, 64, 84)"
        got = {_widths(widths): count(n) for widths, n in answer.items()}
    elif not isinstance(answer, str) and np.ndim(answer) == 1 and len(answer) == len(WIDTHS_5_2):
        got = dict(zip(WIDTHS_5_2, (count(n) for n in answer), strict=True))  # in the question's order
    else:
        raise Unreadable(f"give a dict that maps each widths tuple {list(WIDTHS_5_2)} to its parameter count")
    if not set(WIDTHS_5_2) <= set(got):
        return f"give one count for each of the four widths, as a dict keyed by the tuples {list(WIDTHS_5_2)}"
    if all(got[w] == _count(w, batch_norm=False) for w in WIDTHS_5_2):
        return "these networks have no batch normalization: start from final_config, which has it"
    wrong = [w for w in got if got[w] != _count(w)]
    if wrong:
        return f"recount {wrong[0]}: count_parameters(replace(final_config, widths=...).build_model())"
    return None


check_5_3 = exercise("5.3")(
    choice(
        "b",
        {
            "a": "look at the bottom row: does any test image show a boot sole-up or a dress hem-up?",
            "c": "which way do the data set's shoes point their toes? compare each with its class mean, and mirrored",
            "d": "the question is what the test set contains, not what a network might ideally handle",
        },
    )
)


def _gains(results: pd.DataFrame, gain: Any) -> tuple[np.ndarray, np.ndarray]:
    """The student's gains and those of `results` lined up: by step (a Series, a dict), in step order, or ranked."""
    expected = 100 * results["val accuracy"].diff().iloc[1:]  # step 0 has no step before it: its NaN or 0 is dropped
    if isinstance(gain, Mapping):
        gain = pd.Series(gain)
    if isinstance(gain, pd.DataFrame) and gain.shape[1] == 1:
        gain = gain.iloc[:, 0]
    first = results.index[0]  # step 0, which a Series labelled by step leaves empty (NaN or 0); a ranked one, reset,
    if (  # holds the largest gain there and is read by position below
        isinstance(gain, pd.Series)
        and set(gain.index) in (set(expected.index), set(results.index))
        and (first not in gain.index or pd.isna(gain[first]) or gain[first] == 0)
    ):
        gain = gain.drop(index=first, errors="ignore")
        return gain.to_numpy(dtype=float), expected.reindex(gain.index).to_numpy()
    values = array(gain).ravel()
    if len(values) == len(results):  # step 0 is in it: its NaN, or the 0 filled in for it, wherever ranking put it
        nan, zero = np.isnan(values), values == 0
        sorted_ = (np.diff(values[~nan]) >= 0).all() or (np.diff(values[~nan]) <= 0).all()
        values = np.delete(values, nan.argmax() if nan.any() else zero.argmax() if sorted_ and zero.any() else 0)
    if len(values) != len(expected):
        raise Unreadable("give one gain per step after the baseline, in points")
    ranked = np.sort(expected.to_numpy())
    if (np.diff(values) >= 0).all():
        return values, ranked
    return values, (ranked[::-1] if (np.diff(values) <= 0).all() else expected.to_numpy())


def _recorded_val_accuracies() -> list[set[float]]:
    """For each step of the ablation, the validation accuracies its checkpoints in the cache recorded."""
    steps = [TrainConfig("relu"), *ablation_configs()[1:]]  # step 0 is chapter 3's model, read after 2 epochs
    models = {repr(m): m for m in (c.build_model() for c in steps)}.values()  # each architecture once
    recorded: list[set[float]] = [set() for _ in steps]
    for path in (cache_dir() / "checkpoints").glob("lenet-relu-*.pt"):
        for model in models:
            try:
                payload = load_checkpoint(path, model)
                history = History.from_dict(payload["history"])
            except (CheckpointMismatchError, OSError, ValueError):  # another architecture, or a damaged file
                continue
            for seen, config, read in zip(recorded, steps, ablation_configs(), strict=True):
                if not config.differences(payload["config"]) and history.epochs >= read.epochs:
                    seen.add(history.val_acc[read.epochs - 1])
            break
    return recorded


@exercise("5.4")
def check_5_4(answer: Any) -> str | None:
    """(results, gain): the chapter's ablation table, and each step's change in validation accuracy, in points."""
    if not isinstance(answer, tuple | list) or len(answer) != 2 or not isinstance(answer[0], pd.DataFrame):
        raise Unreadable("give (results, gain): the chapter's results table, then your gains")
    results, gain = answer
    recorded = _recorded_val_accuracies()
    if not all(recorded):
        return "this check compares `results` with the ablation's checkpoints: run the chapter's ablation first"
    if tuple(results.get("val accuracy", ())) not in set(product(*recorded)):  # exactly as the histories hold them
        return "these are not the accuracies the ablation recorded: pass the chapter's `results` table unchanged"
    values, expected = _gains(results, gain)
    if not np.isfinite(values).all():
        return "some gains are not numbers: only step 0, which has no step before it, may be NaN"
    if np.allclose(values, expected / 100, atol=1e-4):
        return "these are fractions: multiply by 100 for percentage points"
    if np.allclose(values, -expected, atol=0.01):
        return "subtract the step before from each step (.diff()), not the other way round"
    train = 100 * results.get("train accuracy", results["val accuracy"] * np.nan).diff().iloc[1:].to_numpy()
    if np.allclose(np.sort(values), np.sort(train), atol=0.01):
        return "compute the gains from validation accuracy, not training accuracy"
    if agrees(values, expected):
        return None
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
    got = count(answer)
    if got == redundant:
        return None
    if got == all_biases:
        return "fc1 and fc2 are not followed by batch normalization: count only the convolutions' biases"
    return "count the biases of the layers that feed straight into a batch normalization"


@exercise("5.6")
def check_5_6(answer: Any) -> str | None:
    """The standard error, in percentage points, of a 95.1 % test accuracy on 10,000 images, one number."""
    se = 100 * math.sqrt(CLAIMED_ACCURACY * (1 - CLAIMED_ACCURACY) / TEST_IMAGES)
    value = number(answer)
    if matches(value, se / 100):
        return "that is a fraction: multiply by 100 for percentage points"
    rounded_p = round(CLAIMED_ACCURACY, 2)
    if math.isclose(value, 100 * math.sqrt(rounded_p * (1 - rounded_p) / TEST_IMAGES), rel_tol=1e-3):
        return "use the accuracy as the classmate gives it, to three figures, not rounded"
    if matches(value, 1.96 * se):
        return "that is the half-width of a 95 % interval, wider than the standard error"
    return None if agrees(value, se) else "the standard error of an accuracy p on n images is sqrt(p (1 - p) / n)"
