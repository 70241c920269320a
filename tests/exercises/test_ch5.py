"""Chapter 5's exercise checks: the right answer passes in every form, every typical wrong one gets its hint."""

from __future__ import annotations

import math
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from lenet_utils import TrainConfig, count_parameters
from lenet_utils.chapter_models import ablation_configs
from lenet_utils.checkpoint import save_checkpoint
from lenet_utils.exercises.ch5 import FINAL_CONFIG, WIDTHS_5_2
from lenet_utils.loop import History

from . import assert_rejected, assert_right
from .conftest import NONSENSE

# An ablation table in the shape of the chapter's `results`: eight steps (made-up accuracies and times).
RESULTS = pd.DataFrame(
    {
        "change": [f"step {step}" for step in range(8)],
        "epochs": [2] * 7 + [11],
        "val accuracy": [0.8582, 0.8814, 0.8931, 0.8925, 0.9012, 0.9047, 0.9101, 0.9213],
        "train accuracy": [0.851, 0.872, 0.894, 0.881, 0.899, 0.905, 0.915, 0.957],
        "seconds": [20.0, 21.0, 30.0, 31.0, 31.0, 30.0, 45.0, 240.0],
    }
).rename_axis("step")
GAIN = 100 * RESULTS["val accuracy"].diff()


def invented() -> pd.DataFrame:
    """A made-up table of the right shape, accuracies rising from 0.8 to 0.9."""
    return RESULTS.assign(**{"val accuracy": np.linspace(0.8, 0.9, 8)})


# the solution's `gain`, NaN for step 0
RANKED = GAIN.iloc[1:].sort_values(ascending=False)


def counts(**changes: object) -> dict[tuple[int, ...], int]:
    """Parameter counts of the final architecture with each width of exercise 5.2."""
    return {w: count_parameters(replace(FINAL_CONFIG, widths=w, **changes).build_model()) for w in WIDTHS_5_2}


@pytest.fixture(autouse=True, scope="module")
def ablation_cache(private_cache: Path) -> None:
    """A checkpoint in the cache for every step of the ablation, whose history recorded RESULTS' accuracies."""
    for step, config in enumerate([TrainConfig("relu"), *ablation_configs()[1:]]):
        history = History()
        for epoch in range(config.epochs):
            at = ablation_configs()[step].epochs - 1 == epoch  # step 0 is read after 2 of its 5 epochs
            history.add_epoch(0.5, 0.8, 0.5, float(RESULTS["val accuracy"][step]) if at else 0.8, 20.0)
        save_checkpoint(
            private_cache / "checkpoints" / f"lenet-relu-{step}.pt",
            config.build_model(),
            config=asdict(config),
            history=history.as_dict(),
        )


COUNTS = counts()
SE_5_6 = 100 * math.sqrt(0.951 * 0.049 / 10_000)


