"""Tests of the self-checking exercises, one file per chapter."""

from __future__ import annotations

from typing import Any

import pytest

from lenet_utils.exercises import hint_for, verify


def checked(number: str, answer: Any) -> bool:
    """Print the feedback `verify` gives a student, and return whether `answer` to `number` is right."""
    verify(number, answer)
    return hint_for(number, answer) is None


def assert_right(number: str, answer: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """`answer` passes exercise `number`, and the student reads so."""
    assert hint_for(number, answer) is None, hint_for(number, answer)
    verify(number, answer)
    assert capsys.readouterr().out == f"✔ Exercise {number}: right.\n"


def assert_rejected(number: str, answer: Any, hint: str, capsys: pytest.CaptureFixture[str], *secrets: str) -> None:
    """`answer` fails exercise `number` with one plain line (no Python error text) that contains `hint` and none of
    the `secrets` (the answer).

    A secret the hint only echoes from the answer itself (405.9 for 405) gives nothing away.
    """
    verify(number, answer)
    out = capsys.readouterr().out
    assert out.startswith(f"✘ Exercise {number}: not yet. "), out
    assert out.count("\n") == 1, out
    assert hint in out
    assert "Error" not in out, f"the hint shows Python's error text: {out}"
    given = [secret for secret in secrets if secret in out and secret not in str(answer)]
    assert not given, f"the hint gives the answer away: {out}"
