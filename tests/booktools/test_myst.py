"""The one MyST renderer (booktools.myst), on small synthetic books written here for the edge cases.

Nested fences, gated solutions, capitalised directive names (Sphinx accepts `{Solution}`), glue roles,
substitutions, exercise numbers from `_toc.yml`, references and citations, rendered through
`python -m booktools editions` as `make student` runs it.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from edition_helpers import (
    STUDENT_EXERCISE,
    assert_no_outputs,
    assert_refused,
    glue_output,
    markdown_text,
    run_booktools,
    write_book,
)
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from booktools.install import requirement


def make_student(book: Path, target: Path):
    """Write the student edition of the book at `book` into `target` (named student), as `make student` does."""
    assert target.name == "student"
    return run_booktools("editions", target.parent, "student", book=book)


# --------------------------------------------------------------------------- synthetic books


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
    result = make_student(source, tmp_path / "_build" / "student")
    assert result.returncode == 0, result.stderr
    assert "nested.ipynb: 4 cells from 2, 5 solutions cut" in result.stdout  # with room to answer the exercise
    text = markdown_text(nbformat.read(tmp_path / "_build" / "student" / "nested.ipynb", as_version=4))
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
    assert ":label:" not in text
    assert "{exercise}" not in text
    assert "{admonition}" not in text


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
    result = make_student(source, tmp_path / "_build" / "student")
    assert result.returncode == 0, result.stderr
    assert "gated.ipynb: 9 cells from 14, 3 solutions cut" in result.stdout
    student = nbformat.read(tmp_path / "_build" / "student" / "gated.ipynb", as_version=4)
    assert [cell.source for cell in student.cells] == [
        GATED[0].source,
        "#@title Code the site hides (double-click to show the code)\na = 1",
        "**Exercise 1.1** (First)\n\nCompute something.",
        "",  # room to answer
        "Before the gate.",
        "**Exercise 1.2** (Second)\n\nAnd again.",
        "",
        "After the gate.",
        "b = 2",
    ]
    assert_no_outputs(student)
    # No timestamps; tags stay; a cell the site folds is folded in Jupyter and Colab too.
    assert student.cells[1].metadata == {"tags": ["hide-input"], "jupyter": {"source_hidden": True}, "cellView": "form"}
    assert nbformat.read(source / "book" / "gated.ipynb", as_version=4).cells[1].outputs  # the source is untouched


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
    result = make_student(source, tmp_path / "_build" / "student")
    assert result.returncode == 1
    assert re.fullmatch(f"booktools: error: {message}\n", result.stderr), result.stderr
    assert not (tmp_path / "_build" / "student").exists()  # nothing written, not even the fine chapter


def test_no_chapters_fails_clearly(tmp_path: Path) -> None:
    source = write_book(tmp_path)
    nbformat.write(new_notebook(cells=[new_markdown_cell("# Scratch")]), source / "book" / "scratch.ipynb")  # no toc
    assert_refused(make_student(source, tmp_path / "_build" / "student"), "lists no chapter notebooks", "_toc.yml")
    assert not (tmp_path / "_build" / "student").exists()


def test_missing_book_fails_clearly(tmp_path: Path) -> None:
    write_book(tmp_path, chapter=[new_markdown_cell("# One")])
    assert_refused(make_student(tmp_path / "bok", tmp_path / "_build" / "student"), "no _toc.yml in", "bok")


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
    result = make_student(source, tmp_path / "_build" / "student")
    assert result.returncode == 0, result.stderr
    cells = nbformat.read(tmp_path / "_build" / "student" / "glued.ipynb", as_version=4).cells
    assert cells[0].source == (
        "# Glued\n\nThe net has 61,706 parameters and reaches 87.34% with\n"
        "tanh (0.87341); the syntax is `` {glue:text}`params:,d` ``.\n\n"  # a code span stays as it is
        "| model | accuracy |\n| --- | --- |\n| tanh | 87.3% |"
    )
    assert len(cells) == 3  # the cell that only glues shows nothing in Jupyter: it goes; room to answer follows
    assert cells[1].source == "**Exercise 1.1** (Beat 87%)\n\n> **Tip**\n>\n> Start from 61,706 parameters."


def test_missing_glue_fails_clearly(tmp_path: Path) -> None:
    cells = [new_markdown_cell("Reaches {glue:text}`acc:.2%`."), new_code_cell("glue('acc', 0.9)")]  # not executed
    source = write_book(tmp_path, unexecuted=cells)
    assert_refused(
        make_student(source, tmp_path / "_build" / "student"), "unexecuted.ipynb: cell 0", "'acc'", "execute"
    )
    assert not (tmp_path / "_build" / "student").exists()


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
    source = write_book(tmp_path, b_first=first, a_second=second)
    result = make_student(source, tmp_path / "_build" / "student")
    assert result.returncode == 0, result.stderr
    text = markdown_text(nbformat.read(tmp_path / "_build" / "student" / "b_first.ipynb", as_version=4))
    assert STUDENT_EXERCISE.findall(text) == [("1", "1"), ("1", "2")]
    assert "**Exercise** (Unnumbered)" in text
    assert "(ch-sec)=" not in text
    second_text = markdown_text(nbformat.read(tmp_path / "_build" / "student" / "a_second.ipynb", as_version=4))
    assert second_text.startswith(
        "# 1. Named first\n\nSee Exercise 1.2, Exercise 1.1, this one, Task 2.1 and A section.\n\nEnd."
    )
    assert "**Exercise 2.1** (Self)" in second_text
    assert "**Exercise 2.2** (Gated)\n\nRun this:" in second_text
    assert "{exercise" not in second_text
    assert second_text.endswith("After.")


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
    result = make_student(source, tmp_path / "_build" / "student")
    assert result.returncode == 0, result.stderr
    text = nbformat.read(tmp_path / "_build" / "student" / "cited.ipynb", as_version=4).cells[0].source
    assert text == (
        "As (Lovelace, 1843) and LeCun et al. (1998); Turing and Church (1936) showed "
        "(Lovelace, 1843; Turing and Church, 1936)."
    )
    nbformat.write(new_notebook(cells=[new_markdown_cell("{cite}`five`")]), source / "book" / "cited.ipynb")
    assert_refused(make_student(source, tmp_path / "_build" / "again" / "student"), "cited.ipynb: cell 0", "'five'")


def test_unknown_reference_fails_clearly(tmp_path: Path) -> None:
    source = write_book(tmp_path, chapter=[new_markdown_cell("See {numref}`nowhere`.")])
    assert_refused(make_student(source, tmp_path / "_build" / "student"), "chapter.ipynb", "'nowhere'")


def test_references_end_the_chapter(tmp_path: Path) -> None:
    """The Colab edition lists what a chapter cites at its end, with the author-year label the text uses."""
    source = write_book(tmp_path, cited=[new_markdown_cell("As {cite:t}`one` showed.")])
    (tmp_path / "refs.bib").write_text("@article{one, author = {Lovelace, Ada}, title = {Notes}, year = {1843}}\n")
    (tmp_path / "_config.yml").write_text("bibtex_bibfiles:\n  - refs.bib\n")
    assert run_booktools("editions", tmp_path / "_build", "colab", book=source).returncode == 0
    cells = nbformat.read(tmp_path / "_build" / "colab" / "cited.ipynb", as_version=4).cells
    assert cells[0].source == "As Lovelace (1843) showed."
    assert cells[-1].source == "## References\n\n- Lovelace (1843). Notes."  # an incomplete entry: its title


CAPITALISED = [
    new_markdown_cell("```{Exercise} Loud\n:label: loud-ex\nAsk.\n```"),
    new_markdown_cell("```{Solution} loud-ex\nSECRET-20\n```"),
    new_markdown_cell("```{SOLUTION-START} loud-ex\n```"),
    new_code_cell("SECRET_21 = 1"),
    new_markdown_cell("```{Solution-End}\n```\n\nAfter."),
]


def test_directive_names_are_compared_as_sphinx_does(tmp_path: Path) -> None:
    """docutils lowercases directive names, so `{Solution}` is a solution on the site: never in the student's copy."""
    source = write_book(tmp_path, loud=CAPITALISED)
    result = make_student(source, tmp_path / "_build" / "student")
    assert result.returncode == 0, result.stderr
    assert "loud.ipynb: 3 cells from 5, 2 solutions cut" in result.stdout
    text = "\n".join(
        cell.source for cell in nbformat.read(tmp_path / "_build" / "student" / "loud.ipynb", as_version=4).cells
    )
    assert "SECRET" not in text
    assert text == "**Exercise 1.1** (Loud)\n\nAsk.\n\nAfter."


