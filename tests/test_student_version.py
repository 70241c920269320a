"""The student version (`make student`): chapters without solutions or outputs that run and read well in Jupyter.

The script runs on the real book/ and on small synthetic books built here for the edge cases: nested
fences, gated solutions, glue roles, exercise numbers from `_toc.yml`, references and citations, and
output folders that hold what is not the script's own (other files, changed files, symbolic links).
The runs-up-to-the-exercises test executes each student notebook up to its first exercise. Unlike the
other tests it uses the shared checkpoint cache, as `make student` users will (LENET_CACHE from the
environment, as the Makefile sets it, else the repository's .cache), so trained models load.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from markdown_it.renderer import RendererHTML
from myst_parser.config.main import MdParserConfig
from myst_parser.parsers.mdit import create_md_parser
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "make_student_version.py"
BOOK = REPO / "book"
MANIFEST = ".student_version.json"
# Read at import, before conftest's private_cache fixture points LENET_CACHE at an empty folder.
SHARED_CACHE = os.environ.get("LENET_CACHE") or str(REPO / ".cache")
CHAPTERS = sorted(path.name for path in BOOK.glob("*.ipynb"))

SOLUTION_TEXT = re.compile(r"\{solution(?:-start|-end)?\}")
# A whole plain solution block, closed by a fence of the same characters (the book's own form).
SOLUTION_BLOCK = re.compile(r"^ {0,3}(`{3,}|:{3,})\{solution\}.*?^ {0,3}\1[ \t]*$", re.M | re.S)
EXERCISE = re.compile(r"^ {0,3}(?:`{3,}|:{3,})\{exercise(?:-start)?\}", re.M)
STUDENT_EXERCISE = re.compile(r"^\*\*Exercise (\d+)\.(\d+)\*\*", re.M)
# What plain Jupyter would show raw: MyST roles, directives, targets, comments and block breaks.
MYST = create_md_parser(MdParserConfig(enable_extensions={"colon_fence", "dollarmath", "amsmath"}), RendererHTML)
MYST_ONLY = {"myst_role", "myst_target", "myst_line_comment", "myst_block_break", "colon_fence"}
GLUE_PREFIX = "application/papermill.record/"


def run_script(source: Path, target: Path) -> subprocess.CompletedProcess:
    """Run the script as `make student` does."""
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(source), str(target)], capture_output=True, text=True, timeout=120
    )


def assert_refused(result: subprocess.CompletedProcess, *words: str) -> None:
    """The script failed with one line that says why (each of `words` in it), and no traceback."""
    assert result.returncode == 1, result.stdout
    assert result.stderr.startswith("make_student_version: error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


def myst_only(text: str) -> list[str]:
    """The MyST-only syntax markdown-it finds in `text` (roles, directives, targets, comments), as strings."""
    found = []
    for token in MYST.parse(text):
        if token.type in MYST_ONLY or (token.type == "fence" and token.info.startswith("{")):
            found.append(f"{token.type} {token.info or token.content}")
        found.extend(f"role {child.meta['name']}" for child in token.children or [] if child.type == "myst_role")
    return found


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


def markdown_text(notebook: nbformat.NotebookNode) -> str:
    """All markdown cells of `notebook`, one after another."""
    return "\n\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")


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
    assert sorted(path.name for path in target.iterdir()) == sorted([*CHAPTERS, MANIFEST])  # no teaching.md
    files = json.loads((target / MANIFEST).read_text())["files"]
    assert sorted(files) == CHAPTERS
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
    assert_no_outputs(student)
    assert student.metadata.kernelspec.name == "python3"
    assert all("execution" not in cell.metadata for cell in student.cells)


@pytest.mark.parametrize("name", CHAPTERS or ["(no chapters)"])
def test_chapter_reads_well_in_plain_jupyter(student_book: tuple[Path, str], name: str) -> None:
    """No glue role, directive or other MyST-only syntax is left for Jupyter to show raw."""
    student = nbformat.read(student_book[0] / name, as_version=4)
    for cell in student.cells:
        if cell.cell_type == "markdown":
            assert not myst_only(cell.source), (myst_only(cell.source), cell.source[:300])
    assert "{glue" not in markdown_text(student)


@pytest.mark.parametrize("name", CHAPTERS or ["(no chapters)"])
def test_exercises_are_numbered_as_on_the_site(student_book: tuple[Path, str], name: str) -> None:
    """Chapter n's k-th exercise is "Exercise n.k"; book/0n_*.ipynb is the n-th chapter of _toc.yml."""
    source = nbformat.read(BOOK / name, as_version=4)
    student = nbformat.read(student_book[0] / name, as_version=4)
    count = sum(len(EXERCISE.findall(cell.source)) for cell in source.cells if cell.cell_type == "markdown")
    assert count, f"{name} has no exercises"
    chapter = int(name[:2])
    assert STUDENT_EXERCISE.findall(markdown_text(student)) == [(str(chapter), str(k)) for k in range(1, count + 1)]


