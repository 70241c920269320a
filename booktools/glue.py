"""The values that a chapter's `glue()` calls stored in its outputs, and myst-nb's way of formatting them."""

from __future__ import annotations

import ast

import nbformat

GLUE_PREFIX = "application/papermill.record/"  # the MIME prefix of glue(..., display=False): Jupyter shows nothing


def glued_values(notebook: nbformat.NotebookNode) -> dict[str, dict]:
    """The glued MIME bundles of an executed notebook by key, with the glue prefix taken off their types."""
    values = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            record = output.get("metadata", {}).get("scrapbook")
            if output.get("output_type") == "display_data" and record and "name" in record:
                prefix = record.get("mime_prefix", "")
                values[record["name"]] = {mime.removeprefix(prefix): data for mime, data in output["data"].items()}
    return values


def is_glue_record(output: nbformat.NotebookNode) -> bool:
    """Whether `output` is only a glue record, which plain Jupyter and Colab cannot show."""
    data = output.get("data", {})
    return bool(data) and all(mime.startswith(GLUE_PREFIX) for mime in data)


def format_plain(text: str, spec: str) -> str:
    """`text` (a value's repr) formatted with the format `spec`, as myst-nb's {glue:text} role does."""
    try:
        value = ast.literal_eval(text)
    except (SyntaxError, ValueError):
        value = text
    if not spec:
        return str(value)
    kind = spec[-1]
    if kind == "s":
        value = str(value)
    elif kind in "bcdoxXn":
        value = int(value)
    elif kind in "eEfFgG%":
        value = float(value)
    return format(value, spec)
