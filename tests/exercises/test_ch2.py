"""Chapter 2's exercise checks: the right answer passes in every form, every typical wrong one gets its hint."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from . import assert_rejected, assert_right
from .conftest import NONSENSE

CHANGES = {"conv2 sees all 6 maps": 900, "average pooling has no parameters": -44, "a trainable output layer": 850}


@pytest.mark.parametrize(
    ("number", "answer"),
    [
        ("2.1", (2_416, 1_516)),
        ("2.1", [2416, 1516]),
        ("2.1", (2416.0, 1516.0)),
        ("2.1", np.array([2416, 1516])),
        ("2.1", torch.tensor([2416, 1516])),
        ("2.1", (np.int64(2416), torch.tensor(1516))),
        ("2.2", "b"),
        ("2.2", "(B)"),
        ("2.3", "b"),
        ("2.4", (1, 120, 3, 3)),
        ("2.4", (120, 3, 3)),
        ("2.4", [1, 120, 3, 3]),
        ("2.4", torch.Size([1, 120, 3, 3])),
        ("2.4", np.array([1, 120, 3, 3])),
        ("2.5", CHANGES),
        ("2.5", [900, -44, 850]),
        ("2.5", (850, 900, -44)),
        ("2.5", np.array([900, -44, 850])),
        ("2.5", pd.Series(CHANGES)),
    ],
)
def test_the_right_answer_passes_in_every_form(number: str, answer, capsys) -> None:
    assert_right(number, answer, capsys)


SECRETS = {"2.1": ("2416", "2,416", "1516", "1,516", "1500", "2400"), "2.4": ("3 × 3", "(1, 120, 3, 3)", "18, 14, 7")}


@pytest.mark.parametrize(
    ("number", "answer", "hint"),
    [
        ("2.1", (2_400, 1_500), "bias"),
        ("2.1", (2_416, 1_500), "bias"),
        ("2.1", (150, 1_516), "every one of the 6 input maps"),
        ("2.1", (2_416, 2_416), "per input map it sees"),
        ("2.1", (1_516, 2_416), "swapped"),
        ("2.1", (2_416.9, 1_516.9), "not a whole number"),  # int() would truncate it to the right answer
        ("2.1", (900, 850), "every one of the 6 input maps"),  # exercise 2.5's numbers
        ("2.1", 2_416, "two numbers"),
        ("2.1", (2_416, 1_516, 16), "two numbers"),
        ("2.1", ("2416", "1516"), "give a number"),
        ("2.2", "a", "count_parameters(variant)"),
        ("2.2", "c", "an activation is added"),
        ("2.2", "d", "keeps the shape"),
        ("2.2", ["b"], "one letter"),
        ("2.3", "a", "jumps past the minimum"),
        ("2.3", "c", "the learning rate still sets the size of every step"),
        ("2.3", "d", "only the step size changes"),
        ("2.4", (1, 120, 1, 1), "28 × 28"),
        ("2.4", (1, 120, 4, 4), "rounding down"),
        ("2.4", (1, 120, 2, 2), "conv1 pads its input by 2"),  # the padding ignored: 36, 32, 16, 12, 6, 2
        ("2.4", (120, 2, 2), "conv1 pads its input by 2"),
        ("2.4", (1, 16, 3, 3), "output channels"),
        ("2.4", (2, 120, 3, 3), "four parts, starting with 1"),
        ("2.4", (1, 1, 120, 3, 3), "four parts, starting with 1"),
        ("2.4", (3, 3), "the number of maps included"),
        ("2.4", (1, 120, 3.5, 3.5), "not a whole number"),
        ("2.4", "(1, 120, 3, 3)", "tuple of whole numbers"),
        ("2.4", 9, "tuple of whole numbers"),
        ("2.5", [900, 850], "give one number for each"),
        ("2.5", [900, -12, 850], "must add up to 61,706"),
        ("2.5", [1_000, -144, 850], "the sum is right, but not the parts"),
        ("2.5", [900, -44, 850, 0], "three"),
        ("2.5", [900.5, -44.5, 850], "not a whole number"),
        ("2.5", [1_706], "give one number for each"),
        ("2.5", "900, -44, 850", "dict, or a list"),
    ],
)
def test_a_typical_wrong_answer_gets_its_hint(number: str, answer, hint: str, capsys) -> None:
    assert_rejected(number, answer, hint, capsys, *SECRETS.get(number, ()))


@pytest.mark.parametrize("number", ["2.1", "2.2", "2.3", "2.4", "2.5"])
@pytest.mark.parametrize("answer", NONSENSE)
def test_nonsense_gets_a_hint_not_a_traceback(number: str, answer, capsys) -> None:
    assert_rejected(number, answer, "", capsys, *SECRETS.get(number, ()))
