"""The slides of the 90-minute session: an offline reveal.js deck made from the chapters, with speaker notes.

``python -m booktools.slides`` (run by ``make book`` after the site is built) writes
``_build/html/slides/index.html``. ``booktools/slides/deck.yml`` says which chapter cells make the slides,
block by block of the session plan in ``book/teaching.md``; the content comes from the chapters through
``booktools.session`` (text, formulas and tables rendered by ``booktools.myst``, figures and printouts from the
committed outputs), and every slide's speaker notes hold its block's minutes and the teaching page's talking
points for them. reveal.js and its notes plugin are copied from ``node_modules``, formulas use the site's own
MathJax: the deck needs no network. ``S`` opens the speaker view, ``Esc`` the overview.
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import jinja2
import nbformat

from booktools.chapters import ROOT
from booktools.editions import NBVAL_COMMENT
from booktools.glue import is_glue_record
from booktools.myst import RenderError, load_yaml
from booktools.session import DECK, SITE, Session
from booktools.sphinx_ext import fixed

TEMPLATES = Path(__file__).parent / "slides"
REVEAL_PACKAGE = ROOT / "node_modules" / "reveal.js"
REVEAL_FILES = ("dist/reveal.js", "dist/reveal.css", "dist/theme/white.css", "dist/plugin/notes.js", "LICENSE")
MATHJAX = Path("_static") / "mathjax" / "tex-mml-chtml.js"  # where the site's Sphinx extension puts it


@dataclass(frozen=True)
class Slide:
    """One slide: its title and body (HTML), its speaker notes (HTML) and its kind (a CSS class)."""

    title: str
    body: str
    notes: str
    kind: str = "text"


def outputs(session: Session, cell: nbformat.NotebookNode) -> tuple[str, str]:
    """A code cell's outputs as HTML (figures with alt text and caption, tables, printed text), and their kind."""
    parts, kind = [], "output"
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            parts.append(f"<pre>{html.escape(output.text)}</pre>")
        elif is_glue_record(output):
            continue
        elif "image/png" in data:
            alt = cell.metadata.get("mystnb", {}).get("image", {}).get("alt", "").strip()
            if not alt:
                raise RenderError(f"cell {cell.id} shows an image without alt text; give it mystnb.image.alt")
            png = "".join(data["image/png"].split())
            caption = session.html(session.captions.get(cell.id, ""))
            parts.append(f'<figure><img src="data:image/png;base64,{png}" alt="{html.escape(alt)}">')
            parts.append(f"<figcaption>{caption}</figcaption></figure>")
            kind = "figure"
        elif "text/html" in data:
            parts.append(fixed(re.sub(r"<style.*?</style>", "", data["text/html"], flags=re.S)))
        elif "text/plain" in data:
            parts.append(f"<pre>{html.escape(data['text/plain'])}</pre>")
    return "\n".join(parts), kind


def content(session: Session, entry: dict) -> Slide:
    """The title, body and kind of the slide a plan entry asks for (its notes are added by the block)."""
    picks = entry.get("blocks")
    if "exercise" in entry:
        title, question = session.exercise(str(entry["exercise"]))
        return Slide(session.inline(title), session.html(question, picks), "", "exercise")
    if "teaching" in entry:
        body = session.html(session.section(entry["teaching"]), picks)
        return Slide(html.escape(entry.get("title", entry["teaching"])), body, "")
    cell_id = str(entry.get("cell", ""))
    if cell_id in session.code:
        cell, show = session.code[cell_id], entry.get("show", ["output"])
        code = f"<pre><code>{html.escape(NBVAL_COMMENT.sub('', cell.source))}</code></pre>" if "code" in show else ""
        body, kind = outputs(session, cell) if "output" in show else ("", "code")
        body = code + body
    else:
        body, kind = session.html(session.cell(cell_id), picks), "text"
    title = entry.get("title") or session.headings.get(cell_id)
    if not title:
        raise RenderError(f"{DECK.name}: the slide of cell {cell_id} has no title; give it one with `title:`")
    return Slide(session.inline(title), body, "", kind)


