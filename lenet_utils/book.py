"""Glue and guards for the book's prose: the reference run fails on a false claim, any other run notes it.

The committed outputs come from one reference run (`make notebooks`, which sets ``LENET_REFERENCE_RUN=1``);
there a guarded sentence that does not hold stops the run. Every other run (another machine, another thread
count, a GPU, Colab, the test suite) may land a little elsewhere: it prints a note naming the sentence and the
value it got, and goes on.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

from .errors import LenetError, SettingError

REFERENCE_ENV = "LENET_REFERENCE_RUN"
NOTE_PREFIX = "Note: this run differs from the book's reference run."


class ClaimError(LenetError, AssertionError):
    """A guarded sentence of the book does not hold in the reference run."""


def reference_run() -> bool:
    """Whether this is the book's reference run: LENET_REFERENCE_RUN=1 (`make notebooks`); unset, empty or 0: not."""
    value = os.environ.get(REFERENCE_ENV, "")
    if value not in ("", "0", "1"):
        raise SettingError(f"{REFERENCE_ENV}={value!r} is not understood; set it to 1 for the reference run, else 0.")
    return value == "1"


def glue(name: str, value: Any, display: bool = True) -> None:
    """Record `value` under `name` for myst-nb's {glue} roles; without myst-nb (Colab), just show it."""
    if importlib.util.find_spec("myst_nb") is None:
        if display:
            from IPython.display import display as show  # here, not at import: IPython is a notebook's, not ours

            show(value)
        return
    from myst_nb import glue as myst_glue

    myst_glue(name, value, display=display)


def check(holds: bool, claim: str, got: str, *, about_time: bool = False) -> None:
    """Guard the sentence `claim`: the reference run fails if it does not hold; other runs print a note.

    `got` says what this run measured instead. A claim `about_time` is checked in the reference run only:
    elsewhere the text's times are those of the reference machine, and it says so.
    """
    if holds or (about_time and not reference_run()):
        return
    if reference_run():
        raise ClaimError(f"the text says {claim!r}, but in the reference run {got}; change the text or the code")
    print(f"{NOTE_PREFIX} The text says “{claim}”; this run got {got}.")
