"""The Colab edition of the real book, read as plain Jupyter (and Colab) shows it.

No MyST syntax is left in any markdown cell; every figure's caption is under its figure; "Run all"
runs no solution (no code cell of a solution is a code cell here), yet every solution is there,
folded in <details> with its code and reference output; the cells the site removes are folded or
gone; the reference run's outputs are kept, without glue records; citations end in a reference list.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from edition_helpers import CHAPTERS, GLUE_PREFIX, markdown_text, myst_only

from booktools.editions import HIDDEN
from booktools.install import requirement

STEMS = [chapter.stem for chapter in CHAPTERS]
# Beyond markdown-it's tokens: what a reader would recognise as MyST left raw.
RAW_MYST = re.compile(r"\{[\w:-]+\}`|^\s*(?:`{3,}|:{3,})\{|^\s*:[\w-]+:\s|^\s*\([\w-]+\)=\s*$|\{glue", re.M)


def source(stem: str) -> nbformat.NotebookNode:
    """The chapter as committed in book/."""
    return nbformat.read(next(c.path for c in CHAPTERS if c.stem == stem), as_version=4)


def colab(editions: Path, stem: str) -> nbformat.NotebookNode:
    """The chapter's Colab edition."""
    return nbformat.read(editions / "colab" / f"{stem}.ipynb", as_version=4)


def solution_code(notebook: nbformat.NotebookNode) -> list[str]:
    """The code cells between a solution-start and its solution-end (and those tagged solution), but the removed."""
    found, gated = [], False
    for cell in notebook.cells:
        text = cell.source.lower()
        if cell.cell_type == "markdown" and "{solution-start}" in text:
            gated = "{solution-end}" not in text.split("{solution-start}")[-1]
        elif cell.cell_type == "markdown" and "{solution-end}" in text:
            gated = False
        elif cell.cell_type == "code" and "remove-cell" not in (tags := cell.metadata.get("tags", [])):
            found += [cell.source] if gated or "solution" in tags else []
    return found


def test_every_chapter_has_a_colab_edition(editions: Path) -> None:
    assert STEMS
    assert sorted(path.stem for path in (editions / "colab").glob("*.ipynb")) == sorted(STEMS)


@pytest.mark.parametrize("stem", STEMS)
def test_no_myst_syntax(editions: Path, stem: str) -> None:
    notebook = colab(editions, stem)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            outside_code = re.sub(r"^(`{3,}).*?^\1", "", cell.source, flags=re.M | re.S)  # code blocks show code
            assert not myst_only(cell.source), (myst_only(cell.source), cell.source[:300])
            assert not RAW_MYST.search(re.sub(r"`[^`\n]+`", "", outside_code)), cell.source[:300]


@pytest.mark.parametrize("stem", STEMS)
def test_captions_under_their_figures(editions: Path, stem: str) -> None:
    number = next(c.number for c in CHAPTERS if c.stem == stem)
    captions = [
        cell.metadata["mystnb"]["figure"]["caption"]
        for cell in source(stem).cells
        if cell.cell_type == "code" and cell.metadata.get("mystnb", {}).get("figure", {}).get("caption")
    ]
    cells = colab(editions, stem).cells
    shown = [
        (cells[index - 1], cell.source)
        for index, cell in enumerate(cells)
        if cell.cell_type == "markdown" and cell.source.startswith("**Fig. ")
    ]
    assert len(shown) == len(captions)
    for k, ((figure, text), caption) in enumerate(zip(shown, captions, strict=True), 1):
        assert text.startswith(f"**Fig. {number}.{k}** ")
        assert caption.split("{")[0][:40] in text  # the caption's own words (roles inside it are rendered)
        assert figure.cell_type == "code"
        assert any("image/png" in out.get("data", {}) for out in figure.outputs)


@pytest.mark.parametrize("stem", STEMS)
def test_run_all_runs_no_solution(editions: Path, stem: str) -> None:
    notebook = colab(editions, stem)
    code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    folded = "\n".join(cell.source for cell in notebook.cells if "<details>" in cell.source)
    for solution in solution_code(source(stem)):
        solution = re.sub(r"^# NBVAL_\w+\n", "", solution, flags=re.M).strip()
        assert not any(solution in cell for cell in code), solution[:200]
        assert solution in folded, f"a solution is missing from the folds: {solution[:200]}"
    assert "<summary>Solution to Exercise" in folded


@pytest.mark.parametrize("stem", STEMS)
def test_reference_outputs_kept_without_glue_records(editions: Path, stem: str) -> None:
    notebook = colab(editions, stem)
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert any("image/png" in output.get("data", {}) for output in outputs)
    assert not any(mime.startswith(GLUE_PREFIX) for output in outputs for mime in output.get("data", {}))
    shown = sum(bool(cell.outputs) for cell in notebook.cells if cell.cell_type == "code")
    lesson = [c for c in source(stem).cells if c.cell_type == "code" and not c.metadata.get("tags")]
    assert shown >= sum(bool(cell.outputs) for cell in lesson) - len(solution_code(source(stem)))


@pytest.mark.parametrize("stem", STEMS)
def test_install_cell_and_plumbing(editions: Path, stem: str) -> None:
    cells = [cell for cell in colab(editions, stem).cells if cell.cell_type == "code"]
    assert f'%pip install -q "{requirement()}"' in cells[0].source
    assert not cells[0].metadata.get("jupyter")  # visible: a reader sees what it installs
    for cell in cells:
        assert not re.search(r"^glue\(", cell.source, re.M), cell.source[:200]  # top level: in a loop it stays
        assert "NBVAL" not in cell.source
        if re.search(r"^\s*check\(", cell.source, re.M):
            assert cell.source.startswith("#@title "), cell.source[:200]
            assert HIDDEN.items() <= cell.metadata.items(), cell.source[:200]


@pytest.mark.parametrize("stem", STEMS)
def test_citations_and_references(editions: Path, stem: str) -> None:
    text = markdown_text(colab(editions, stem))
    cited = re.findall(r"\{cite(?::t)?\}`([^`]+)`", markdown_text(source(stem)))
    if not cited:
        assert "## References" not in text
        return
    assert re.search(r"\([A-Z][^()]*, \d{4}[a-z]?\)|[A-Z]\w+(?: et al\.)? \(\d{4}[a-z]?\)", text)
    references = colab(editions, stem).cells[-1].source
    assert references.startswith("## References\n")
    assert len(references.splitlines()) - 2 == len({key.strip() for keys in cited for key in keys.split(",")})
