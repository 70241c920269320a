"""The student version (`make student`): chapters without solutions or outputs that still run.

The script runs on the real book/ and on small synthetic notebooks built here for the edge cases.
The last test executes each student notebook up to its first exercise. Unlike the other tests it
uses the shared checkpoint cache, as `make student` users will (LENET_CACHE from the environment,
as the Makefile sets it, else the repository's .cache), so trained models load instead of training.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "make_student_version.py"
BOOK = REPO / "book"
# Read at import, before conftest's private_cache fixture points LENET_CACHE at an empty folder.
SHARED_CACHE = os.environ.get("LENET_CACHE") or str(REPO / ".cache")
CHAPTERS = sorted(path.name for path in BOOK.glob("*.ipynb"))

SOLUTION_TEXT = re.compile(r"\{solution(?:-start|-end)?\}")
# A whole plain solution block, closed by a fence of the same characters (the book's own form).
SOLUTION_BLOCK = re.compile(r"^ {0,3}(`{3,}|:{3,})\{solution\}.*?^ {0,3}\1[ \t]*$", re.M | re.S)
EXERCISE = re.compile(r"^ {0,3}(?:`{3,}|:{3,})\{exercise\}[^\n]*\n((?::[^\n]*\n)*)", re.M)


def run_script(source: Path, target: Path) -> subprocess.CompletedProcess:
    """Run the script as `make student` does."""
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(source), str(target)], capture_output=True, text=True, timeout=120
    )


def exercise_labels(notebook: nbformat.NotebookNode) -> list[str]:
    """The :label: of every exercise directive in the markdown cells, in order."""
    labels = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for options in EXERCISE.findall(cell.source + "\n"):
                label = re.search(r"^:label:\s*(\S+)", options, re.M)
                labels.append(label[1] if label else "(no label)")
    return labels


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


def assert_no_outputs(notebook: nbformat.NotebookNode) -> None:
    """No code cell keeps an output or an execution count."""
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:80]


# --------------------------------------------------------------------------- the real book


@pytest.fixture(scope="module")
def student_book(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The student version of the real book/, and what the script printed."""
    target = tmp_path_factory.mktemp("student") / "student"
    result = run_script(BOOK, target)
    assert result.returncode == 0, result.stderr
    return target, result.stdout


def test_book_has_chapters() -> None:
    assert CHAPTERS, f"no chapter notebooks in {BOOK}"


def test_only_the_chapter_notebooks_are_written(student_book: tuple[Path, str]) -> None:
    target, stdout = student_book
    assert sorted(path.name for path in target.iterdir()) == CHAPTERS  # no teaching.md, nothing else
    lines = stdout.splitlines()
    assert len(lines) == len(CHAPTERS)
    for line, name in zip(lines, CHAPTERS):
        assert name in line and re.search(r"\d+ cells removed", line), line


@pytest.mark.parametrize("name", CHAPTERS or ["(no chapters)"])
def test_chapter_without_solutions(student_book: tuple[Path, str], name: str) -> None:
    source = nbformat.read(BOOK / name, as_version=4)
    student = nbformat.read(student_book[0] / name, as_version=4)
    nbformat.validate(student)
    for cell in student.cells:
        assert not SOLUTION_TEXT.search(cell.source), cell.source[:200]
    # Code cells: exactly those of the chapter outside the gated solutions, in order.
    assert [cell.source for cell in student.cells if cell.cell_type == "code"] == outside_gates(source)
    text = "\n".join(cell.source for cell in student.cells)
    leaked = {line for line in solution_lines(source) if line in text}
    assert not leaked, f"lines of plain solutions survived: {sorted(leaked)[:3]}"
    labels = exercise_labels(source)
    assert labels, f"{name} has no exercises"
    assert exercise_labels(student) == labels
    assert_no_outputs(student)
    assert student.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize("name", CHAPTERS or ["(no chapters)"])
def test_chapter_runs_up_to_the_exercises(
    student_book: tuple[Path, str], name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = nbformat.read(student_book[0] / name, as_version=4)
    first = next(
        (
            index
            for index, cell in enumerate(notebook.cells)
            if cell.cell_type == "markdown" and EXERCISE.search(cell.source + "\n")
        ),
        None,
    )
    assert first is not None, f"{name} has no exercise"
    notebook.cells = notebook.cells[:first]
    monkeypatch.setenv("LENET_CACHE", SHARED_CACHE)  # the kernel inherits this process's environment
    monkeypatch.setenv("MPLBACKEND", "Agg")
    client = NotebookClient(
        notebook, kernel_name="python3", timeout=1800, resources={"metadata": {"path": str(tmp_path)}}
    )
    try:
        client.execute()
    except CellExecutionError as exc:
        pytest.fail(f"{name} fails before its first exercise:\n{exc}")
    errors = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]
    assert not errors


# --------------------------------------------------------------------------- synthetic notebooks

NESTED = """\
````{exercise} Nested fences
:label: syn-ex1

The exercise keeps its example:

```python
print("exercise code stays")
```
````

````{solution} syn-ex1
:class: dropdown

```python
print("SECRET-1")
```
````

:::{solution} syn-ex1
:class: dropdown
SECRET-2
```python
x = "SECRET-3"
```
:::

::::{solution} syn-ex1
:::{note}
SECRET-4
:::
SECRET-5
::::

```inline code``` on a line of its own is not a fence.

```{solution} syn-ex1
SECRET-6
`````

`````{admonition} Teacher's note
:class: tip
The note stays.

```{solution} syn-ex1
SECRET-7
```

So does its last line.
`````

````markdown
```{solution} shown-as-code
A code block that shows the syntax is text, not a solution.
```
````

After the solutions."""

