"""A stop by the system (SIGTERM: `timeout`, a CI cancel, a runtime reset) cleaned up like Ctrl-C."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_received: list[bool] = []  # non-empty once SIGTERM arrived inside the outermost sigterm_as_interrupt()


def _raise_interrupt(signum: int, frame: object) -> None:
    """Signal handler: note the stop and raise it as Ctrl-C would, so that every cleanup on the way out runs."""
    _received.append(True)
    raise KeyboardInterrupt


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Inside, SIGTERM raises KeyboardInterrupt instead of ending the process at once; on the way out the process ends.

    The default action of SIGTERM ends Python without running `finally` blocks, which leaves temporary files
    behind. Nested uses, other threads and programs that handle SIGTERM themselves (a Jupyter kernel may) are
    left alone.
    """
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield
        return
    _received.clear()
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if _received:  # cleanup ran: now end as whoever sent the signal asked (exit status 128 + 15)
            sys.stdout.flush()
            sys.stderr.flush()
            os.kill(os.getpid(), signal.SIGTERM)
