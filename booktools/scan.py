"""The build's scan of the committed chapters: the site shows them as they are, so none may hold an error or a note.

The reference run (`make notebooks`) writes the outputs; an error, a traceback or a note (a line that
starts with `lenet_utils.book.NOTE_PREFIX`, printed where this run differs from the text) means the
reference run failed or was not the reference run, and no page may show it.
"""

from __future__ import annotations

import nbformat

from .chapters import Chapter


def output_problem(output: nbformat.NotebookNode, note_prefix: str) -> str | None:
    """What is wrong with one output, or None."""
    if output.get("output_type") == "error":
        return f"an error ({output.get('ename', 'error')}: {' '.join(str(output.get('evalue', '')).split())[:100]})"
    texts = [output.get("text", "")] if output.get("output_type") == "stream" else []
    texts += [str(value) for mime, value in output.get("data", {}).items() if mime.startswith("text/")]
    for text in texts:
        for line in str(text).splitlines():
            if line.startswith(note_prefix):
                return f"a note ({line[:160]})"
            if line.startswith("Traceback (most recent call last)"):
                return "a traceback"
    return None


def problems(chapters: list[Chapter]) -> str | None:
    """The first output of `chapters` the site must not show ("book/05_x.ipynb cell 19 shows a note (...)"), or None."""
    from lenet_utils.book import NOTE_PREFIX  # imported here: the package imports torch

    found = []
    for chapter in chapters:
        notebook = nbformat.read(chapter.path, as_version=4)
        for index, cell in enumerate(notebook.cells):
            for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
                if problem := output_problem(output, NOTE_PREFIX):
                    found.append(f"{chapter.path.parent.name}/{chapter.path.name} cell {index} shows {problem}")
    if not found:
        return None
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    return f"{found[0]}{more}; the site shows the reference run's outputs: run `make notebooks` (or fix the chapter)"
