"""Checks for the exercises of chapter 3, the ReLU redesign; each recomputes its answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from ..config import TrainConfig
from ..model import count_parameters
from . import Unreadable, agrees, book_data, choice, count, exercise, matches, number, parts

ZERO = 600  # the index of x = 0 on the grid of _slopes
CHAPTER_MODEL = TrainConfig("relu").build_model()  # the architecture of the chapter's relu_run.model
TRAINED_ACCURACY = 0.8  # every trained ReLU model of the book gets more of the validation images right


def _slopes(activation: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """The slopes of `activation` on a fine grid from -6 to 6 whose middle point (index ZERO) is 0, by autograd."""
    x = torch.linspace(-6, 6, 2 * ZERO + 1, dtype=torch.float64, requires_grad=True)
    return torch.autograd.grad(activation(x).sum(), x)[0]


@exercise("3.1")
def three_layer_factors(answer: Any) -> str | None:
    """(largest factor through three sigmoids, largest factor through three tanh), two numbers."""
    sigmoid_factor, tanh_factor = (number(v) for v in parts(answer, 2, "two numbers: (sigmoid_factor, tanh_factor)"))
    best_sigmoid, best_tanh = (_slopes(f).max().item() ** 3 for f in (torch.sigmoid, torch.tanh))
    if matches(sigmoid_factor, best_tanh) and matches(tanh_factor, best_sigmoid):
        return "the two are swapped: the sigmoid's factor first, then tanh's"
    if matches(sigmoid_factor, 100 * best_sigmoid) or matches(tanh_factor, 100 * best_tanh):
        return "give the factors as plain numbers, not as percentages (0.5, not 50)"
    if matches(sigmoid_factor, 3 * best_sigmoid ** (1 / 3)):
        return "the three layers' factors multiply, they do not add"
    if matches(sigmoid_factor, best_sigmoid ** (1 / 3)):
        return "that is the factor of one sigmoid layer; how many does the question's gradient pass through?"
    if matches(sigmoid_factor, 1 / 8):
        return "use the slope σ'(0) = σ(0)(1 - σ(0)), not the value σ(0) = 1/2"
    if not agrees(sigmoid_factor, best_sigmoid):
        return "find the largest value of σ(x)(1 - σ(x)), then apply it once per layer"
    if not agrees(tanh_factor, best_tanh):
        return "the sigmoid part is right; where is tanh's slope 1 - tanh²(x) largest, and how large is it there?"
    return None


@exercise("3.2")
def tanh_over_sigmoid_slope(answer: Any) -> str | None:
    """The factor k in tanh'(0) = k σ'(0), one number."""
    expected = (_slopes(torch.tanh)[ZERO] / _slopes(torch.sigmoid)[ZERO]).item()
    k = number(answer)
    if matches(k, expected) or matches(float(f"{k:.1e}"), expected):  # a finite difference rounds to it at 2 figures
        return None
    if matches(k, expected / 2):
        return "differentiate 2σ(2x) with the chain rule: the inner function 2x has a slope of its own"
    if matches(k, 1 / expected):
        return "that is σ'(0) / tanh'(0); the question asks for tanh'(0) / σ'(0)"
    return "differentiate tanh(x) = 2σ(2x) - 1 on both sides and set x = 0"


exercise("3.3")(
    choice(
        "b",
        {
            "a": "ReLU is unbounded too, and boundedness is not what revives a unit; look at the slope",
            "c": "a leaky unit does output negative values (αx); what matters is its slope there",
            "d": "its slope is 1 only for positive inputs; what is it for negative ones?",
        },
    )
)


@exercise("3.4")
def dead_units(answer: Any) -> str | None:
    """(the trained ReLU model, the number of its dead relu3 units, of those silent on > 99 %)."""
    model, dead, mostly_silent = parts(answer, 3, "three things: (relu_run.model, dead, mostly_silent)")
    if not isinstance(model, nn.Sequential) or not isinstance(model[-2], nn.ReLU):
        raise Unreadable("give the trained ReLU network itself first (relu_run.model), then your two counts")
    if repr(model) != repr(CHAPTER_MODEL) or count_parameters(model) != count_parameters(CHAPTER_MODEL):
        return "this is not this chapter's ReLU LeNet-5: pass relu_run.model, the model trained in this chapter"
    dead, mostly_silent = count(dead), count(mostly_silent)
    images, labels = book_data().val.tensors
    was_training, device = model.training, next(model.parameters()).device
    with torch.no_grad():
        outputs = model[:-1].eval()(images.to(device)).cpu()  # relu3's outputs, as the chapter computes them
        right = (model[-1](outputs.to(device)).argmax(1).cpu() == labels).double().mean().item()
    model.train(was_training)
    if right < TRAINED_ACCURACY:
        return "this model gets most validation images wrong, so it is not trained: pass relu_run.model"
    silent_share = (outputs == 0).double().mean(dim=0)  # per unit: the share of images where it is 0
    true_dead, true_mostly = int((silent_share == 1).sum()), int((silent_share > 0.99).sum())
    if dead != true_dead:
        return "for each unit (column) take the share of validation images on which it is 0; dead means exactly 1"
    if mostly_silent == true_mostly - true_dead != true_mostly:
        return "'more than 99 %' includes the dead units, whose share is 100 %"
    if mostly_silent != true_mostly:
        return "count the units (columns) whose share of zero outputs is above 0.99"
    return None


exercise("3.5")(
    choice(
        "b",
        {
            "a": "one pair of runs cannot tell the gap from the luck of the seed",
            "c": "the best of several seeds rewards luck instead of averaging it out",
            "d": "McNemar's test covers the luck of the test sample, not of training, and opens the test set early",
        },
    )
)
