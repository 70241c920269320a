"""The reference run: execute every chapter in place, strictly, and stamp what it ran against.

`make notebooks` calls `python -m booktools.reference`. Each chapter runs in a fresh kernel from `book/` with
``LENET_REFERENCE_RUN=1`` (a guarded sentence that does not hold stops the run) and no download of released
weights (every model is trained here). Only a chapter that ran to the end is written back, with the metadata
``lenet_reference``: a digest of the code it ran (the package and the chapter's code cells), the machine, the
thread count, the date and its seconds. Then each chapter runs once more with the checkpoints in place (output
discarded), so the teaching page can give both times; both go to ``book/_timings.json`` (`booktools.timings`)
as each chapter finishes, so a run that stops keeps what it measured.
`machine()` is the one description of the machine, for the chapter-time benchmark too.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import nbformat
import torch
from nbconvert.preprocessors import CellExecutionError, ExecutePreprocessor

from booktools import timings
from booktools.chapters import ROOT, chapters
from lenet_utils.book import REFERENCE_ENV
from lenet_utils.paths import cache_dir
from lenet_utils.release import WEIGHTS_URL_ENV
from lenet_utils.runtime import cpu_name

METADATA_KEY = "lenet_reference"
TIMEOUT = 1800


def code_digest(notebook: nbformat.NotebookNode, package: Path = ROOT / "lenet_utils") -> str:
    """SHA-256 of the package's Python sources and the notebook's code cells: what its outputs depend on."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    for cell in notebook.cells:
        if cell.cell_type == "code":
            digest.update(cell.source.encode() + b"\0")
    return digest.hexdigest()


def machine() -> str:
    """The processor, its logical CPUs and the device the chapters train on."""
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"{cpu_name()}, {os.cpu_count()} logical CPUs, {device}"


@contextmanager
def environment(**values: str | None) -> Iterator[None]:
    """Set (None: remove) environment variables for the kernels started inside; restore them afterwards."""
    with mock.patch.dict(os.environ):
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield


def execute(path: Path, *, strict: bool) -> tuple[nbformat.NotebookNode, float]:
    """Run the notebook at `path` top to bottom in a fresh kernel; return it and its seconds."""
    notebook = nbformat.read(path, as_version=4)
    processor = ExecutePreprocessor(timeout=TIMEOUT, kernel_name="python3", record_timing=False)
    # Every model is trained here, none downloaded; the kernel inherits this environment.
    with environment(**{REFERENCE_ENV: "1" if strict else "0", WEIGHTS_URL_ENV: "off"}):
        started = time.perf_counter()
        processor.preprocess(notebook, {"metadata": {"path": str(path.parent)}})
        return notebook, time.perf_counter() - started


def _set_aside_checkpoints() -> Path | None:
    """Move the cached checkpoints out of the way (nothing is deleted), so every model is trained in this run."""
    folder = cache_dir() / "checkpoints"
    if not folder.is_dir() or not any(folder.iterdir()):
        return None
    target = folder.with_name(f"checkpoints.before-{datetime.datetime.now():%Y%m%d-%H%M%S}")
    folder.rename(target)
    return target


def main(argv: list[str] | None = None) -> int:
    """Run the reference run over every chapter (or those named); return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m booktools.reference", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="chapter stems to run (default: every chapter)")
    parser.add_argument("--allow-busy", action="store_true", help="run although the load average is 0.5 or more")
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    if load >= 0.5 and not args.allow_busy:
        print(
            f"error: the load average is {load:.2f}; the reference run needs a quiet machine (under 0.5).",
            file=sys.stderr,
        )
        return 1
    selected = [c for c in chapters() if not args.names or c.stem in args.names]
    if not selected:
        print(f"error: no chapter is called {', '.join(args.names)}; see _toc.yml.", file=sys.stderr)
        return 2
    set_aside = _set_aside_checkpoints()
    if set_aside:
        print(f"the reference run trains every model: the earlier checkpoints were moved to {set_aside}")
    stamp = {"machine": machine(), "threads": torch.get_num_threads(), "date": datetime.date.today().isoformat()}
    for chapter in selected:
        try:
            notebook, cold = execute(chapter.path, strict=True)
            notebook.metadata[METADATA_KEY] = {**stamp, "seconds": round(cold, 1), "code": code_digest(notebook)}
            nbformat.write(notebook, chapter.path)
            print(f"{chapter.path.name}: {cold:.0f} s (cold, written)", flush=True)
            _, cached = execute(chapter.path, strict=True)
        except CellExecutionError as exc:
            print(
                f"error: {chapter.path.name} failed in the reference run ({exc.ename}: "
                f"{' '.join(str(exc.evalue).split())}); a chapter is written, and its times kept, only when it ran",
                file=sys.stderr,
            )
            return 1
        print(f"{chapter.path.name}: {cached:.0f} s (checkpoints in place, not written)", flush=True)
        timings.record({chapter.stem: {"cold_s": round(cold, 1), "cached_s": round(cached, 1)}}, stamp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
