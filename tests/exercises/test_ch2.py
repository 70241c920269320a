"""Chapter 2's exercise checks: the reference answer passes, a typical wrong one gets its hint."""

from __future__ import annotations

import pytest

from . import checked


@pytest.mark.parametrize(
    ("number", "right", "wrong", "hint"),
    [
        ("2.1", (2_416, 1_516), (2_400, 1_500), "add 16"),
        ("2.1", (2_416, 1_516), (150, 1_516), "every one of the 6 input maps"),
        ("2.1", (2_416, 1_516), (2_416, 2_416), "6 × 3 + 9 × 4 + 1 × 6"),
        ("2.2", "b", "a", "count_parameters(variant)"),
        ("2.3", "b", "c", "the learning rate still sets the size of every step"),
        ("2.4", (1, 120, 3, 3), (1, 120, 1, 1), "28 × 28"),
        ("2.4", (120, 3, 3), (1, 120, 4, 4), "rounding down"),
        ("2.5", {"conv2": 900, "pooling": -44, "fc2": 850}, [900, 850], "must add up to 61,706"),
        ("2.5", [850, -44, 900], [1_000, -144, 850], "the sum is right, but not the parts"),
    ],
)
def test_right_answer_passes_and_wrong_one_gets_its_hint(
    number: str, right, wrong, hint: str, right_then_wrong
) -> None:
    right_then_wrong(number, right, wrong, hint)


def test_a_malformed_answer_gets_a_hint_not_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert not checked("2.1", 2_416)
    assert "could not be checked" in capsys.readouterr().out
