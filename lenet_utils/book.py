"""Glue and guards for the book's prose that also work outside a Jupyter Book build (Colab, plain Jupyter)."""

from __future__ import annotations

import importlib.util
from typing import Any

from IPython.display import display as _display


def building_the_book() -> bool:
    """Whether myst-nb is installed, as in a book build; Colab and plain Jupyter do not have it."""
    return importlib.util.find_spec("myst_nb") is not None


def glue(name: str, value: Any, display: bool = True) -> None:
    """Record `value` under `name` for myst-nb's {glue} roles; without myst-nb, just show it."""
    if not building_the_book():
        if display:
            _display(value)
        return
    from myst_nb import glue as myst_glue

    myst_glue(name, value, display=display)


def check(claim_holds: bool, what_changed: str = "a statement in the text does not hold") -> None:
    """Guard a sentence of the prose: fail a book build when it no longer holds; elsewhere, say so and go on."""
    if claim_holds:
        return
    if building_the_book():
        raise AssertionError(f"the text no longer matches this run: {what_changed}")
    # A reader's retrain (another CPU, a GPU) lands a little elsewhere; the notebook must still run to the end.
    print(f"Note: the text describes the book's own run; in this run, {what_changed}.")
