"""Where the book keeps downloaded data and trained checkpoints."""

import os
from pathlib import Path

CACHE_ENV = "LENET_CACHE"


def cache_dir() -> Path:
    """Return the cache directory: $LENET_CACHE, else ~/.cache/lenet_utils."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "lenet_utils")