def test_colab_folds_solutions_and_key_shows_them(tmp_path: Path) -> None:
    source = write_book(tmp_path, loud=CAPITALISED)
    for edition in ("colab", "key"):
        assert run_booktools("editions", tmp_path / "_build", edition, book=source).returncode == 0
    colab = nbformat.read(tmp_path / "_build" / "colab" / "loud.ipynb", as_version=4).cells
    assert [cell.cell_type for cell in colab] == ["markdown", "code", "markdown", "markdown", "markdown"]
    assert colab[1].source == ""  # room to answer, before the folded solutions
    assert colab[2].source == "<details>\n<summary>Solution to Exercise 1.1</summary>\n\nSECRET-20\n\n</details>"
    assert colab[3].source.startswith("<details>\n<summary>Solution to Exercise 1.1</summary>\n\n```python\nSECRET_21")
    key = nbformat.read(tmp_path / "_build" / "key" / "loud.ipynb", as_version=4).cells
    assert [cell.source for cell in key][1:4] == [
        "**Solution to Exercise 1.1**\n\nSECRET-20",
        "**Solution to Exercise 1.1**",
        "SECRET_21 = 1",
    ]
    assert key[3].cell_type == "code"


def test_install_line_is_written_from_the_version(tmp_path: Path) -> None:
    """The chapter's install cell is a template: whatever version it names, the editions install this release."""
    template = 'import importlib.util\n\nif importlib.util.find_spec("lenet_utils") is None:\n'
    template += '    %pip install -q "lenet_utils @ git+https://example.org/old@v0.0.1"'
    source = write_book(
        tmp_path, one=[new_markdown_cell("# One"), new_code_cell(template, metadata={"tags": ["remove-cell"]})]
    )
    assert make_student(source, tmp_path / "_build" / "student").returncode == 0
    cell = nbformat.read(tmp_path / "_build" / "student" / "one.ipynb", as_version=4).cells[1]
    assert cell.source.endswith(f'%pip install -q "{requirement()}"')
    assert "cellView" not in cell.metadata


