"""What every chapter's exercise tests share: nonsense answers that every check must reject with a hint."""

from __future__ import annotations

import math


class Unconvertible:
    """An object whose every conversion raises, as a student's half-built object might."""

    def __len__(self) -> int:
        raise RuntimeError("half-built")

    def __float__(self) -> float:
        raise RuntimeError("half-built")

    def __iter__(self):
        raise RuntimeError("half-built")


NONSENSE = [None, math.nan, math.inf, -math.inf, "", "right", [], (), {}, ["a"], Unconvertible()]
