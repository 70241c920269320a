"""booktools.glue: glued values read from a notebook's outputs and formatted as myst-nb formats them."""

from __future__ import annotations

import pytest
from edition_helpers import glue_output
from nbformat.v4 import new_code_cell, new_notebook

from booktools.glue import format_plain, glued_values, is_glue_record


@pytest.mark.parametrize(
    ("text", "spec", "shown"),
    [("61706", ",d", "61,706"), ("0.87341", ".2%", "87.34%"), ("'tanh'", "", "tanh"), ("12.6", ".0f", "13")],
)
def test_values_are_formatted_as_the_site_formats_them(text: str, spec: str, shown: str) -> None:
    assert format_plain(text, spec) == shown


def test_glued_values_come_from_the_outputs() -> None:
    record = glue_output("acc", "0.9")
    notebook = new_notebook(cells=[new_code_cell("glue('acc', 0.9, display=False)", outputs=[record])])
    assert glued_values(notebook) == {"acc": {"text/plain": "0.9"}}
    assert is_glue_record(record)
