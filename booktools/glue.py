"""The values that a chapter's `glue()` calls stored in its outputs, and myst-nb's way of formatting them."""

from __future__ import annotations

import copy

import nbformat
from myst_nb.ext.glue import GLUE_PREFIX, extract_glue_data_cell  # GLUE_PREFIX: glue(..., display=False)'s MIME prefix


def glued_values(notebook: nbformat.NotebookNode) -> dict[str, dict]:
    """The glued MIME bundles of `notebook` by key, as myst-nb reads them (from a copy: myst-nb takes them out)."""
    cells = [cell for cell in copy.deepcopy(notebook).cells if cell.cell_type == "code"]
    glued = [found for cell in cells for found in extract_glue_data_cell(cell)]
    return {key: output["data"] for key, output in glued}


def is_glue_record(output: nbformat.NotebookNode) -> bool:
    """Whether `output` is only a glue record, which plain Jupyter and Colab cannot show."""
    data = output.get("data", {})
    return bool(data) and all(mime.startswith(GLUE_PREFIX) for mime in data)


def format_plain(text: str, spec: str) -> str:
    """`text` (a value's repr) formatted with the format `spec` by myst-nb's own {glue:text} formatter."""
    from myst_nb.core.variables import format_plain_text  # imported here: myst_nb takes 0.3 s to import

    return format_plain_text(text, spec)
