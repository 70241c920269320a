"""Chapter 3's exercise checks: the right answer passes in every form, every typical wrong one gets its hint."""

from __future__ import annotations

from fractions import Fraction
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from torch.utils.data import TensorDataset

from lenet_utils import count_parameters
from lenet_utils.exercises import ch3, hint_for
from lenet_utils.exercises.ch5 import FINAL_CONFIG

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
        ("3.2", 3.99),  # finite differences: within what they are off by, at 2 significant figures
        ("3.2", 4.0001),
        ("3.2", ((np.tanh(1e-3) - np.tanh(-1e-3)) / 2e-3) / ((1 / (1 + np.exp(-1e-3)) - 0.5) / 1e-3)),
        ("3.3", "b"),
        ("3.3", "(b)"),
        ("3.5", "B"),
    ],
)
def test_the_right_answer_passes_in_every_form(number: str, answer, capsys) -> None:
    assert_right(number, answer, capsys)


SECRETS = {"3.1": ("1/64", "0.0156", "0.016", "reaches 1", "passes through three"), "3.2": ("factor 2", "4")}


@pytest.mark.parametrize(
    ("number", "answer", "hint"),
    [
        ("3.1", (3 / 4, 1), "multiply, they do not add"),
        ("3.1", (1 / 4, 1), "one sigmoid layer"),
        ("3.1", (0.25, 1), "how many"),  # not "three": that would give the answer away
        ("3.1", (1 / 8, 1), "not the value σ(0) = 1/2"),
        ("3.1", (1 / 64, 1 / 64), "tanh's slope"),
        ("3.1", (1 / 64, 3), "tanh's slope"),
        ("3.1", (0.015, 1), "not cut off"),  # a truncation of 1/64
        ("3.1", (0.0166, 1), "largest value of σ(x)(1 - σ(x))"),  # a near miss, not a rounding: not "close"
        ("3.1", (1 / 64, 0.95), "tanh's slope"),  # a wrong tanh factor, not a rounding of 1
        ("3.1", (1 / 64, 1.05), "tanh's slope"),
        ("3.1", (1.5625, 100), "not as percentages"),
        ("3.1", (0.02, 1), "2 significant figures or more"),  # one figure: the rule every check states
        ("3.1", (1, 1 / 64), "swapped"),
        ("3.1", (0.1, 1), "largest value of σ(x)(1 - σ(x))"),
        ("3.1", (float("nan"), float("nan")), "not a result"),
        ("3.1", torch.tensor([float("nan"), 1.0]), "not a result"),
        ("3.1", 1 / 64, "two numbers"),
        ("3.2", 2.0, "a slope of its own"),
        (
            "3.2",
            3.94,
            "differentiate tanh(x) = 2σ(2x) - 1",
        ),  # beyond what a finite difference is off by  # not "a second factor 2": that points to 4
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


def relu_model(seed: int = 0) -> torch.nn.Sequential:
    """A stand-in for the trained network: 84 inputs that pass unchanged through relu3 into a random fc2."""
    fc1 = torch.nn.Linear(84, 84)
    torch.nn.init.eye_(fc1.weight), torch.nn.init.zeros_(fc1.bias)
    torch.manual_seed(seed)
    return torch.nn.Sequential(fc1, torch.nn.ReLU(), torch.nn.Linear(84, 10)).eval()


@pytest.fixture
def trained(monkeypatch: pytest.MonkeyPatch) -> torch.nn.Sequential:
    """`relu_model()`, trained in the sense the check asks: the validation labels are its own predictions."""
    model, images = relu_model(), relu3_outputs()
    with torch.no_grad():
        labels = model(images).argmax(1)
    monkeypatch.setattr(ch3, "book_data", lambda: SimpleNamespace(val=TensorDataset(images, labels)))
    monkeypatch.setattr(ch3, "CHAPTER_MODEL", relu_model())  # the stand-in's architecture is the chapter's here
    return model


RIGHT_3_4 = {
    "the solution's model and ints": lambda model: (model, 2, 3),
    "a list": lambda model: [model, 2, 3],
    "a model in training mode": lambda model: (model.train(), 2, 3),
    "tensor counts": lambda model: (model, torch.tensor(2), torch.tensor(3)),
    "NumPy counts": lambda model: (model, np.int64(2), np.int64(3)),
}


@pytest.mark.parametrize("form", RIGHT_3_4.values(), ids=RIGHT_3_4.keys())
def test_3_4_accepts_the_model_and_counts_in_every_form(trained, form, capsys) -> None:
    assert_right("3.4", form(trained), capsys)


WRONG_3_4 = {
    "an untrained model": (lambda model: (relu_model(seed=1), 2, 3), "not trained"),
    "random outputs, not the model": (lambda model: (torch.relu(torch.randn(5_000, 84)), 0, 0), "network itself"),
    "the outputs as a DataFrame": (lambda model: (pd.DataFrame(relu3_outputs().numpy()), 2, 3), "network itself"),
    "a tanh model": (lambda model: (torch.nn.Sequential(model[0], torch.nn.Tanh(), model[2]), 2, 3), "ReLU"),
    "a wider ReLU model": (
        lambda model: (torch.nn.Sequential(model[0], torch.nn.ReLU(), torch.nn.Linear(84, 10, bias=False)), 2, 3),
        "not this chapter's",
    ),
    "chapter 5's final model": (lambda model: (FINAL_CONFIG.build_model(), 6, 10), "not this chapter's ReLU LeNet-5"),
    "mostly silent for dead": (lambda model: (model, 3, 3), "dead means exactly 1"),
    "counted on other images": (lambda model: (model, 0, 0), "dead means exactly 1"),
    "dead left out of mostly": (lambda model: (model, 2, 1), "includes the dead units"),
    "a unit too many": (lambda model: (model, 2, 4), "share of zero outputs is above 0.99"),
    "a fractional count": (lambda model: (model, 2.5, 3), "not a whole number"),
    "two parts": (lambda model: (2, 3), "three things"),
    "counts alone": (lambda model: (None, 6, 10), "network itself"),
}


@pytest.mark.parametrize(("wrong", "hint"), WRONG_3_4.values(), ids=WRONG_3_4.keys())
def test_3_4_recounts_the_units_of_a_trained_model(trained, wrong, hint: str, capsys) -> None:
    assert_rejected("3.4", wrong(trained), hint, capsys)


def test_3_4_compares_with_the_chapters_relu_lenet5(capsys) -> None:
    assert count_parameters(ch3.CHAPTER_MODEL) == 61_706, "chapter 3's ReLU LeNet-5 has 61,706 parameters"
    assert_rejected("3.4", (FINAL_CONFIG.build_model(), 6, 10), "not this chapter's ReLU LeNet-5", capsys)


def test_3_4_leaves_the_model_in_the_mode_it_was_in(trained) -> None:
    hint_for("3.4", (trained.train(), 2, 3))
    assert trained.training


@pytest.mark.parametrize("number", ["3.1", "3.2", "3.3", "3.4", "3.5"])
@pytest.mark.parametrize("answer", NONSENSE)
def test_nonsense_gets_a_hint_not_a_traceback(number: str, answer, capsys) -> None:
    assert_rejected(number, answer, "", capsys, *SECRETS.get(number, ()))
