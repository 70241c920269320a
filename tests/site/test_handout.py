"""The teacher's printouts (booktools/handout): the plan for the lectern, whose links point at the published site,
and the students' worksheet of the in-class exercises, with room to answer and no answers given away.

Both are printed by Chromium into a temporary site folder. Their text is checked with pdftotext where poppler-utils
is installed, else in the HTML they were printed from; link targets are read from the PDF itself.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from site_fixtures import REPO_ROOT, SITE_DIR

from booktools import handout
from booktools.myst import Book, ChapterRenderer, read_notebook
from booktools.session import Session, in_class

TEACHING = REPO_ROOT / "book" / "teaching.md"
ANSWERS = REPO_ROOT / "book" / "answers" / "discussion.md"
PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
LINK = re.compile(rb"/URI\s*\(([^)]*)\)")


def pages(pdf: Path) -> int:
    """The number of pages of a PDF that Chromium printed (its page objects are not compressed)."""
    return len(PAGE_OBJECT.findall(pdf.read_bytes()))


def text(pdf: Path) -> str:
    """The PDF's text by pdftotext, or the text of the HTML page it was printed from."""
    if tool := shutil.which("pdftotext"):
        return subprocess.run([tool, str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return re.sub(r"<[^>]+>", " ", pdf.with_suffix(".html").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> Path:
    """The plan and the worksheet printed into a temporary site folder from the book's sources."""
    site = tmp_path_factory.mktemp("teaching-site")
    assert sorted(p.name for p in handout.build(site)) == ["handout.pdf", "plan.pdf"]
    return site / "teaching"


@pytest.fixture(scope="module")
def session() -> Session:
    return Session.load(REPO_ROOT)


def test_the_plan_fits_one_page_and_lists_every_block(printed, session):
    plan = printed / "plan.pdf"
    assert pages(plan) == 1
    for row in session.plan()[1:]:
        assert row[0] in text(plan), f"the plan should list the block {row[0]}"
    assert "If time runs short" in text(plan)


def test_the_plans_links_point_at_the_published_site(printed):
    links = [link.decode() for link in LINK.findall((printed / "plan.pdf").read_bytes())]
    site = handout.site_address()
    assert links, "the plan links nothing"
    assert not [link for link in links if not link.startswith(site)], f"links off the published site {site}"
    for chapter in Session.load(REPO_ROOT).book.chapters:
        assert f"{site}book/{chapter.stem}.html" in links


def test_the_site_address_comes_from_the_config(tmp_path):
    config = {"repository": {"url": "https://github.com/owner/book"}}
    (tmp_path / "_config.yml").write_text(yaml.safe_dump(config))
    assert handout.site_address(tmp_path) == "https://owner.github.io/book/"
    config["html"] = {"baseurl": "https://example.org/lenet"}
    (tmp_path / "_config.yml").write_text(yaml.safe_dump(config))
    assert handout.site_address(tmp_path) == "https://example.org/lenet/"


def test_the_worksheet_asks_every_in_class_exercise_with_room_to_answer(printed, session):
    sheet = printed / "handout.pdf"
    page = sheet.with_suffix(".html").read_text(encoding="utf-8")
    numbers = in_class()
    assert numbers, "booktools/slides/deck.yml names no in-class exercise"
    assert 1 <= pages(sheet) <= 2
    for number in numbers:
        title, _ = session.exercise(number)
        assert title.split(" (")[0] in text(sheet), f"the worksheet should ask exercise {number}"
    assert page.count('class="space"') == len(numbers), "every question needs space to answer"


def solution_lines(root: Path) -> list[str]:
    """Every line of the chapters' written solutions, folded or between solution-start and solution-end."""
    book, lines = Book.load(root), []

    def keep(title: str, folded: list[str]) -> list[str]:
        lines.extend(folded)
        return []

    for chapter in book.chapters:
        renderer = ChapterRenderer(book, chapter, keep)
        for index, cell in enumerate(read_notebook(chapter.path).cells):
            renderer.cell = index
            if cell.cell_type == "markdown":
                lines += [line for s in renderer.markdown(cell.source) if s.gate for line in s.lines]
    return [line.strip() for line in lines if len(line.strip()) > 20]


def test_the_worksheet_gives_no_answer_away(printed, session):
    assert "Solution" not in (printed / "handout.html").read_text(encoding="utf-8")
    solutions = solution_lines(REPO_ROOT)
    assert solutions, "the chapters hold no written solution to compare with"
    for number in in_class():
        question = session.exercise(number)[1]
        assert not [line for line in solutions if line in question], f"exercise {number}'s question holds its answer"


def test_every_exercise_has_a_title_of_its_own(session):
    untitled = [number for number in session.exercises if not session.exercise(number)[0].endswith(")")]
    assert not untitled, f"exercises without a title (```{{exercise}} Title): {untitled}"


def test_the_teaching_page_links_the_kit():
    page = TEACHING.read_text(encoding="utf-8")
    for target in ("../slides/index.html", "../teaching/plan.pdf", "../teaching/handout.pdf"):
        assert f'href="{target}"' in page, f"book/teaching.md should link {target}"


def test_every_discussion_question_has_a_model_answer_kept_off_the_site():
    section = TEACHING.read_text(encoding="utf-8").split("## Discussion questions", 1)[1].split("\n## ", 1)[0]
    questions = re.findall(r"^(\d+)\. ", section, re.MULTILINE)
    answers = re.findall(r"^## (\d+)\. ", ANSWERS.read_text(encoding="utf-8"), re.MULTILINE)
    assert questions, "the teaching page lists no discussion questions"
    assert answers == questions, f"questions {questions}, model answers {answers}"
    if (SITE_DIR / "index.html").is_file():
        assert not list(SITE_DIR.rglob("discussion.html")), "the model answers were published on the site"


def test_printed_links_carry_their_address_and_lead_to_the_published_site(printed):
    assert 'a[href^="http"]::after { content: " (" attr(href) ")"' in (printed / "print.css").read_text()
    for name in ("plan.html", "handout.html"):
        links = re.findall(r'<a href="([^"]+)"', (printed / name).read_text(encoding="utf-8"))
        assert links, name
        assert not [link for link in links if not link.startswith("http")], name


def test_the_worksheet_prints_the_shape_rules_and_the_layer_table(printed):
    page = (printed / "handout.html").read_text(encoding="utf-8")
    assert "Shapes, layer by layer" in page
    assert "pooling" in page
    assert "<table" in page
    assert "conv3" in page


def test_the_worksheet_links_no_page_that_shows_an_in_class_solution(printed, session):
    page = (printed / "handout.html").read_text(encoding="utf-8")
    for chapter in session.book.chapters:
        asked = any(number.startswith(f"{chapter.number}.") for number in in_class())
        assert (f"book/{chapter.stem}.html" in page) is not asked, chapter.stem


def test_the_plan_lists_the_in_class_exercises_by_title(printed, session):
    plan = text(printed / "plan.pdf")
    for number in in_class():
        assert session.exercise(number)[0].split(" (")[0] in plan, f"the plan should name exercise {number}"


def test_the_worksheet_says_where_the_student_notebooks_are_offline(printed, session):
    page = (printed / "handout.html").read_text(encoding="utf-8")
    assert "<code>_build/student/</code>" in page
    assert "make student" in page
    for chapter in session.book.chapters:
        assert f"<code>{chapter.path.name}</code>" in page, f"the worksheet should name {chapter.path.name}"
