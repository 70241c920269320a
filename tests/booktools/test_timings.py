"""booktools.timings: the one reader and writer of book/_timings.json, and the substitutions made from it."""

from __future__ import annotations

import json
from pathlib import Path

from edition_helpers import write_book
from nbformat.v4 import new_markdown_cell

from booktools import timings


def test_record_keeps_what_it_does_not_measure(tmp_path: Path) -> None:
    path = tmp_path / "_timings.json"
    path.write_text(json.dumps({"chapters": {"01_a": {"cold_s": 1.0}}, "preparation": {"room_s": 3.0}}))
    timings.record({"02_b": {"cold_s": 2.0, "cached_s": 1.5}}, {"machine": "test", "threads": 2}, path)
    measured = timings.load(path)
    assert measured["chapters"] == {"01_a": {"cold_s": 1.0}, "02_b": {"cold_s": 2.0, "cached_s": 1.5}}
    assert measured["preparation"] == {"room_s": 3.0}
    assert measured["machine"] == "test"


def test_substitutions_name_the_chapters_of_the_book_given(tmp_path: Path) -> None:
    """Every per-chapter name comes from the chapters of `root`, the Colab times too (not the repository's)."""
    root = write_book(tmp_path, only=[new_markdown_cell("# Only\n\nSome words here.")])
    record = {"chapters": {"only": {"cold_s": 130.4}}, "colab": {"cold": {"only.ipynb": {"seconds": 14.9}}}}
    (root / "book" / "_timings.json").write_text(json.dumps(record))
    values = timings.substitutions(root)
    assert values["ch1_cold"] == "2 min 10 s"
    assert values["ch1_colab_cold"] == "15 s"
    assert values["ch1_cached"] == timings.MISSING
    assert "ch2_colab_cold" not in values
    assert values["ch1_words"] == "4"  # "#" is no word
