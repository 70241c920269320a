"""Checks for the exercises of chapter 2, LeNet-5 with tanh; counts and shapes come from the model itself."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from ..model import lenet5
from . import Unreadable, choice, count, exercise, parts

# The 1998 connection table of C3: how many of S2's six maps each group of C3's 16 maps sees.
C3_TABLE = {3: 6, 4: 9, 6: 1}  # inputs seen -> number of maps
# The trainable parameters per layer of the paper's LeNet-5 (its RBF output layer has none).
PAPER_PARAMETERS = {"C1": 156, "S2": 12, "C3": 1_516, "S4": 32, "C5": 48_120, "F6": 10_164}


@exercise("2.1")
def check_2_1(answer: Any) -> str | None:
    """(parameters of our conv2, parameters of conv2 with the 1998 connection table)."""
    conv2 = lenet5("tanh").conv2
    full = sum(p.numel() for p in conv2.parameters())
    kernel = conv2.kernel_size[0] * conv2.kernel_size[1]
    table = sum(seen * maps for seen, maps in C3_TABLE.items()) * kernel + conv2.out_channels
    ours, paper = (count(v) for v in parts(answer, 2, "two numbers: (ours, with_table)"))
    if (ours, paper) == (table, full):
        return "the two are swapped: our conv2's count first, then the one with the table"
    if ours == full - conv2.out_channels or paper == table - conv2.out_channels:
        return "a filter has weights and one more parameter: did you count every filter's bias?"
    if ours != full:
        return "our conv2's 16 filters each see every one of the 6 input maps: count one filter's parameters first"
    if paper != table:
        return "with the table, a filter has one 5 × 5 kernel per input map it sees: add up over all 16 filters"
    return None


check_2_2 = exercise("2.2")(
    choice(
        "b",
        {
            "a": "what would tanh learn? It has no weights: print count_parameters(variant)",
            "c": "nothing is removed from the network; an activation is added",
            "d": "an activation keeps the shape of its input, so no later layer changes size",
        },
    )
)

check_2_3 = exercise("2.3")(
    choice(
        "b",
        {
            "a": "larger steps are not better steps: what happens when a step jumps past the minimum?",
            "c": "Adam rescales each gradient, but the learning rate still sets the size of every step",
            "d": "the network has the same weights to learn; only the step size changes",
        },
    )
)


@exercise("2.4")
def check_2_4(answer: Any) -> str | None:
    """The shape of conv3's output for one 36 × 36 image: (1, channels, height, width), a tuple or torch.Size."""
    model = lenet5("tanh")
    up_to_conv3 = model[: [name for name, _ in model.named_children()].index("conv3") + 1]
    expected = tuple(up_to_conv3(torch.zeros(1, 1, 36, 36)).shape)
    if isinstance(answer, str | Mapping) or np.ndim(answer) != 1:
        raise Unreadable("give the shape as a tuple of whole numbers, as tuple(x.shape) prints it")
    got = tuple(count(v, "each part of a shape") for v in answer)
    if got in (expected, expected[1:]):
        return None
    if len(got) < 3:
        return "give the whole shape, the number of maps included, not only the height and width"
    if got[-3:] == expected[1:]:
        return "maps, height and width are right; the shape of one image's output has four parts, starting with 1"
    if got[-3] != expected[1]:
        return "the number of maps after conv3 is its number of output channels: print(model) shows it"
    if got[-2:] == (1, 1):
        return "1 × 1 is what a 28 × 28 image gives; follow the side of a 36 × 36 image layer by layer"
    return (
        "follow the side layer by layer: conv1 pads its input by 2 on every side, so it keeps the size;"
        " each later 5 × 5 convolution takes 4 off, and a 2 × 2 pooling halves it (rounding down)"
    )


@exercise("2.5")
def check_2_5(answer: Any) -> str | None:
    """The three changes (in parameters) from the paper's LeNet-5 to ours, as a dict or a list of three numbers."""
    model = lenet5("tanh")
    ours = sum(p.numel() for p in model.parameters())
    per_layer = {name: sum(p.numel() for p in layer.parameters()) for name, layer in model.named_children()}
    pooling = -(PAPER_PARAMETERS["S2"] + PAPER_PARAMETERS["S4"])  # ours pool without weights
    expected = sorted([per_layer["conv2"] - PAPER_PARAMETERS["C3"], pooling, per_layer["fc2"]])
    changes = list(answer.values()) if isinstance(answer, Mapping) else answer
    if isinstance(changes, str) or np.ndim(changes) != 1:
        raise Unreadable("give the changes as a dict, or a list, of numbers of parameters")
    values = sorted(count(v) for v in changes)
    if values == expected:
        return None
    if len(values) != len(expected):
        return "the table of changes lists three that change the number of parameters: give one number for each"
    if sum(values) != ours - sum(PAPER_PARAMETERS.values()):
        return f"the changes must add up to {ours:,} − {sum(PAPER_PARAMETERS.values()):,}; one is wrong"
    return "the sum is right, but not the parts: conv2 against C3, the pooling layers, and the output layer"
