"""The editions of the real book (booktools.editions): Colab, student and answer key, read as plain Jupyter shows them.

The student edition has no solutions and no outputs; the key shows every solution; the Colab edition keeps the
reference run's outputs without glue records, folds every solution in <details> (so "Run all" runs none) and puts
every figure's caption under its figure; the student and Colab editions leave room to answer after every
exercise. No MyST syntax is left in any markdown cell. The runs-up-to-the-exercises test executes each student
notebook up to its first exercise with the shared checkpoint cache (LENET_CACHE, else the repository's .cache).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from edition_helpers import CHAPTERS, GLUE_PREFIX, STUDENT_EXERCISE, assert_no_outputs, markdown_text, myst_only

from booktools.chapters import ROOT
from booktools.editions import ANSWER_PROMPT, ANSWERS, HIDDEN
from booktools.install import requirement
from booktools.myst import ASKS_IN_WORDS

# Read at import, before conftest's private_cache fixture points LENET_CACHE at an empty folder.
NAMES = [chapter.path.name for chapter in CHAPTERS]
SOLUTION_TEXT = re.compile(r"\{solution(?:-start|-end)?\}", re.I)
# A whole plain solution block, closed by a fence of the same characters (the book's own form).
SOLUTION_BLOCK = re.compile(r"^ {0,3}(`{3,}|:{3,})\{solution\}.*?^ {0,3}\1[ \t]*$", re.M | re.S | re.I)
EXERCISE = re.compile(r"^ {0,3}(?:`{3,}|:{3,})\{exercise(?:-start)?\}", re.M)


def outside_gates(notebook: nbformat.NotebookNode) -> list[str]:
    """Sources of the code cells that are not between a solution-start and a solution-end cell."""
    sources, gated = [], False
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and "{solution-start}" in cell.source:
            gated = True
        elif cell.cell_type == "markdown" and "{solution-end}" in cell.source:
            gated = False
        elif cell.cell_type == "code" and not gated:
            sources.append(cell.source)
    return sources


def solution_lines(notebook: nbformat.NotebookNode) -> set[str]:
    """Distinctive lines (long enough not to occur by chance elsewhere) of the plain solution blocks."""
    return {
        line.strip()
        for cell in notebook.cells
        if cell.cell_type == "markdown"
        for block in SOLUTION_BLOCK.finditer(cell.source)
        for line in block[0].splitlines()[1:-1]
        if len(line.strip()) > 40
    }


def code_sources(notebook: nbformat.NotebookNode) -> list[str]:
    """The code of each code cell, without the #@title line of a folded cell."""
    return [re.sub(r"\A#@title .*\n", "", c.source) for c in notebook.cells if c.cell_type == "code" and c.source]


# --------------------------------------------------------------------------- the real book


def test_only_the_chapter_notebooks_are_written(editions: Path) -> None:
    target = editions / "student"
    assert sorted(path.name for path in target.glob("*.ipynb")) == sorted(NAMES)  # no teaching.md


@pytest.mark.parametrize("name", NAMES)
def test_chapter_without_solutions(editions: Path, name: str) -> None:
    source = nbformat.read(ROOT / "book" / name, as_version=4)
    student = nbformat.read(editions / "student" / name, as_version=4)
    nbformat.validate(student)
    for cell in student.cells:
        assert not SOLUTION_TEXT.search(cell.source), cell.source[:200]
    # Code cells: those of the chapter outside the gated solutions, in order (glue-only cells go).
    kept = code_sources(student)
    outside = [re.sub(r"^# NBVAL_\w+\n", "", code, flags=re.M) for code in outside_gates(source)]
    assert all(any(code.splitlines()[0] in other for other in outside) for code in kept[1:])
    assert f'"{requirement()}"' in kept[0]
    text = "\n".join(cell.source for cell in student.cells)
    leaked = {line for line in solution_lines(source) if line in text}
    assert not leaked, f"lines of plain solutions survived: {sorted(leaked)[:3]}"
    assert_no_outputs(student)
    assert student.metadata.kernelspec.name == "python3"
    assert all("execution" not in cell.metadata for cell in student.cells)


@pytest.mark.parametrize("name", NAMES)
def test_chapter_reads_well_in_plain_jupyter(editions: Path, name: str) -> None:
    """No glue role, directive or other MyST-only syntax is left for Jupyter to show raw."""
    student = nbformat.read(editions / "student" / name, as_version=4)
    for cell in student.cells:
        if cell.cell_type == "markdown":
            assert not myst_only(cell.source), (myst_only(cell.source), cell.source[:300])
    assert "{glue" not in markdown_text(student)