@pytest.mark.parametrize("name", CHAPTERS or ["(no chapters)"])
def test_chapter_runs_up_to_the_exercises(
    student_book: tuple[Path, str], name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = nbformat.read(student_book[0] / name, as_version=4)
    first = next(
        (
            index
            for index, cell in enumerate(notebook.cells)
            if cell.cell_type == "markdown" and STUDENT_EXERCISE.search(cell.source)
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


# --------------------------------------------------------------------------- synthetic books


def write_book(root: Path, unnumbered: tuple[str, ...] = (), **notebooks: list[nbformat.NotebookNode]) -> Path:
    """A book in `root`: notebooks named by the keywords in root/book, listed in that order in a numbered part
    of root/_toc.yml (after an intro), and the `unnumbered` ones in a second, unnumbered part."""
    source = root / "book"
    source.mkdir(parents=True, exist_ok=True)
    (source / "intro.md").write_text("# Intro\n")
    for name, cells in notebooks.items():
        kernelspec = {"kernelspec": {"name": "python3", "display_name": "Python 3"}}
        nbformat.write(new_notebook(cells=cells, metadata=kernelspec), source / f"{name}.ipynb")
    numbered = [{"file": f"book/{name}"} for name in notebooks if name not in unnumbered]
    toc = {
        "format": "jb-book",
        "root": "book/intro",
        "parts": [{"caption": "Chapters", "numbered": True, "chapters": numbered}],
    }
    if unnumbered:
        toc["parts"].append({"caption": "More", "chapters": [{"file": f"book/{name}"} for name in unnumbered]})
    (root / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))
    return source


def glue_output(name: str, value: str) -> nbformat.NotebookNode:
    """A display output as myst-nb's glue(name, ..., display=False) stores it; `value` is the object's repr."""
    return new_output(
        "display_data",
        data={f"{GLUE_PREFIX}text/plain": value},
        metadata={"scrapbook": {"name": name, "mime_prefix": GLUE_PREFIX}},
    )


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


def test_nested_fences(tmp_path: Path) -> None:
    source = write_book(tmp_path, nested=[new_markdown_cell("# Nested"), new_markdown_cell(NESTED)])
    result = run_script(source, tmp_path / "student")
    assert result.returncode == 0, result.stderr
    assert "nested.ipynb: 0 cells removed, 5 solution blocks" in result.stdout
    text = nbformat.read(tmp_path / "student" / "nested.ipynb", as_version=4).cells[1].source
    assert "SECRET" not in text
    for kept in (
        "**Exercise 1.1** (Nested fences)\n\nThe exercise keeps its example:",
        'print("exercise code stays")',
        "> **Teacher's note**\n>\n> The note stays.",
        "> So does its last line.",
        "```inline code``` on a line of its own is not a fence.",
        "````markdown\n```{solution} shown-as-code\nA code block that shows the syntax is text, not a solution.",
        "After the solutions.",
    ):
        assert kept in text
    assert ":label:" not in text and "{exercise}" not in text and "{admonition}" not in text


GATED = [
    new_markdown_cell("# A chapter"),
    new_code_cell(
        "a = 1",
        execution_count=1,
        outputs=[new_output("stream", name="stdout", text="1\n")],
        metadata={
            "tags": ["hide-input"],
            "execution": {"iopub.execute_input": "2026-11-26T10:00:00Z"},
            "scrolled": True,
        },
    ),
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


def test_gated_and_tagged_solutions(tmp_path: Path) -> None:
    tagged = new_code_cell("SECRET_13 = 4", metadata={"tags": ["solution"]})
    source = write_book(tmp_path, gated=[*GATED, tagged])
    result = run_script(source, tmp_path / "student")
    assert result.returncode == 0, result.stderr
    assert "gated.ipynb: 7 cells removed" in result.stdout
    student = nbformat.read(tmp_path / "student" / "gated.ipynb", as_version=4)
    assert [cell.source for cell in student.cells] == [
        GATED[0].source,
        "a = 1",
        "**Exercise 1.1** (First)\n\nCompute something.",
        "Before the gate.",
        "**Exercise 1.2** (Second)\n\nAnd again.",
        "After the gate.",
        "b = 2",
    ]
    assert_no_outputs(student)
    assert student.cells[1].metadata == {"tags": ["hide-input"]}  # no timestamps; tags stay for a later build
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
    source = write_book(tmp_path, a_fine_chapter=[new_markdown_cell("# Fine")], gated=cells)
    result = run_script(source, tmp_path / "student")
    assert result.returncode == 1
    assert re.fullmatch(f"make_student_version: error: {message}\n", result.stderr), result.stderr
    assert not (tmp_path / "student").exists()  # nothing written, not even the fine chapter


def test_no_chapters_fails_clearly(tmp_path: Path) -> None:
    source = write_book(tmp_path)
    nbformat.write(new_notebook(cells=[new_markdown_cell("# Scratch")]), source / "scratch.ipynb")  # not in the toc
    assert_refused(run_script(source, tmp_path / "student"), "no notebooks", str(source), "_toc.yml")
    assert not (tmp_path / "student").exists()


def test_missing_source_fails_clearly(tmp_path: Path) -> None:
    write_book(tmp_path, chapter=[new_markdown_cell("# One")])
    assert_refused(run_script(tmp_path / "bok", tmp_path / "student"), "bok is not a folder")


def test_no_toc_fails_clearly(tmp_path: Path) -> None:
    source = write_book(tmp_path / "nested" / "deeper", chapter=[new_markdown_cell("# One")])
    (tmp_path / "nested" / "deeper" / "_toc.yml").unlink()
    assert_refused(run_script(source, tmp_path / "student"), "no _toc.yml")


# --------------------------------------------------------------------------- glue, references, numbers

GLUED = [
    new_markdown_cell(
        "# Glued\n\n"
        "The net has {glue:text}`params:,d` parameters and reaches {glue:text}`acc:.2%` with\n"
        "{glue:text}`activation` ({glue}`acc`); the syntax is `` {glue:text}`params:,d` ``.\n\n"
        "| model | accuracy |\n| --- | --- |\n| {glue:text}`activation` | {glue:text}`acc:.1%` |"
    ),
    new_code_cell(
        'glue("params", 61706, display=False)',
        outputs=[glue_output("params", "61706"), glue_output("acc", "0.87341"), glue_output("activation", "'tanh'")],
    ),
    new_markdown_cell(
        # A backtick fence may not have backticks in its title: a title with a role needs a colon fence.
        "::::{exercise} Beat {glue:text}`acc:.0%`\n:label: glued-ex\n\n"
        ":::{tip}\nStart from {glue:text}`params:,d` parameters.\n:::\n::::"
    ),
]


def test_glue_roles_become_their_values(tmp_path: Path) -> None:
    source = write_book(tmp_path, glued=GLUED)
    result = run_script(source, tmp_path / "student")
    assert result.returncode == 0, result.stderr
    cells = nbformat.read(tmp_path / "student" / "glued.ipynb", as_version=4).cells
    assert cells[0].source == (
        "# Glued\n\nThe net has 61,706 parameters and reaches 87.34% with\n"
        "tanh (0.87341); the syntax is `` {glue:text}`params:,d` ``.\n\n"  # a code span stays as it is
        "| model | accuracy |\n| --- | --- |\n| tanh | 87.3% |"
    )
    assert cells[1].outputs == []
    assert cells[2].source == "**Exercise 1.1** (Beat 87%)\n\n> **Tip**\n>\n> Start from 61,706 parameters."


def test_missing_glue_fails_clearly(tmp_path: Path) -> None:
    cells = [new_markdown_cell("Reaches {glue:text}`acc:.2%`."), new_code_cell("glue('acc', 0.9)")]  # not executed
    source = write_book(tmp_path, unexecuted=cells)
    assert_refused(run_script(source, tmp_path / "student"), "unexecuted.ipynb: cell 0", "'acc'", "execute")
    assert not (tmp_path / "student").exists()


def test_exercise_numbers_follow_the_toc(tmp_path: Path) -> None:
    """The second notebook of _toc.yml is chapter 2, whatever its file name or title; references follow."""
    first = [
        new_markdown_cell("# 7. Titled with another number\n\n(ch-sec)=\n## A section"),
        new_markdown_cell("```{exercise}\n:label: b-ex1\nOne.\n```"),
        new_markdown_cell("```{exercise} Unnumbered\n:nonumber:\nAside.\n```"),
        new_markdown_cell("```{exercise} Two\n---\nlabel: b-ex2\n---\nTwo.\n```"),  # options as YAML
    ]
    second = [
        new_markdown_cell(
            "# 1. Named first\n\nSee {numref}`b-ex2`, {ref}`b-ex1`, {ref}`this one <a-ex1>`, "
            "{numref}`Task %s <a-ex1>` and {ref}`ch-sec`.\n\n% a comment for authors\n\n+++\n\nEnd."
        ),
        new_markdown_cell("::::{exercise} Self\n:label: a-ex1\n::::"),
        new_markdown_cell("```{exercise-start} Gated\n:label: a-ex2\n```\n\nRun this:"),
        new_code_cell("x = 1"),
        new_markdown_cell("```{exercise-end}\n```\n\nAfter."),
    ]
    extra = [new_markdown_cell("```{exercise} Appendix\nThree.\n```")]
    source = write_book(tmp_path, b_first=first, a_second=second, appendix=extra, unnumbered=("appendix",))
    result = run_script(source, tmp_path / "student")
    assert result.returncode == 0, result.stderr
    text = markdown_text(nbformat.read(tmp_path / "student" / "b_first.ipynb", as_version=4))
    assert STUDENT_EXERCISE.findall(text) == [("1", "1"), ("1", "2")]
    assert "**Exercise** (Unnumbered)" in text and "(ch-sec)=" not in text
    second_text = markdown_text(nbformat.read(tmp_path / "student" / "a_second.ipynb", as_version=4))
    assert second_text.startswith(
        "# 1. Named first\n\nSee Exercise 1.2, Exercise 1.1, this one, Task 2.1 and A section.\n\nEnd."
    )
    assert "**Exercise 2.1** (Self)" in second_text and "**Exercise 2.2** (Gated)\n\nRun this:" in second_text
    assert "{exercise" not in second_text and second_text.endswith("After.")
    appendix = markdown_text(nbformat.read(tmp_path / "student" / "appendix.ipynb", as_version=4))
    assert appendix.startswith("**Exercise 1** (Appendix)")


def test_citations_become_author_year(tmp_path: Path) -> None:
    cells = [new_markdown_cell("As {cite}`one` and {cite:t}`three,two` showed {cite}`one,two`.")]
    source = write_book(tmp_path, cited=cells)
    (tmp_path / "refs.bib").write_text(
        "@article{one, author = {Lovelace, Ada}, title = {Notes}, year = {1843}}\n"
        "@article{two, author = {Turing, Alan and Church, Alonzo}, title = {T}, year = {1936}}\n"
        "@article{three, author = {LeCun, Yann and Bottou, L{\\'e}on and Bengio, Yoshua}, title = {G}, year = {1998}}\n"
        "@misc{four, author = {{Zalando Research}}, title = {README}, year = {2017}}\n"
    )
    (tmp_path / "_config.yml").write_text("bibtex_bibfiles:\n  - refs.bib\n")
    result = run_script(source, tmp_path / "student")
    assert result.returncode == 0, result.stderr
    text = nbformat.read(tmp_path / "student" / "cited.ipynb", as_version=4).cells[0].source
    assert text == (
        "As (Lovelace, 1843) and LeCun et al. (1998); Turing and Church (1936) showed "
        "(Lovelace, 1843; Turing and Church, 1936)."
    )
    nbformat.write(new_notebook(cells=[new_markdown_cell("{cite}`five`")]), source / "cited.ipynb")
    assert_refused(run_script(source, tmp_path / "student2"), "cited.ipynb: cell 0", "'five'")


def test_unknown_reference_fails_clearly(tmp_path: Path) -> None:
    source = write_book(tmp_path, chapter=[new_markdown_cell("See {numref}`nowhere`.")])
    assert_refused(run_script(source, tmp_path / "student"), "chapter.ipynb", "'nowhere'")


# --------------------------------------------------------------------------- the output folder is the teacher's


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """A small book with one chapter, its source folder."""
    return write_book(tmp_path, gated=GATED)


def test_other_files_in_the_output_folder_survive(book: Path, tmp_path: Path) -> None:
    course = tmp_path / "course"
    course.mkdir()
    own_work = nbformat.writes(new_notebook(cells=[new_markdown_cell("# Mine")]))
    (course / "my_own_work.ipynb").write_text(own_work)
    (course / "notes.txt").write_text("mine")
    for _ in range(2):  # the second run replaces the script's own files and nothing else
        result = run_script(book, course)
        assert result.returncode == 0, result.stderr
    assert (course / "my_own_work.ipynb").read_text() == own_work and (course / "notes.txt").read_text() == "mine"
    assert json.loads((course / MANIFEST).read_text())["files"].keys() == {"gated.ipynb"}
    umask = os.umask(0)
    os.umask(umask)
    assert (course / "gated.ipynb").stat().st_mode & 0o777 == 0o666 & ~umask  # not a temporary file's 0600


def test_never_writes_through_a_link(book: Path, tmp_path: Path) -> None:
    """A link in the output folder to the book's own notebook must not cost the book its solutions."""
    target = tmp_path / "student"
    target.mkdir()
    (target / "gated.ipynb").symlink_to(book / "gated.ipynb")
    before = (book / "gated.ipynb").read_bytes()
    assert_refused(run_script(book, target), "gated.ipynb is a symbolic link")
    assert (book / "gated.ipynb").read_bytes() == before
    assert (target / "gated.ipynb").is_symlink() and not (target / MANIFEST).exists()


@pytest.mark.parametrize("link", ["folder", "manifest"])
def test_refuses_a_linked_folder_or_manifest(book: Path, tmp_path: Path, link: str) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = tmp_path / "student"
    if link == "folder":
        target.symlink_to(book)  # would write the student version over the book
    else:
        target.mkdir()
        (target / MANIFEST).symlink_to(elsewhere / "manifest.json")
    assert_refused(run_script(book, target), "symbolic link")
    assert sorted(path.name for path in elsewhere.iterdir()) == []
    assert nbformat.read(book / "gated.ipynb", as_version=4).cells[1].outputs  # the book is untouched


def test_refuses_to_replace_a_file_it_did_not_write(book: Path, tmp_path: Path) -> None:
    target = tmp_path / "student"
    target.mkdir()
    (target / "gated.ipynb").write_text("the teacher's own gated.ipynb")
    assert_refused(run_script(book, target), "gated.ipynb exists and this script did not write it")
    assert (target / "gated.ipynb").read_text() == "the teacher's own gated.ipynb"


def test_refuses_to_replace_a_file_changed_since_it_wrote_it(book: Path, tmp_path: Path) -> None:
    target = tmp_path / "student"
    assert run_script(book, target).returncode == 0
    with (target / "gated.ipynb").open("a") as stream:
        stream.write("\n")  # the teacher added something
    changed = (target / "gated.ipynb").read_text()
    assert_refused(run_script(book, target), "gated.ipynb was changed since this script wrote it")
    assert (target / "gated.ipynb").read_text() == changed


@pytest.mark.parametrize("problem", ["not a folder", "damaged manifest"])
def test_refuses_an_unusable_output_folder(book: Path, tmp_path: Path, problem: str) -> None:
    target = tmp_path / "student"
    if problem == "not a folder":
        target.write_text("a file")
        words = ("is not a folder",)
    else:
        target.mkdir()
        (target / MANIFEST).write_text("{not json")
        words = (MANIFEST, "not a manifest this script wrote")
    assert_refused(run_script(book, target), *words)


def test_removes_only_its_own_unchanged_stale_notebooks(tmp_path: Path) -> None:
    """A chapter that left the book goes from the output, unless someone changed its student copy."""
    old = write_book(tmp_path / "old", gated=GATED, renamed=GATED, edited=GATED)
    target = tmp_path / "student"
    assert run_script(old, target).returncode == 0
    (target / "edited.ipynb").write_text("changed by the teacher")
    new = write_book(tmp_path / "new", gated=GATED)
    result = run_script(new, target)
    assert result.returncode == 0, result.stderr
    assert "renamed.ipynb: removed" in result.stdout
    assert sorted(path.name for path in target.iterdir()) == [MANIFEST, "edited.ipynb", "gated.ipynb"]
    assert json.loads((target / MANIFEST).read_text())["files"].keys() == {"gated.ipynb"}
