"""Time every chapter notebook, cold (nothing cached) and warm, and print the table.

Each chapter runs top to bottom in a fresh kernel, as a reader's run (`booktools.reference.execute`, not
strict), from the book/ folder (outputs are not written back). Cold: with an empty LENET_CACHE of its
own, so every model the chapter uses is trained, as for someone who opens that one chapter on a fresh
machine or in Colab. Warm: the same chapter again with the checkpoints the cold run left, as in a class
where the teacher ran the book beforehand. Fashion-MNIST itself is read from wherever lenet_utils finds
it (an empty cache does not mean a download when Debian's package is installed).

The table (chapter, seconds cold, seconds warm, and the machine it was measured on) is printed as
Markdown, and also written to a file with --output. The book quotes the reference run's times
(book/_timings.json); this script gives both times on your own machine. Figures are rendered as in the
book (MPLBACKEND is removed from the kernel's environment).

    .venv/bin/python benchmarks/chapter_times.py                # every chapter, cold then warm
    .venv/bin/python benchmarks/chapter_times.py --warm-only    # warm only, with $LENET_CACHE as it is
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import tempfile
from pathlib import Path

import nbformat
import torch

from booktools.chapters import chapters
from booktools.reference import environment, execute, machine
from lenet_utils.paths import cache_dir


def title(path: Path) -> str:
    """The chapter's H1 title, or its file name."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return path.stem


def run(path: Path, cache: Path) -> float:
    """Execute one notebook in a fresh kernel with LENET_CACHE=`cache`; return the wall-clock seconds."""
    with environment(LENET_CACHE=str(cache), MPLBACKEND=None):  # no MPLBACKEND: figures render as in the book
        return execute(path, strict=False)[1]


def table(rows: list[tuple[str, str, float | None, float]], note: str) -> str:
    """The Markdown table of (title, notebook, seconds cold or None, seconds warm) rows, then `note`."""
    lines = [
        "| chapter | notebook | seconds cold | seconds warm |",
        "| --- | --- | ---: | ---: |",
    ]
    for name, file, cold, warm in rows:
        lines.append(f"| {name} | `{file}` | {'n/a' if cold is None else f'{cold:.0f}'} | {warm:.0f} |")
    cold_total = sum(r[2] for r in rows if r[2] is not None)
    warm_total = sum(r[3] for r in rows)
    lines.append(
        f"| **all chapters** | | {cold_total:.0f} | {warm_total:.0f} |"
        if rows and rows[0][2] is not None
        else f"| **all chapters** | | n/a | {warm_total:.0f} |"
    )
    lines += ["", note, ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to time (default: every chapter)")
    parser.add_argument("--warm-only", action="store_true", help="only warm runs, using $LENET_CACHE as it is")
    parser.add_argument("--output", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    notebooks = [p.resolve() for p in args.notebooks] or [chapter.path for chapter in chapters()]
    description = (
        f"{machine()}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, torch {torch.__version__}"
    )
    load = os.getloadavg()[0]
    print(f"machine: {description}; load average before: {load:.2f}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="lenet-cold-cache-") as tmp:
        for path in notebooks:
            if args.warm_only:
                cold, cache = None, cache_dir()
            else:
                cache = Path(tmp) / path.stem
                cold = run(path, cache)
                print(f"{path.name}: cold {cold:.1f} s", flush=True)
            warm = run(path, cache)
            print(f"{path.name}: warm {warm:.1f} s", flush=True)
            rows.append((title(path), path.name, cold, warm))
    busy = os.getloadavg()[0] > 0.5 * (os.cpu_count() or 1) or load > 0.5 * (os.cpu_count() or 1)
    note = (
        f"Measured on {datetime.date.today():%Y-%m-%d} with `benchmarks/chapter_times.py` on {description}"
        f"{', while other work was running (timings inflated)' if busy else ''}. "
        "Cold: a fresh kernel and an empty checkpoint cache, so the chapter trains every model it uses; "
        "warm: the same with the checkpoints in place."
    )
    markdown = table(rows, note)
    print(markdown)
    if args.output:
        args.output.write_text(markdown, encoding="utf-8")
        print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