@pytest.mark.parametrize("name", NAMES)
def test_exercises_are_numbered_as_on_the_site(editions: Path, name: str) -> None:
    """Chapter n's k-th exercise is "Exercise n.k"; n is the chapter's place in _toc.yml."""
    source = nbformat.read(ROOT / "book" / name, as_version=4)
    student = nbformat.read(editions / "student" / name, as_version=4)
    count = sum(len(EXERCISE.findall(cell.source)) for cell in source.cells if cell.cell_type == "markdown")
    assert count, f"{name} has no exercises"
    chapter = next(c.number for c in CHAPTERS if c.path.name == name)
    assert STUDENT_EXERCISE.findall(markdown_text(student)) == [(str(chapter), str(k)) for k in range(1, count + 1)]


@pytest.mark.parametrize("name", NAMES)
def test_key_shows_every_solution(editions: Path, name: str) -> None:
    source = nbformat.read(ROOT / "book" / name, as_version=4)
    key = nbformat.read(editions / "key" / name, as_version=4)
    text = markdown_text(key)
    assert "<details>" not in text
    assert "**Solution to Exercise" in text
    assert all(line in text for line in solution_lines(source))
    code = code_sources(key)
    gated = [c for c in source.cells if c.cell_type == "code"]
    assert len(code) <= len(gated) + 1


def test_key_has_the_discussion_answers(editions: Path) -> None:
    answers = editions / "key" / "discussion.ipynb"
    if not (ROOT / ANSWERS).is_file():
        pytest.skip(f"{ANSWERS} is not written yet")
    notebook = nbformat.read(answers, as_version=4)
    assert notebook.cells
    assert not any(myst_only(cell.source) for cell in notebook.cells)
    assert not (editions / "student" / "discussion.ipynb").exists()
    assert not (editions / "colab" / "discussion.ipynb").exists()


def code_before_the_exercises(path: Path) -> list[str]:
    """The sources of the code cells above an edition's first exercise."""
    cells = nbformat.read(path, as_version=4).cells
    first = next(
        i for i, cell in enumerate(cells) if cell.cell_type == "markdown" and STUDENT_EXERCISE.search(cell.source)
    )
    return [cell.source for cell in cells[:first] if cell.cell_type == "code"]


@pytest.mark.parametrize("name", NAMES)
def test_the_student_edition_runs_the_code_the_colab_run_checks(editions: Path, name: str) -> None:
    """Up to the exercises a student runs the Colab edition's code, which make test runs once (test_colab_run)."""
    student = code_before_the_exercises(editions / "student" / name)
    assert student
    assert student == code_before_the_exercises(editions / "colab" / name)


@pytest.mark.parametrize("edition", ["colab", "student"])
@pytest.mark.parametrize("name", NAMES)
def test_every_exercise_is_followed_by_room_to_answer(editions: Path, edition: str, name: str) -> None:
    """An empty code cell after every exercise, then a cell to write in where it asks a question in words."""
    cells = nbformat.read(editions / edition / name, as_version=4).cells
    asked = [i for i, cell in enumerate(cells) if cell.cell_type == "markdown" and STUDENT_EXERCISE.search(cell.source)]
    assert asked
    for index in asked:
        exercise, room = cells[index].source, cells[index + 1]
        assert room.cell_type == "code", exercise[:80]
        assert room.source == "", exercise[:80]
        assert room.outputs == [], exercise[:80]
        if ASKS_IN_WORDS.search(exercise.split("**", 2)[-1]):
            assert cells[index + 2].source == ANSWER_PROMPT, exercise[:80]


@pytest.mark.parametrize(
    ("name", "number"),
    [("02_lenet5_tanh.ipynb", "2.1"), ("02_lenet5_tanh.ipynb", "2.3"), ("05_beyond_the_original.ipynb", "5.1")],
)
def test_an_exercise_asked_in_words_without_a_question_mark_gets_a_cell_to_write_in(
    editions: Path, name: str, number: str
) -> None:
    """2.1 asks to compute "without running any code", 2.3 to predict, 5.1 to explain: each wants words."""
    cells = nbformat.read(editions / "student" / name, as_version=4).cells
    index = next(i for i, cell in enumerate(cells) if f"**Exercise {number}**" in cell.source)
    assert cells[index + 2].source == ANSWER_PROMPT


def test_an_exercise_asking_only_for_code_gets_no_cell_for_words(editions: Path) -> None:
    cells = nbformat.read(editions / "student" / "04_confusion_analysis.ipynb", as_version=4).cells
    index = next(i for i, cell in enumerate(cells) if "**Exercise 4.2**" in cell.source)
    assert cells[index + 2].source != ANSWER_PROMPT


def test_the_key_leaves_no_room_to_answer(editions: Path) -> None:
    for name in NAMES:
        cells = nbformat.read(editions / "key" / name, as_version=4).cells
        assert all(cell.source for cell in cells), name


# --------------------------------------------------------------------------- the Colab edition

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
