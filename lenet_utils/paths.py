"""Where the book keeps downloaded data and trained checkpoints, and whether it can write there."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from .errors import CacheError

CACHE_ENV = "LENET_CACHE"


def cache_dir() -> Path:
    """Return the cache directory: $LENET_CACHE (a leading ~ means the home folder), else ~/.cache/lenet_utils.

    A relative $LENET_CACHE is resolved once, against the first reader's working folder, and written back: the
    processes it starts (a kernel in a chapter's folder) use the same folder, not one beside each notebook.
    """
    folder = Path(os.environ.get(CACHE_ENV) or "~/.cache/lenet_utils")
    no_home = CacheError(f"no home folder is known to keep the cache in (HOME is empty or unset); set {CACHE_ENV}.")
    if folder.parts[0] == "~" and os.environ.get("HOME") == "":
        raise no_home  # Python would read an empty HOME as the root folder and write into /.cache
    try:
        folder = folder.expanduser()
    except RuntimeError:  # no HOME, and an account unknown to the password database (docker run --user 1234)
        raise no_home from None
    if not folder.is_absolute():
        try:
            folder = Path.cwd() / folder
        except OSError:  # the working folder was deleted
            raise CacheError(f"{CACHE_ENV} is relative, but the working folder is gone; make it absolute.") from None
        os.environ[CACHE_ENV] = str(folder)
    return folder


def unwritable_reason(folder: Path, needed_bytes: int = 0) -> str | None:
    """Why a file of `needed_bytes` cannot be written into `folder` (created if missing), or None if it can."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
        free = shutil.disk_usage(folder).free
    except FileExistsError:
        return "it is a file, not a folder"
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    if free < needed_bytes:
        return f"No space left on device: {free // 1024} KiB free, {needed_bytes // 1024} KiB needed"
    return None