GATED = [
    new_markdown_cell("# A chapter"),
    new_code_cell("a = 1", execution_count=1, outputs=[new_output("stream", name="stdout", text="1\n")]),
    new_markdown_cell("```{exercise} First\n:label: syn-ex2\n\nCompute something.\n```"),
    new_markdown_cell("Before the gate.\n\n```{solution-start} syn-ex2\n:class: dropdown\n```\n\nSECRET-8"),
    new_code_cell(
        "print('SECRET-9')",
        execution_count=2,
        outputs=[new_output("stream", name="stdout", text="SECRET-9\n")],
    ),
    new_markdown_cell("SECRET-10, explained between two solution code cells."),
    new_code_cell("SECRET_11 = 2", execution_count=3),
    new_markdown_cell("```{solution-end}\n```"),
    new_markdown_cell(":::{exercise} Second\n:label: syn-ex3\nAnd again.\n:::"),
    new_markdown_cell("````{solution-start} syn-ex3\n````"),
    new_code_cell("SECRET_12 = 3"),
    new_markdown_cell("```{solution-end}\n```\n\nAfter the gate."),
    new_code_cell(
        "b = 2",
        execution_count=4,
        outputs=[new_output("execute_result", data={"text/plain": "2"}, execution_count=4)],
    ),
]


def write_notebooks(folder: Path, **notebooks: list[nbformat.NotebookNode]) -> Path:
    """Write notebooks named by the keywords, each from its list of cells, into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, cells in notebooks.items():
        nbformat.write(
            new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}}),
            folder / f"{name}.ipynb",
        )
    return folder


def test_nested_fences(tmp_path: Path) -> None:
    source = write_notebooks(tmp_path / "book", nested=[new_markdown_cell("# Nested"), new_markdown_cell(NESTED)])
    result = run_script(source, tmp_path / "student")
    assert result.returncode == 0, result.stderr
    assert "nested.ipynb: 0 cells removed, 5 solution blocks" in result.stdout
    text = nbformat.read(tmp_path / "student" / "nested.ipynb", as_version=4).cells[1].source
    assert "SECRET" not in text
    for kept in (
        'print("exercise code stays")',
        ":label: syn-ex1",
        "The note stays.",
        "So does its last line.",
        "```inline code``` on a line of its own is not a fence.",
        "A code block that shows the syntax is text, not a solution.",
        "After the solutions.",
    ):
        assert kept in text
    assert text.count("`````") == 2 and text.count("````") == 6  # the admonition and the code block, closed


def test_gated_solutions(tmp_path: Path) -> None:
    source = write_notebooks(tmp_path / "book", gated=GATED)
    result = run_script(source, tmp_path / "student")
    assert result.returncode == 0, result.stderr
    assert "gated.ipynb: 6 cells removed" in result.stdout
    student = nbformat.read(tmp_path / "student" / "gated.ipynb", as_version=4)
    assert [cell.source for cell in student.cells] == [
        GATED[0].source,
        "a = 1",
        GATED[2].source,
        "Before the gate.",
        GATED[8].source,
        "After the gate.",
        "b = 2",
    ]
    assert exercise_labels(student) == ["syn-ex2", "syn-ex3"]
    assert_no_outputs(student)
    assert nbformat.read(source / "gated.ipynb", as_version=4).cells[1].outputs  # the source is untouched


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (GATED[:7], r"gated\.ipynb: the solution-start syn-ex2 in cell 3 has no matching solution-end"),
        (GATED[7:], r"gated\.ipynb: cell 0 has a solution-end without a solution-start"),
        (
            GATED[:4] + GATED[9:],
            r"gated\.ipynb: cell 4 opens a solution-start inside the solution-start syn-ex2 of cell 3",
        ),
    ],
    ids=["missing end", "end without start", "start inside start"],
)
def test_unbalanced_gates_fail_clearly(tmp_path: Path, cells: list, message: str) -> None:
    source = write_notebooks(tmp_path / "book", a_fine_chapter=[new_markdown_cell("# Fine")], gated=cells)
    result = run_script(source, tmp_path / "student")
    assert result.returncode == 1
    assert re.fullmatch(f"make_student_version: error: {message}\n", result.stderr), result.stderr
    assert not (tmp_path / "student").exists()  # nothing written, not even the fine chapter


def test_no_notebooks_fails_clearly(tmp_path: Path) -> None:
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "teaching.md").write_text("# Not a chapter\n")
    result = run_script(tmp_path / "book", tmp_path / "student")
    assert result.returncode == 1
    assert (
        result.stderr.count("\n") == 1 and "no notebooks" in result.stderr and str(tmp_path / "book") in result.stderr
    )
    assert not (tmp_path / "student").exists()


def test_stale_notebooks_are_removed(tmp_path: Path) -> None:
    source = write_notebooks(tmp_path / "book", gated=GATED)
    target = write_notebooks(tmp_path / "student", renamed_chapter=GATED)
    (target / "notes.txt").write_text("mine")
    assert run_script(source, target).returncode == 0
    assert sorted(path.name for path in target.iterdir()) == ["gated.ipynb", "notes.txt"]
