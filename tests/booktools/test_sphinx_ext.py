"""The site's extension: every build scans every chapter, and the Colab buttons open files the build makes.

The broken-cell test builds a minimal copy of the book (this _config.yml, booktools, one small chapter)
in a temporary folder: a chapter whose committed output holds an error must fail the build, and the
next build too, although Sphinx sees nothing changed; the same copy with a clean output builds.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from edition_helpers import CHAPTERS
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from pybtex.database import parse_file

from booktools.bibliography import Bibliography
from booktools.chapters import ROOT
from booktools.sphinx_ext import EDITIONS_BRANCH, AuthorYearLabels, colab_url

SITE = ROOT / "_build" / "html"
COLAB_LINK = re.compile(r'href="(https://colab\.research\.google\.com/github/[^"]+)"')


def pushed_file(url: str) -> str:
    """The path in the branch `colab` that a Colab URL opens, e.g. colab/01_data.ipynb."""
    prefix, _, path = url.partition(f"/blob/{EDITIONS_BRANCH}/")
    assert path, url
    assert prefix.startswith("https://colab.research.google.com/github/"), url
    return path


def test_the_workflow_pushes_the_editions_to_the_colab_branch() -> None:
    """`make book` writes _build/html/editions; the Pages workflow pushes that folder as the branch `colab`."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"-m booktools editions \"?_build/html/editions\"?", makefile)
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text(encoding="utf-8"))
    runs = [step.get("run", "") for job in workflow["jobs"].values() for step in job.get("steps", [])]
    push = [run for run in runs if "git push" in run]
    assert push, runs
    assert "_build/html/editions" in push[0], push
    assert f":refs/heads/{EDITIONS_BRANCH}" in push[0], push


def test_the_answer_key_is_not_published() -> None:
    """The site and the branch `colab` carry the Colab and student editions; the key is for the teacher only."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    published = re.search(r"-m booktools editions _build/html/editions (.*?)\s+#", makefile)
    assert published, "make book writes no editions into the site"
    assert published[1].split() == ["colab", "student"]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda chapter: chapter.stem)
def test_colab_urls_name_files_the_build_makes(editions: Path, chapter) -> None:
    for edition in ("colab", "student"):
        url = colab_url(edition, chapter.stem)
        assert (editions / pushed_file(url)).is_file(), url


def test_built_pages_link_only_produced_notebooks() -> None:
    """In the built site (if `make book` ran), every Colab link opens a notebook that the build wrote."""
    pages = [SITE / "book" / f"{chapter.stem}.html" for chapter in CHAPTERS] + [SITE / "book" / "teaching.html"]
    if not all(page.is_file() for page in pages):
        pytest.skip(f"no built site in {SITE}: `make book` first")
    for page in pages:
        for url in COLAB_LINK.findall(page.read_text(encoding="utf-8")):
            assert (SITE / "editions" / pushed_file(url)).is_file(), f"{page.name} links {url}"
    for chapter in CHAPTERS:
        text = (SITE / "book" / f"{chapter.stem}.html").read_text(encoding="utf-8")
        assert colab_url("colab", chapter.stem) in text, f"{chapter.stem}: no Colab button to the Colab edition"


def minimal_book(root: Path, outputs: list) -> Path:
    """A copy of the book with one chapter whose code cell has `outputs`, and this repository's tools."""
    for name in ("booktools", "_templates", "_static"):
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "_config.yml", root / "_config.yml")
    (root / "node_modules").symlink_to(ROOT / "node_modules")
    (root / "book").mkdir()
    shutil.copy(ROOT / "book" / "references.bib", root / "book" / "references.bib")
    (root / "book" / "intro.md").write_text("# Intro\n\nA minimal book.\n", encoding="utf-8")
    chapter = [new_markdown_cell("# One\n\nText."), new_code_cell("print(1)", execution_count=1, outputs=outputs)]
    kernelspec = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    nbformat.write(new_notebook(cells=chapter, metadata=kernelspec), root / "book" / "01_one.ipynb")
    toc = {"format": "jb-book", "root": "book/intro", "parts": [{"caption": "Chapters", "numbered": True,
           "chapters": [{"file": "book/01_one"}]}]}  # fmt: skip
    (root / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False), encoding="utf-8")
    return root


def build(root: Path) -> subprocess.CompletedProcess:
    """`jupyter-book build` as `make book` runs it."""
    command = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(root), "-W", "-n", "--keep-going"]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=root)


@pytest.mark.slow
def test_a_broken_cell_fails_every_build(tmp_path: Path) -> None:
    broken = new_output("error", ename="AssertionError", evalue="the text no longer matches", traceback=[])
    root = minimal_book(tmp_path / "book copy", [broken])
    for attempt in (1, 2):  # the second build finds no changed source, and still fails
        result = build(root)
        assert result.returncode != 0, f"build {attempt} passed with an error in a chapter"
        errors = [line for line in result.stderr.splitlines() if "booktools: error:" in line]
        assert len(errors) == 1, result.stderr[-2000:]
        assert "book/01_one.ipynb cell 1 shows an error" in errors[0], result.stderr[-2000:]
        assert "Traceback" not in result.stderr
    if not (ROOT / "node_modules" / "mathjax").is_dir():
        pytest.skip("npm's MathJax is not installed (`npm ci`): the clean build cannot run")
    clean = tmp_path / "clean"
    minimal_book(clean, [new_output("stream", name="stdout", text="1\n")])
    result = build(clean)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    page = (clean / "_build" / "html" / "book" / "01_one.html").read_text(encoding="utf-8")
    assert "/blob/colab/colab/01_one.ipynb" in page


def test_bibliography_labels_are_the_citations_text() -> None:
    """Two LeCun et al. 1998 papers are 1998a and 1998b on the site, as in the editions (booktools.bibliography)."""
    entries = parse_file(ROOT / "book" / "references.bib").entries
    labels = dict(zip(entries, AuthorYearLabels().format_labels(entries.values()), strict=True))
    assert {labels["lecun1998efficient"], labels["lecun1998gradient"]} == {"LeCun et al., 1998a", "LeCun et al., 1998b"}
    bibliography = Bibliography([ROOT / "book" / "references.bib"])
    assert labels["lecun1998gradient"] == "{}, {}".format(*bibliography.authors_year("lecun1998gradient"))