@pytest.mark.parametrize(
    ("number", "answer"),
    [
        ("5.1", 8),
        ("5.1", 1 + 7),
        ("5.1", 8.0),
        ("5.1", np.int64(8)),
        ("5.1", torch.tensor(8)),
        ("5.2", COUNTS),
        ("5.2", {(32, 32, 64, 84): 84_294, **COUNTS}),  # the solution's own `counts`, the final widths included
        ("5.2", {w: float(n) for w, n in COUNTS.items()}),
        ("5.2", pd.Series(COUNTS)),
        ("5.2", list(COUNTS.values())),  # in the question's order
        ("5.2", np.array(list(COUNTS.values()))),
        ("5.2", {str(w): n for w, n in COUNTS.items()}),  # keys written as str(w)
        ("5.3", "b"),
        ("5.3", "(b)"),
        ("5.4", (RESULTS, GAIN)),
        ("5.4", [RESULTS, GAIN]),
        ("5.4", (RESULTS, GAIN.iloc[1:])),
        ("5.4", (RESULTS, GAIN.round(2))),
        ("5.4", (RESULTS, RANKED)),  # ranked, as the exercise asks
        ("5.4", (RESULTS, RANKED.round(2).to_frame("gain (points)"))),
        ("5.4", (RESULTS, RANKED.to_list())),
        ("5.4", (RESULTS, GAIN.iloc[1:].to_list())),
        ("5.4", (RESULTS, GAIN.fillna(0))),
        ("5.4", (RESULTS, GAIN.iloc[1:].reset_index(drop=True))),
        ("5.4", (RESULTS, GAIN.to_numpy())),
        ("5.4", (RESULTS, torch.tensor(GAIN.iloc[1:].to_numpy()))),
        ("5.4", (RESULTS, np.sort(GAIN.iloc[1:].to_numpy()))),  # ranked ascending
        ("5.4", (RESULTS, RANKED.to_list()[::-1])),
        ("5.4", (RESULTS, GAIN.to_dict())),
        ("5.4", (RESULTS, RANKED.to_dict())),
        ("5.4", (RESULTS, GAIN.sort_values(ascending=False).reset_index(drop=True))),  # ranked, NaN last, renumbered
        ("5.4", (RESULTS, GAIN.fillna(0).sort_values(ascending=False).reset_index(drop=True))),
        # ranked with step 0's NaN still in it: pandas puts NaN last in either direction
        ("5.4", (RESULTS, GAIN.sort_values(ascending=False).to_numpy())),
        ("5.4", (RESULTS, GAIN.sort_values().to_numpy())),
        ("5.4", (RESULTS, GAIN.sort_values(ascending=False).tolist())),
        ("5.4", (RESULTS, GAIN.set_axis(RESULTS["change"]).sort_values(ascending=False))),  # indexed by the change
        ("5.4", (RESULTS, GAIN.fillna(0).sort_values(ascending=False).to_numpy())),  # step 0 as 0, ranked
        ("5.4", (RESULTS, GAIN.fillna(0).sort_values().to_numpy())),
        ("5.4", (RESULTS[["change", "val accuracy"]], RANKED)),  # the table without its training accuracies
        ("5.5", 128),
        ("5.5", 128.0),
        ("5.5", torch.tensor(128)),
        ("5.6", SE_5_6),
        ("5.6", round(SE_5_6, 2)),
        ("5.6", round(SE_5_6, 3)),
        ("5.6", torch.tensor(SE_5_6)),
    ],
)
def test_the_right_answer_passes_in_every_form(number: str, answer, capsys) -> None:
    assert_right(number, answer, capsys)


SECRETS = {
    "5.1": ("8 runs", "+ 1", "one more", "plus one"),
    "5.2": tuple(f"{n:,}" for n in COUNTS.values()) + tuple(str(n) for n in COUNTS.values()),
    "5.5": ("128",),
    "5.6": ("0.2", "0.22"),
}


