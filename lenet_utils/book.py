"""Glue for the book's prose that also works outside a Jupyter Book build (Colab, plain Jupyter)."""

from __future__ import annotations

from typing import Any

from IPython.display import display as _display


def glue(name: str, value: Any, display: bool = True) -> None:
    """Record `value` under `name` for myst-nb's {glue} roles; without myst-nb, just show it."""
    try:
        from myst_nb import glue as myst_glue
    except ImportError:  # Colab and plain Jupyter do not have myst-nb, and do not need it
        if display:
            _display(value)
        return
    myst_glue(name, value, display=display)
