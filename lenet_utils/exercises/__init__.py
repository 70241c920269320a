"""Exercises that check themselves: `verify("2.1", answer)` says at once whether an answer is right.

Each chapter's checks live in its own module (`ch1`, `ch2`, ...), registered with `@exercise("2.1")`. A check
takes the student's answer and returns None when it is right, or a hint: what to look at again. Everything
runs locally (Colab, plain Jupyter, offline); nothing is sent anywhere.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], "str | None"]
CHECKS: dict[str, Check] = {}


def exercise(number: str) -> Callable[[Check], Check]:
    """Register the decorated function as the check of exercise `number` ("2.1")."""

    def register(check: Check) -> Check:
        CHECKS[number] = check
        return check

    return register


def hint_for(number: str, answer: Any) -> str | None:
    """None if `answer` to exercise `number` is right, else a hint; a KeyError for an unknown exercise."""
    chapter = number.split(".", 1)[0]
    module = f"{__name__}.ch{chapter}"
    if importlib.util.find_spec(module) is not None:
        importlib.import_module(module)
    if number not in CHECKS:
        known = ", ".join(sorted(CHECKS)) or "none"
        raise KeyError(f"exercise {number} has no check; the exercises with checks are: {known}")
    try:
        return CHECKS[number](answer)
    except Exception as exc:  # a malformed answer (wrong type, wrong shape) is a hint, not a traceback
        problem = f"{type(exc).__name__}: {exc}"
        return f"your answer could not be checked ({problem}); compare its type and shape with the question"


def verify(number: str, answer: Any) -> None:
    """Check an answer to exercise `number` ("2.1"): print "right" or a hint (`hint_for` returns it instead)."""
    hint = hint_for(number, answer)
    if hint is None:
        print(f"✔ Exercise {number}: right.")
    else:
        print(f"✘ Exercise {number}: not yet. {hint}")


def choice(expected: str, hints: dict[str, str], default_hint: str = "reread the question's key idea") -> Check:
    """A check for a multiple-choice question: `expected` is the right letter, `hints` explain wrong ones."""

    def check(answer: Any) -> str | None:
        letter = str(answer).strip().lower().strip("()")
        if letter == expected:
            return None
        return hints.get(letter, default_hint)

    return check


def close_to(expected: float, tolerance: float, hint: str) -> Check:
    """A check for a number: right when within `tolerance` of `expected`, else `hint`."""

    def check(answer: Any) -> str | None:
        return None if abs(float(answer) - expected) <= tolerance else hint

    return check
