"""Where the book keeps downloaded data and trained checkpoints, and whether it can write there."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

CACHE_ENV = "LENET_CACHE"


def cache_dir() -> Path:
    """Return the cache directory: $LENET_CACHE (a leading ~ means the home folder), else ~/.cache/lenet_utils."""
    return Path(os.environ.get(CACHE_ENV) or "~/.cache/lenet_utils").expanduser()


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