@pytest.mark.parametrize(
    ("number", "answer", "hint"),
    [
        ("5.1", 7, "count every run that has to train"),
        ("5.1", list(range(8)), "not a list of them"),  # never "not 8 values"
        ("5.1", 8.9, "not a whole number"),  # int() would truncate it to the right answer
        ("5.1", 9, "one run leaves out each"),
        ("5.1", 14, "one run leaves out each"),
        ("5.1", 128, "one run leaves out each"),  # exercise 5.5's answer
        ("5.1", "8", "give a number"),
        ("5.2", counts(batch_norm=False), "no batch normalization"),
        ("5.2", {(16, 32, 64, 84): 71_046}, "one count for each of the four widths"),
        ("5.2", {**COUNTS, (64, 32, 64, 84): 1}, "recount (64, 32, 64, 84)"),
        ("5.2", {**COUNTS, (32, 32, 64, 84): 84_000}, "recount (32, 32, 64, 84)"),
        ("5.2", {w: n + 0.5 for w, n in COUNTS.items()}, "not a whole number"),
        ("5.2", {w: 100_000 for w in COUNTS}, "recount"),
        ("5.2", list(COUNTS.values())[::-1], "recount"),
        ("5.2", list(COUNTS.values())[:3], "dict that maps each widths tuple"),
        ("5.2", 71_046, "dict that maps each widths tuple"),
        ("5.3", "a", "sole-up"),
        ("5.3", "c", "point their toes"),
        ("5.3", "d", "what the test set contains"),
        ("5.3", ["b"], "one letter"),
        ("5.4", (RESULTS, GAIN / 100), "multiply by 100"),
        ("5.4", (RESULTS, -GAIN), "not the other way round"),
        ("5.4", (RESULTS, 100 * RESULTS["train accuracy"].diff()), "not training accuracy"),
        ("5.4", (RESULTS, RESULTS["seconds"].diff()), "validation accuracy minus"),
        ("5.4", (RESULTS, GAIN.round(1)), "2 significant figures or more"),  # rounded too far
        ("5.4", (RESULTS, np.trunc(GAIN * 10) / 10), "validation accuracy minus"),  # truncated
        ("5.4", (RESULTS, np.array(RANKED.to_list())[[1, 0, 2, 3, 4, 5, 6]]), "validation accuracy minus"),
        ("5.4", (RESULTS, "x"), "could not be read"),
        ("5.4", (RESULTS.assign(**{"val accuracy": 0.9}), np.zeros(7)), "not the accuracies the ablation recorded"),
        ("5.4", (invented(), 100 * invented()["val accuracy"].diff()), "not the accuracies the ablation recorded"),
        ("5.4", (RESULTS, GAIN.iloc[1:4]), "one gain per step"),
        ("5.4", (RESULTS, GAIN * math.nan), "not numbers"),
        ("5.4", (RESULTS, GAIN.fillna(0) * [1, 1, 1, math.inf, 1, 1, 1, 1]), "not numbers"),
        ("5.4", (RESULTS, GAIN.iloc[1:].reset_index(drop=True) + 0.1), "validation accuracy minus"),
        ("5.4", (RESULTS.head(4), GAIN.head(4)), "not the accuracies"),  # a made-up table
        ("5.4", (RESULTS.drop(columns="val accuracy"), GAIN), "not the accuracies"),
        ("5.4", (RESULTS.assign(**{"val accuracy": 100 * RESULTS["val accuracy"]}), GAIN), "not the accuracies"),
        ("5.4", (RESULTS.to_dict(), GAIN), "(results, gain)"),
        ("5.4", GAIN, "(results, gain)"),
        ("5.5", 222, "fc1 and fc2 are not followed by batch normalization"),
        ("5.5", torch.arange(128.0), "not a list of them"),  # the biases themselves: never "not 128 values"
        ("5.5", 128.5, "not a whole number"),
        ("5.5", 0, "feed straight into a batch normalization"),
        ("5.5", 8, "feed straight into a batch normalization"),  # exercise 5.1's answer
        ("5.6", SE_5_6 / 100, "multiply by 100"),
        ("5.6", 1.96 * SE_5_6, "half-width"),
        ("5.6", 0.21, "not cut off"),  # truncated
        ("5.6", 0.2, "2 significant figures or more"),  # one figure: the rule every check states
        ("5.6", 0.3, "sqrt(p (1 - p) / n)"),
        ("5.6", 100 * math.sqrt(0.951 * 0.049 / 60_000), "sqrt(p (1 - p) / n)"),  # the training images' n
        ("5.6", 100 * 0.951 * 0.049 / 10_000, "sqrt(p (1 - p) / n)"),  # the variance
        ("5.6", 100 * math.sqrt(0.95 * 0.05 / 10_000), "to three figures, not rounded"),  # p = 0.95, not "close"
        ("5.6", 0.23, "sqrt(p (1 - p) / n)"),  # a guess near it is not a rounding: no "close" to home in on
        ("5.4", (RESULTS, GAIN.sort_values(ascending=False).to_numpy() + 0.1), "validation accuracy minus"),
    ],
)
def test_a_typical_wrong_answer_gets_its_hint(number: str, answer, hint: str, capsys) -> None:
    assert_rejected(number, answer, hint, capsys, *SECRETS.get(number, ()))


@pytest.mark.parametrize("number", ["5.1", "5.2", "5.3", "5.4", "5.5", "5.6"])
@pytest.mark.parametrize("answer", NONSENSE)
def test_nonsense_gets_a_hint_not_a_traceback(number: str, answer, capsys) -> None:
    assert_rejected(number, answer, "", capsys, *SECRETS.get(number, ()))


def test_5_4_says_it_needs_the_ablations_checkpoints(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setenv("LENET_CACHE", str(tmp_path))
    assert_rejected("5.4", (RESULTS, GAIN), "run the chapter's ablation first", capsys)


def test_exercise_5_2s_widths_are_the_chapters() -> None:
    assert COUNTS[(16, 32, 64, 84)] == 71_046, "the chapter's sweep gives (16, 32, 64, 84) 71,046 parameters"


def test_the_final_configuration_is_the_chapters() -> None:
    assert count_parameters(FINAL_CONFIG.build_model()) == 84_294, "chapter 5's final model has 84,294 parameters"
