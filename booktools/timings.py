"""The measured times that the teaching page, the plan and the handout quote, from ``book/_timings.json``.

The reference run (``python -m booktools.reference``) records each chapter's seconds there with `record`, from
cold (every model trained) and with the checkpoints in place, with the machine; the preparation times measured on
the same machine are added by hand::

    {"chapters": {"01_data": {"cold_s": 20.1, "cached_s": 9.8}, ...},
     "machine": "...", "threads": 2, "date": "2026-12-04",
     "preparation": {"room_s": 3.0, "room_train_s": 260.0, "bundle_s": 3.0, "unbundle_s": 3.0, "machine": "..."}}

This module is the only one that reads or writes the file. `substitutions` names every value, so a page writes
``{{ ch2_cached }}`` (the site gets them from `booktools.sphinx_ext`, the editions from `booktools.myst`); a value
not measured yet reads "not measured yet".
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat

from .chapters import ROOT, chapters

TIMINGS = ROOT / "book" / "_timings.json"
MISSING = "not measured yet"
READING_SPEED = 200  # words a minute: a careful first reading of technical prose
WORD = re.compile(r"[A-Za-z0-9][\w'’.,%-]*")


def load(path: Path = TIMINGS) -> dict:
    """The measurements, or an empty record when none has been made."""
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def record(times: dict[str, dict[str, float]], stamp: dict, path: Path = TIMINGS) -> None:
    """Add the chapters' `times` (stem -> cold_s, cached_s) and the machine's `stamp` to the measurements."""
    measured = load(path)
    measured.setdefault("chapters", {}).update(times)
    measured.update(stamp)
    path.write_text(json.dumps(measured, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def seconds(value: float | None) -> str:
    """A duration as a reader wants it: "14 s", "3 min 20 s"."""
    if value is None:
        return MISSING
    whole = round(value)
    return f"{whole} s" if whole < 120 else f"{whole // 60} min {whole % 60:02d} s"


def words(path: Path) -> int:
    """The words of a chapter's prose (its markdown cells: text, exercises and written solutions)."""
    notebook = nbformat.read(path, as_version=4)
    return sum(len(WORD.findall(cell.source)) for cell in notebook.cells if cell.cell_type == "markdown")


def total(values: list[float | None]) -> str:
    """The sum of durations, or MISSING unless every one was measured."""
    return seconds(sum(values)) if values and None not in values else MISSING


def substitutions(root: Path = ROOT) -> dict[str, str]:
    """Every quoted time of the book at `root` by name: ``chN_cold``, ``chN_words``, ``room_time``, ..."""
    record = load(root / TIMINGS.relative_to(ROOT))
    measured = record.get("chapters", {})
    colab = record.get("colab", {})  # the Colab edition, each chapter alone and cold, on one thread (make colab)
    values = {}
    counted = 0
    for chapter in chapters(root):
        count = words(chapter.path)
        values[f"ch{chapter.number}_words"] = f"{count:,}"
        values[f"ch{chapter.number}_reading"] = f"{round(count / READING_SPEED)} min"
        counted += count if chapter.number <= 4 else 0
        for kind in ("cold", "cached"):
            values[f"ch{chapter.number}_{kind}"] = seconds(measured.get(chapter.stem, {}).get(f"{kind}_s"))
        for kind in ("cold", "weights"):
            run = colab.get(kind, {}).get(chapter.path.name, {})
            values[f"ch{chapter.number}_colab_{kind}"] = seconds(run.get("seconds"))
    values["words_1_4"] = f"{counted:,}"
    values["reading_1_4"] = f"{round(counted / READING_SPEED)} min"
    values["reading_speed"] = str(READING_SPEED)
    values["all_cold"] = total([times.get("cold_s") for times in measured.values()])
    values["all_cached"] = total([times.get("cached_s") for times in measured.values()])
    for kind in ("cold", "weights"):
        values[f"colab_{kind}_total"] = total([run.get("seconds") for run in colab.get(kind, {}).values()])
    values["timing_machine"] = record.get("machine", MISSING)
    values["timing_date"] = record.get("date", MISSING)
    values["timing_threads"] = str(record.get("threads", MISSING))
    values["colab_machine"] = colab.get("machine", MISSING)
    values["colab_date"] = colab.get("date", MISSING)
    values["colab_install_time"] = seconds(colab.get("install_s"))  # the install line, before the first lesson cell
    preparation = record.get("preparation", {})
    for name in ("room", "room_train", "bundle", "unbundle"):
        values[f"{name}_time"] = seconds(preparation.get(f"{name}_s"))
    values["preparation_machine"] = preparation.get("machine", MISSING)
    values["preparation_date"] = preparation.get("date", MISSING)
    return values
