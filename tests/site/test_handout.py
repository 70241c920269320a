"""The teacher's pages: the printable plan and the student handout (booktools/handout), the teaching page's
measured times (booktools/timings), its links to the kit, and the discussion answers kept for the answer key.

The PDFs are printed with the Chromium the browser tests use: once here into a temporary site (so the
generator is covered without a full build), and by ``make book`` into ``_build/html/teaching``.
Without pdftotext on the machine, the PDFs are checked for their page count and the text is checked in
the HTML they were printed from.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from site_fixtures import REPO_ROOT, SITE_DIR

from booktools import handout, timings
from booktools.chapters import chapters

TEACHING = REPO_ROOT / "book" / "teaching.md"
ANSWERS = REPO_ROOT / "book" / "answers" / "discussion.md"
PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
MAX_HANDOUT_PAGES = 2


def pages(pdf: Path) -> int:
    """The number of pages of a PDF that Chromium printed (its page objects are not compressed)."""
    return len(PAGE_OBJECT.findall(pdf.read_bytes()))


def pdf_text(pdf: Path) -> str | None:
    """The PDF's text by pdftotext, or None where poppler-utils is not installed."""
    import subprocess

    tool = shutil.which("pdftotext")
    if tool is None:
        return None
    return subprocess.run([tool, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> Path:
    """The plan and the handout printed into a temporary site folder from the book's sources."""
    site = tmp_path_factory.mktemp("teaching-site")
    written = handout.build(site)
    assert sorted(p.name for p in written) == ["handout.pdf", "plan.pdf"]
    return site / "teaching"


def check_pdfs(folder: Path) -> None:
    """The plan is one page, the handout at most two, and both hold the text they must."""
    plan, sheet = folder / "plan.pdf", folder / "handout.pdf"
    for pdf in (plan, sheet):
        assert pdf.is_file(), f"{pdf} is missing"
        assert pdf.read_bytes().startswith(b"%PDF"), f"{pdf} is not a PDF"
    assert pages(plan) == 1, f"{plan} has {pages(plan)} pages; the printable plan must fit on one"
    assert 1 <= pages(sheet) <= MAX_HANDOUT_PAGES, f"{sheet} has {pages(sheet)} pages"
    plan_text = pdf_text(plan) or (folder / "plan.html").read_text(encoding="utf-8")
    sheet_text = pdf_text(sheet) or (folder / "handout.html").read_text(encoding="utf-8")
    for row in handout.plan_rows(TEACHING)[1:]:
        assert row[0] in plan_text, f"the plan should list the block {row[0]}"
    assert "If time runs short" in plan_text
    assert "checkpoints in place" in plan_text
    for text in ("Key formulas", "conv3", "48,120", "61,706", "Exercises", "colab.research.google.com"):
        assert text in sheet_text, f"the handout should contain {text!r}"
    for chapter in chapters():
        for exercise in handout.exercises(chapter.path, chapter.number):
            assert f"<td>{exercise.number}</td>" in (folder / "handout.html").read_text(encoding="utf-8")


def test_plan_and_handout_print_from_the_sources(printed):
    check_pdfs(printed)


def test_make_book_wrote_the_plan_and_the_handout():
    folder = SITE_DIR / "teaching"
    if not (folder / "plan.pdf").is_file():
        pytest.fail(f"{folder / 'plan.pdf'} is missing; build the site with `make book`")
    check_pdfs(folder)


def test_the_handouts_layer_table_is_the_books_model():
    rows = {row["name"]: row for row in handout.layer_table()}
    assert rows["conv3"]["shape"] == "120 × 1 × 1"
    assert rows["conv3"]["params"] == "48,120"
    assert rows["all layers"]["params"] == "61,706"


def test_every_exercise_is_listed_with_its_check():
    for chapter in chapters():
        found = handout.exercises(chapter.path, chapter.number)
        assert found, f"{chapter.path.name} has no exercise the handout can list"
        assert [e.number for e in found] == [f"{chapter.number}.{k}" for k in range(1, len(found) + 1)]


# --------------------------------------------------------------------------- the measured times


def test_times_come_from_the_json_and_say_when_they_are_missing(tmp_path):
    record = {
        "chapters": {"01_data": {"cold_s": 20.4, "cached_s": 9.6}, "02_lenet5_tanh": {"cold_s": 200.0}},
        "machine": "AMD EPYC (test)",
        "date": "2026-12-04",
        "preparation": {"room_s": 250.0},
    }
    path = tmp_path / "_timings.json"
    path.write_text(json.dumps(record))
    values = timings.substitutions(path)
    assert values["ch1_cold"] == "20 s"
    assert values["ch1_cached"] == "10 s"
    assert values["ch2_cold"] == "3 min 20 s"
    assert values["ch2_cached"] == timings.MISSING
    assert values["room_time"] == "4 min 10 s"
    assert values["bundle_time"] == timings.MISSING
    assert values["timing_machine"] == "AMD EPYC (test)"
    assert timings.substitutions(tmp_path / "absent.json")["ch1_cold"] == timings.MISSING


def test_every_substitution_of_the_teaching_page_has_a_value():
    used = set(re.findall(r"\{\{\s*(\w+)\s*\}\}", TEACHING.read_text(encoding="utf-8")))
    known = set(timings.substitutions())
    assert used <= known, f"book/teaching.md uses substitutions nobody provides: {sorted(used - known)}"
    for chapter in chapters():
        for kind in ("cold", "cached"):
            assert f"ch{chapter.number}_{kind}" in used, f"the run-time table should give ch{chapter.number}_{kind}"
    assert {"room_time", "bundle_time"} <= used, "Preparing the room should say how long make room and bundle take"


def test_the_timings_extension_is_registered():
    config = yaml.safe_load((REPO_ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert "booktools.timings" in config["sphinx"]["local_extensions"]


# --------------------------------------------------------------------------- the teaching page and the answers


def test_the_teaching_page_links_the_whole_kit():
    text = TEACHING.read_text(encoding="utf-8")
    for target in ("../slides/index.html", "../teaching/plan.pdf", "../teaching/handout.pdf"):
        assert f'href="{target}"' in text, f"book/teaching.md should link {target}"
    assert "```{editions}" in text, "book/teaching.md should show the student edition and the answer key"
    assert "make room" in text
    assert "make bundle" in text


def test_every_discussion_question_has_a_model_answer_kept_off_the_site():
    text = TEACHING.read_text(encoding="utf-8")
    section = text.split("## Discussion questions", 1)[1].split("\n## ", 1)[0]
    questions = re.findall(r"^(\d+)\. ", section, re.MULTILINE)
    answers = re.findall(r"^## (\d+)\. ", ANSWERS.read_text(encoding="utf-8"), re.MULTILINE)
    assert questions, "the teaching page lists no discussion questions"
    assert answers == questions, f"questions {questions}, model answers {answers}"
    config = yaml.safe_load((REPO_ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert "book/answers" in config["exclude_patterns"], "the model answers must stay out of the site"
    assert "answers" not in (REPO_ROOT / "_toc.yml").read_text(encoding="utf-8")
    if (SITE_DIR / "index.html").is_file():
        assert not list(SITE_DIR.rglob("discussion.html")), "the model answers were published on the site"
