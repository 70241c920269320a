"""The printable session plan and the students' worksheet, as HTML pages of the site and as PDFs printed by Chromium.

``python -m booktools.handout`` (run by ``make book`` after the site is built) writes into
``_build/html/teaching/``: ``plan.html`` and ``plan.pdf`` (one page for the lectern: the session plan, what to
skip when time runs short and the run times, all from ``book/teaching.md``, the in-class exercises' titles, and
links to the published site) and ``handout.html`` and ``handout.pdf`` (the worksheet: the questions of the in-class
exercises that ``booktools/slides/deck.yml`` names, each with ruled space to answer in, after the shape rules and
the layer table that deck.yml's ``worksheet`` names, and where the notebooks are: online, and offline by the file
names ``make student`` writes). Text comes from the chapters and the teaching page through ``booktools.session``;
solutions are never rendered. Every link is absolute, on the site's published address (``html.baseurl`` of
``_config.yml``, else the GitHub Pages address of its repository), and paper prints its address beside it. The
worksheet links the site's page only of chapters without an in-class exercise: the others' pages show its solution
a click away.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import jinja2

from booktools import slides
from booktools.chapters import ROOT
from booktools.install import repository_url
from booktools.myst import RenderError, load_yaml
from booktools.session import DECK, SITE, Session, in_class
from booktools.sphinx_ext import colab_url

TEMPLATES = Path(__file__).parent
CHROMIUM_PATHS = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
RUN_TIMES = "How long each chapter takes"


def site_address(root: Path = ROOT) -> str:
    """The published site's address, ending in a slash."""
    config = load_yaml(root / "_config.yml")
    if base := config.get("html", {}).get("baseurl"):
        return str(base).rstrip("/") + "/"
    owner, name = urlsplit(repository_url(root)).path.strip("/").split("/")[:2]
    return f"https://{owner}.github.io/{name}/"


def render_pages(root: Path = ROOT) -> dict[str, str]:
    """The HTML of ``plan.html`` and ``handout.html``."""
    session = Session.load(root)
    site = site_address(root)
    rows = session.plan()
    asked = in_class()
    chapters = [
        {
            "title": session.inline(session.book.documents[c.stem]),
            "page": f"{site}book/{c.stem}.html",
            "colab": colab_url("student", c.stem, root),
            "file": c.path.name,  # its name in the student edition, `make student`'s folder, for an offline lab
            "folded": any(number.startswith(f"{c.number}.") for number in asked),  # its page shows the solution
        }
        for c in session.book.chapters
    ]
    exercises = []
    for number in asked:
        title, question = session.exercise(number)
        exercises.append({"title": session.inline(title), "question": session.html(question)})
    sheet = [slides.content(session, entry) for entry in load_yaml(DECK).get("worksheet", [])]
    context = {
        "plan_header": [session.inline(cell) for cell in rows[0]],
        "plan": [[session.inline(cell) for cell in row] for row in rows[1:]],
        "skip": session.html(session.section("If time runs short"), site=site),
        "times": session.html(session.section(RUN_TIMES), [1], site=site),
        "sheet": sheet,
        "chapters": chapters,
        "exercises": exercises,
        "site": site,
    }
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=False)
    return {name: environment.get_template(name).render(**context) for name in ("plan.html", "handout.html")}


def chromium() -> str:
    """The Chromium the site tests use (Debian's), or the first one on PATH."""
    for candidate in CHROMIUM_PATHS:
        if found := shutil.which(candidate):
            return found
    raise RenderError("no Chromium found to print the PDFs; install it with `make system-browser`")


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
        raise RenderError(f"Chromium could not print '{page}' to '{pdf}': {done.stderr.strip()[-300:]}")


def build(site: Path = SITE, root: Path = ROOT) -> list[Path]:
    """Write the two pages and their PDFs into ``site/teaching``; return the PDFs."""
    target = site / "teaching"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(TEMPLATES / "print.css", target / "print.css")
    written = []
    for name, text in render_pages(root).items():
        page = target / name
        page.write_text(text, encoding="utf-8")
        print_pdf(page, page.with_suffix(".pdf"))
        written.append(page.with_suffix(".pdf"))
    return written


def main(argv: list[str] | None = None) -> int:
    """Build the plan and the worksheet; report a problem in one line on stderr."""
    parser = argparse.ArgumentParser(prog="python -m booktools.handout", description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=SITE, help="the built site (default: _build/html)")
    args = parser.parse_args(argv)
    try:
        for pdf in build(args.site):
            print(f"handout: {pdf}")
    except RenderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
