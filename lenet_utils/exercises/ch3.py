"""Checks for the exercises of chapter 3, the ReLU redesign; each recomputes its answer."""

from __future__ import annotations

from typing import Any

import torch

from . import choice, count, exercise, matches, number, parts

VALIDATION_IMAGES = 5_000  # the book's validation split (chapter 1)
FC1_UNITS = 84


def _largest_slope(activation: torch.nn.Module) -> float:
    """The largest slope of `activation` on a fine grid that contains 0, by autograd."""
    x = torch.linspace(-6, 6, 1201, dtype=torch.float64, requires_grad=True)
    (slope,) = torch.autograd.grad(activation(x).sum(), x)
    return slope.max().item()


@exercise("3.1")
def three_layer_factors(answer: Any) -> str | None:
    """(largest factor through three sigmoids, largest factor through three tanh), two numbers."""
    sigmoid_factor, tanh_factor = (number(v) for v in parts(answer, 2, "two numbers: (sigmoid_factor, tanh_factor)"))
    best_sigmoid = _largest_slope(torch.nn.Sigmoid()) ** 3
    best_tanh = _largest_slope(torch.nn.Tanh()) ** 3
    if not matches(sigmoid_factor, best_sigmoid):
        if matches(sigmoid_factor, 3 * best_sigmoid ** (1 / 3)):
            return "the three layers' factors multiply, they do not add"
        if matches(sigmoid_factor, best_sigmoid ** (1 / 3)):
            return "that is the factor of one sigmoid layer; the gradient passes through three"
        if matches(sigmoid_factor, 1 / 8):
            return "use the slope σ'(0) = σ(0)(1 - σ(0)), not the value σ(0) = 1/2"
        if abs(sigmoid_factor - best_sigmoid) < 0.1 * best_sigmoid:
            return "close, but not it: give the exact value (a fraction is fine) or round it, but do not cut digits off"
        return "find the largest value of σ(x)(1 - σ(x)), then apply it once per layer"
    if not matches(tanh_factor, best_tanh):
        return "the sigmoid part is right; where is tanh's slope 1 - tanh²(x) largest, and how large is it there?"
    return None


@exercise("3.2")
def tanh_over_sigmoid_slope(answer: Any) -> str | None:
    """The factor k in tanh'(0) = k σ'(0), one number."""
    zero = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    (d_sigmoid,) = torch.autograd.grad(torch.sigmoid(zero).sum(), zero)
    (d_tanh,) = torch.autograd.grad(torch.tanh(zero).sum(), zero)
    expected = (d_tanh / d_sigmoid).item()
    k = number(answer)
    if matches(k, expected):
        return None
    if matches(k, expected / 2):
        return "differentiate 2σ(2x) with the chain rule: the inner 2x brings a second factor 2"
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
    """(relu3's outputs, one row per validation image; the number of dead units; of units silent on > 99 %)."""
    outputs, dead, mostly_silent = parts(answer, 3, "three things: (outputs, dead, mostly_silent)")
    outputs = torch.as_tensor(outputs).detach().cpu().double()
    dead, mostly_silent = count(dead), count(mostly_silent)
    if outputs.dim() != 2 or outputs.shape[1] != FC1_UNITS:
        return f"`outputs` should have one row per image and {FC1_UNITS} columns, got shape {tuple(outputs.shape)}"
    if outputs.shape[0] != VALIDATION_IMAGES:
        return f"use all {VALIDATION_IMAGES:,} validation images, not {outputs.shape[0]:,}"
    if not outputs.isfinite().all():
        return "some outputs are not finite numbers: take them from the trained model, in evaluation mode"
    if (outputs < 0).any():
        return "some outputs are negative: take them after relu3 (model[:-1]), not after fc1 (model[:-2])"
    if len(outputs.unique(dim=0)) < VALIDATION_IMAGES // 2:
        return "most rows are the same, but a trained network answers different images differently: run model[:-1]"
    silent_share = (outputs == 0).double().mean(dim=0)  # per unit: the share of images where it is 0
    true_dead = int((silent_share == 1).sum())
    true_mostly = int((silent_share > 0.99).sum())
    if dead != true_dead:
        return "for each unit (column) take the share of images on which it is 0; dead means a share of exactly 1"
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
