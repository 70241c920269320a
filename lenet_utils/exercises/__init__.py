"""Exercises that check themselves: `verify("2.1", answer)` says at once whether an answer is right.

Each chapter's checks live in its own module (`ch1`, `ch2`, ...), registered with `@exercise("2.1")`. A check
takes the student's answer and returns None when it is right, or a hint: what to look at again, never the
answer. A check raises `Unreadable` (its message is the hint) for an answer it cannot read. Everything runs
locally (Colab, plain Jupyter, offline); nothing is sent anywhere.
"""

from __future__ import annotations

import importlib
import math
import pkgutil
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

import numpy as np
import torch

from ..data import DataSplits, load_fashion_mnist

Check = Callable[[Any], "str | None"]
CHECKS: dict[str, Check] = {}
LETTERS = ("a", "b", "c", "d")


class Unreadable(ValueError):
    """An answer in a form its check cannot read; the message says what to give instead."""


def exercise(number: str) -> Callable[[Check], Check]:
    """Register the decorated function as the check of exercise `number` ("2.1")."""

    def register(check: Check) -> Check:
        CHECKS[number] = check
        return check

    return register


@cache
def book_data() -> DataSplits:
    """The chapters' Fashion-MNIST splits, loaded once (tests replace this with tiny data)."""
    return load_fashion_mnist()


def _all_checks() -> dict[str, Check]:
    """Every registered check, after importing every chapter's module (so none is missing from a listing)."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return CHECKS


def _exercise_number(number: Any) -> str:
    """`number` ("2.1" or 2.1) as the key of its check; a KeyError that lists every check if there is none."""
    key = repr(float(number)) if isinstance(number, float) else str(number).strip()  # np.float64(2.1) too
    checks = _all_checks()
    if key not in checks:
        known = ", ".join(sorted(checks, key=lambda n: tuple(int(part) for part in n.split("."))))
        raise KeyError(f"there is no exercise {key} with a check; the exercises with checks are {known}")
    return key


def hint_for(number: str | float, answer: Any) -> str | None:
    """None if `answer` to exercise `number` is right, else a hint; a KeyError for an unknown exercise."""
    check = CHECKS[_exercise_number(number)]
    try:
        return check(answer)
    except Unreadable as exc:
        return str(exc)
    except Exception:  # a malformed answer (wrong type, wrong shape) is a plain hint, not Python's error text
        wanted = (check.__doc__ or "").strip().split("\n")[0]
        return f"your answer could not be read. What to give: {wanted}"


def verify(number: str | float, answer: Any) -> None:
    """Check an answer to exercise `number` ("2.1"): print "right" or a hint (`hint_for` returns it instead)."""
    try:
        key = _exercise_number(number)
    except KeyError as exc:
        print(f"✘ {exc.args[0]}.")
        return
    hint = hint_for(key, answer)
    print(f"✔ Exercise {key}: right." if hint is None else f"✘ Exercise {key}: not yet. {hint}")


def choice(expected: str, hints: Mapping[str, str]) -> Check:
    """A check for a multiple-choice question: `expected` is the right letter, `hints` explain each wrong one."""
    assert set(hints) | {expected} == set(LETTERS), "every wrong letter needs its hint"

    def check(answer: Any) -> str | None:
        """One letter, a, b, c or d, as a string."""
        letter = answer.strip().strip("().").lower() if isinstance(answer, str) else None
        if letter not in LETTERS:
            raise Unreadable('give your choice as one letter in quotes: "a", "b", "c" or "d"')
        return None if letter == expected else hints[letter]

    return check


def number(answer: Any) -> float:
    """`answer` as one finite number (a Python, NumPy or PyTorch scalar, or a one-element array)."""
    if answer is None or isinstance(answer, str | bytes | bool):
        raise Unreadable(f"give a number, not {answer!r}")
    try:
        values = array(answer)
    except (TypeError, ValueError):
        raise Unreadable(f"give a number, not a {type(answer).__name__}") from None
    if values.size != 1:
        raise Unreadable("give one number here, not a list of them")  # never their count: it may be the answer
    value = float(values.item())
    if not math.isfinite(value):
        raise Unreadable(f"{value} is not a result: look for a division by zero, or a mean over nothing")
    return value


def array(values: Any) -> np.ndarray:
    """A tensor, DataFrame, array, nested list or number as a NumPy array of floats."""
    return np.asarray(values.detach().cpu() if isinstance(values, torch.Tensor) else values, dtype=float)


def count(answer: Any, what: str = "a count") -> int:
    """`answer` as a whole number (`what` it is, for the hint); a fraction is refused, not truncated."""
    value = number(answer)
    if value != round(value):
        again = ": count again rather than round" if what == "a count" else ""
        raise Unreadable(f"{value:g} is not a whole number, and {what} is{again}")
    return round(value)


def parts(answer: Any, n: int, what: str) -> list:
    """The `n` parts of a tuple-like answer (tuple, list, array, tensor); Unreadable with `what` otherwise."""
    if isinstance(answer, str | bytes | Mapping) or not hasattr(answer, "__len__") or len(answer) != n:
        raise Unreadable(f"give {what}")
    return list(answer)


def matches(value: float, expected: float, rel_tol: float = 1e-6) -> bool:
    """Whether `value` is `expected` or it rounded to 2 significant digits or more (0.016, not 0.015 or 0.0166)."""
    if math.isclose(value, expected, rel_tol=rel_tol, abs_tol=1e-12):
        return True
    return any(math.isclose(value, float(f"{expected:.{digits - 1}e}"), rel_tol=1e-9) for digits in range(2, 16))


def _cut(value: float, expected: float) -> bool:
    """Whether `value` is `expected` rounded to one significant figure or some decimals, or cut off anywhere."""
    if 0 in (value, expected):
        return False
    scale = 10.0 ** math.floor(math.log10(abs(expected)))
    shortened = {float(f"{expected:.0e}")} | {round(expected, d) for d in range(15)}  # -0.06 as -0.1 too
    shortened |= {math.trunc(expected / scale * 10**d) * scale / 10**d for d in range(15)}  # cut after d + 1 figures
    return any(math.isclose(value, s, rel_tol=1e-9) for s in shortened)


def agrees(values: Any, expected: Any) -> bool:
    """Whether each value `matches` its expected one, the rule of every check; Unreadable if some are only rounded
    too far or cut off (a different method gets its own hint, never this one)."""
    pairs = list(zip(np.atleast_1d(values).tolist(), np.atleast_1d(expected).tolist(), strict=True))
    right = [matches(v, e, rel_tol=1e-4) for v, e in pairs]  # 1e-4: a float32 sum of many pixels is still right
    if all(right):
        return True
    if all(ok or _cut(v, e) for ok, (v, e) in zip(right, pairs, strict=True)):
        raise Unreadable("close, but not it: give every number to 2 significant figures or more, rounded, not cut off")
    return False