SUBSTITUTIONS_ON = "parse:\n  myst_enable_extensions: [colon_fence, substitution]\n"  # as the book's _config.yml


def test_substitutions_are_filled_in_as_the_site_fills_them(tmp_path: Path) -> None:
    source = write_book(tmp_path, timed=[new_markdown_cell("# Timed\n\nIt runs in {{ ch1_cold }} (`{{ ch1_cold }}`).")])
    (source / "book" / "_timings.json").write_text('{"chapters": {"timed": {"cold_s": 12.6}}}')
    (source / "_config.yml").write_text(SUBSTITUTIONS_ON)
    assert make_student(source, tmp_path / "_build" / "student").returncode == 0
    text = markdown_text(nbformat.read(tmp_path / "_build" / "student" / "timed.ipynb", as_version=4))
    assert text == "# Timed\n\nIt runs in 13 s (`{{ ch1_cold }}`)."  # a code span stays as it is


def test_an_unknown_substitution_fails_clearly(tmp_path: Path) -> None:
    source = write_book(tmp_path, timed=[new_markdown_cell("# Timed\n\n{{ ch9_cold }}\n")])
    (source / "_config.yml").write_text(SUBSTITUTIONS_ON)
    assert_refused(make_student(source, tmp_path / "_build" / "student"), "timed.ipynb: cell 0", "{{ ch9_cold }}")
