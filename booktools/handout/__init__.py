"""The printable session plan and the student handout, as HTML pages of the site and as PDFs printed by Chromium.

``python -m booktools.handout`` (run by ``make book`` after the site is built) writes into
``_build/html/teaching/``: ``plan.html`` and ``plan.pdf`` (one page: the session plan of ``book/teaching.md``,
what to skip when time runs short, the measured run times) and ``handout.html`` and ``handout.pdf`` (the key
formulas, LeNet-5's layers traced through the book's own model, every exercise with how it is checked, and
where to find the notebooks). The PDFs are printed by the headless Chromium the site tests use, from the local
HTML files, with every host name unresolvable so nothing is fetched.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import jinja2
import nbformat

from booktools import timings
from booktools.chapters import ROOT, chapters
from booktools.myst_text import Renderer
from booktools.slides import chapter_title, plan_rows

SITE = ROOT / "_build" / "html"
TEACHING = ROOT / "book" / "teaching.md"
TEMPLATES = Path(__file__).parent
CHROMIUM_PATHS = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
REPOSITORY = "https://github.com/lenet-book/lenet5-fashion-mnist"
COLAB = "https://colab.research.google.com/github/lenet-book/lenet5-fashion-mnist/blob/colab"
EXERCISE = re.compile(r"```\{exercise\}[ \t]*(?P<title>.*)\n:label: (?P<label>\S+)\n(?P<body>.*?)```", re.DOTALL)
SKIP_HEADING = "### If time runs short"


@dataclass(frozen=True)
class Exercise:
    """One exercise as the handout lists it."""

    number: str  # "2.4", as the site numbers it
    title: str  # markdown
    check: str  # how the student checks it: the verify call, or "discussion"


def exercises(path: Path, number: int) -> list[Exercise]:
    """Every exercise of a chapter in order, numbered as the site numbers them."""
    notebook = nbformat.read(path, as_version=4)
    found = []
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        for match in EXERCISE.finditer(cell.source):
            body = match.group("body").strip()
            title = match.group("title").strip() or re.split(r"(?<=[.?!])\s", body, maxsplit=1)[0]
            code = f"{number}.{len(found) + 1}"
            call = re.search(r"`(verify\(\"" + re.escape(code) + r"\"[^`]*)`", body)
            check = call.group(1) if call else ("discussion" if "Discussion." in body else "see the solution")
            found.append(Exercise(code, title, check))
    return found


def layer_table() -> list[dict]:
    """LeNet-5's layers as the book builds them: name, kind, output shape for one image, parameters."""
    import torch

    from lenet_utils import lenet5

    model = lenet5("tanh")
    x = torch.zeros(1, 1, 28, 28)
    rows = [{"name": "input", "kind": "", "shape": "1 × 28 × 28", "params": ""}]
    with torch.no_grad():
        for name, layer in model.named_children():
            x = layer(x)
            params = sum(p.numel() for p in layer.parameters())
            rows.append(
                {
                    "name": name,
                    "kind": type(layer).__name__,
                    "shape": " × ".join(map(str, x.shape[1:])),
                    "params": f"{params:,}" if params else "",
                }
            )
    total = sum(p.numel() for p in model.parameters())
    rows.append({"name": "all layers", "kind": "", "shape": "", "params": f"{total:,}"})
    return rows


def skip_list(teaching: Path = TEACHING) -> list[str]:
    """The bullets of the teaching page's "If time runs short" section."""
    section = teaching.read_text(encoding="utf-8").split(SKIP_HEADING, 1)
    if len(section) < 2:
        raise SystemExit(f"error: {teaching} has no section {SKIP_HEADING!r}, which the printable plan lists.")
    items = []
    for line in section[1].splitlines()[1:]:
        if line.startswith("#"):
            break
        if line.startswith("- "):
            items.append(line[2:].strip())
        elif items and line.startswith("  "):
            items[-1] += " " + line.strip()
    return items


def render_pages(root: Path = ROOT) -> dict[str, str]:
    """The HTML of ``plan.html`` and ``handout.html``."""
    teaching = root / "book" / "teaching.md"
    renderer = Renderer({}, "teaching", site_root="../")
    found = chapters(root)
    times = timings.substitutions(root / "book" / "_timings.json", root)
    rows = plan_rows(teaching)
    chapter_rows = [
        {
            "number": c.number,
            "title": renderer.inline(chapter_title(nbformat.read(c.path, as_version=4))),
            "cold": times[f"ch{c.number}_cold"],
            "cached": times[f"ch{c.number}_cached"],
            "stem": c.stem,
        }
        for c in found
    ]
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=jinja2.select_autoescape(["html"])
    )
    context = {
        "plan_header": [renderer.inline(c) for c in rows[0]],
        "plan": [[renderer.inline(c) for c in row] for row in rows[1:]],
        "skip": [renderer.inline(item) for item in skip_list(teaching)],
        "chapters": chapter_rows,
        "times": times,
        "layers": layer_table(),
        "exercises": [
            (e.number, renderer.inline(e.title), e.check) for c in found for e in exercises(c.path, c.number)
        ],
        "repository": REPOSITORY,
        "colab": COLAB,
    }
    return {name: environment.get_template(name).render(**context) for name in ("plan.html", "handout.html")}


def chromium() -> str:
    """The Chromium the site tests use (Debian's), or the first one on PATH."""
    for candidate in CHROMIUM_PATHS:
        found = shutil.which(candidate)
        if found:
            return found
    raise SystemExit("error: no Chromium found to print the PDFs; install it with `make system-browser`.")


def print_pdf(page: Path, pdf: Path) -> None:
    """Print a local HTML file to PDF with headless Chromium, offline."""
    with tempfile.TemporaryDirectory(prefix="handout-chromium-") as profile:
        command = [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    if done.returncode != 0 or not pdf.is_file():
        raise SystemExit(f"error: Chromium could not print {page} to {pdf}: {done.stderr.strip()[-300:]}")


def build(site: Path = SITE, root: Path = ROOT) -> list[Path]:
    """Write the two pages and their PDFs into ``site/teaching``; return the PDFs."""
    target = site / "teaching"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(TEMPLATES / "print.css", target / "print.css")
    written = []
    for name, text in render_pages(root).items():
        page = target / name
        page.write_text(text, encoding="utf-8")
        pdf = page.with_suffix(".pdf")
        print_pdf(page, pdf)
        written.append(pdf)
    return written


def main(argv: list[str] | None = None) -> int:
    """Build the plan and the handout."""
    parser = argparse.ArgumentParser(prog="python -m booktools.handout", description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=SITE, help="the built site (default: _build/html)")
    args = parser.parse_args(argv)
    for pdf in build(args.site):
        print(f"handout: {pdf}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