def notes(session: Session, names: list[str]) -> str:
    """Speaker notes from chapter cells (by id) and sections of the teaching page (by heading)."""
    return "\n".join(
        session.html(session.text[name] if name in session.text else session.section(name)) for name in names
    )


def slides(session: Session, plan: dict, title: str) -> list[Slide]:
    """Every slide of the deck: title, agenda, each block's opening slide and its slides, and the closing slide."""
    rows = session.plan()
    header, by_minutes = rows[0], {row[0]: row for row in rows[1:]}
    opening = notes(session, plan.get("opening_notes", []))
    agenda = "".join(f"<tr><td>{session.inline(r[0])}</td><td>{session.inline(r[1])}</td></tr>" for r in rows[1:])
    deck = [
        Slide(html.escape(title), f"<p>{html.escape(plan['subtitle'])}</p>", opening, "title"),
        Slide("Today's session", f"<table><tbody>{agenda}</tbody></table>", opening, "agenda"),
    ]
    for block in plan["blocks"]:
        row = by_minutes.get(block["minutes"])
        if row is None:
            raise RenderError(f"{DECK.name} names the block {block['minutes']!r}, which book/teaching.md's plan lacks")
        facts = "".join(
            f"<dt>{session.inline(h)}</dt><dd>{session.inline(c)}</dd>" for h, c in zip(header, row, strict=True)
        )
        talk = f"<p><strong>{session.inline(row[0])} min: {session.inline(row[1])}</strong></p>"
        talk += session.html(session.section(row[0]))
        deck.append(Slide(session.inline(row[1]), f"<dl>{facts}</dl>", talk, "divider"))
        for entry in block["slides"]:
            made = content(session, entry)
            deck.append(Slide(made.title, made.body, talk + notes(session, entry.get("notes", [])), made.kind))
    chapters = "".join(
        f'<li><a href="../book/{c.stem}.html">{session.inline(session.titles[c.number])}</a></li>'
        for c in session.book.chapters
    )
    closing = f"<p>{html.escape(plan['closing']['text'])}</p><ol>{chapters}</ol>"
    closing_notes = notes(session, plan["closing"].get("notes", []))
    deck.append(Slide(html.escape(plan["closing"]["title"]), closing, closing_notes, "closing"))
    return deck


def copy_reveal(target: Path) -> None:
    """Copy reveal.js's script, styles, notes plugin and licence from node_modules into the deck's folder."""
    for name in REVEAL_FILES:
        source = REVEAL_PACKAGE / name
        if not source.is_file():
            raise RenderError(f"{source} is missing; run `npm ci` in the repository root (make book does)")
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / name)


def build(site: Path = SITE, root: Path = ROOT) -> int:
    """Write the deck into ``site/slides``; return its number of slides."""
    if not (site / MATHJAX).is_file():
        raise RenderError(f"{site / MATHJAX} is missing; build the site first (`make book`)")
    session = Session.load(root)
    title = load_yaml(root / "_config.yml").get("title", "")
    deck = slides(session, load_yaml(DECK), title)
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=False)
    page = environment.get_template("deck.html").render(slides=deck, title=title, mathjax=f"../{MATHJAX.as_posix()}")
    target = site / "slides"
    target.mkdir(parents=True, exist_ok=True)
    copy_reveal(target / "reveal")
    shutil.copy2(TEMPLATES / "deck.css", target / "deck.css")
    (target / "index.html").write_text(page, encoding="utf-8")
    return len(deck)


def main(argv: list[str] | None = None) -> int:
    """Build the deck; report a problem in one line on stderr."""
    parser = argparse.ArgumentParser(prog="python -m booktools.slides", description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=SITE, help="the built site (default: _build/html)")
    args = parser.parse_args(argv)
    try:
        count = build(args.site)
    except RenderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"slides: {count} slides in {args.site / 'slides' / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
