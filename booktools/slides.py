"""The slides of the 90-minute session: an offline reveal.js deck made from the chapters, with speaker notes.

``python -m booktools.slides`` (run by ``make book`` after the site is built) writes
``_build/html/slides/index.html``. ``booktools/slides/deck.yml`` says which chapter cells make the slides,
block by block of the session plan in ``book/teaching.md``; the content comes from the chapters through
``booktools.session`` (text, formulas and tables rendered by ``booktools.myst``, figures and printouts from the
committed outputs). Every slide's speaker notes give its block's minutes and what to say about that slide
(deck.yml's `say`); a block's opening slide shows its name and minutes, its notes the teaching page's plan for it.
reveal.js and its notes plugin are copied from ``node_modules``, formulas use the site's own MathJax:
the deck needs no network. ``S`` opens the speaker view, ``Esc`` the overview.
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


def tidy(table: str) -> str:
    """A pandas table as a slide shows it: no header row that holds only the index's name, thousands separated."""
    table = re.sub(r"<tr[^>]*>\s*<th>[^<]*</th>(\s*<t[hd]></t[hd]>)+\s*</tr>", "", table)
    return re.sub(r"<td>(\d{4,})</td>", lambda number: f"<td>{int(number[1]):,}</td>", table)


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
            parts.append(tidy(fixed(re.sub(r"<style.*?</style>", "", data["text/html"], flags=re.S))))
        elif "text/plain" in data:
            parts.append(f"<pre>{html.escape(data['text/plain'])}</pre>")
    return "\n".join(parts), kind


def excerpt(body: str, start: int, stop: int) -> str:
    """Rows `start` to `stop` (from 0, stop excluded) of the body's table, else items of its list, else lines of
    its printout: one long table, list or printout spread over several slides."""
    if "<tbody>" in body:
        rows = re.findall(r"<tr>.*?</tr>", body.split("<tbody>", 1)[1], flags=re.S)
        return re.sub(r"<tbody>.*</tbody>", lambda _: f"<tbody>{''.join(rows[start:stop])}</tbody>", body, flags=re.S)
    if found := re.search(r"<(ol|ul)>(.*)</\1>", body, flags=re.S):
        items = "".join(re.findall(r"<li>.*?</li>", found[2], flags=re.S)[start:stop])
        opening = f'<ol start="{start + 1}">' if found[1] == "ol" else "<ul>"
        return f"{opening}{items}</{found[1]}>"
    if found := re.search(r"<pre>(.*?)</pre>", body, flags=re.S):
        return f"<pre>{''.join(found[1].splitlines(keepends=True)[start:stop])}</pre>"
    raise RenderError(f"{DECK.name} asks for part {start}–{stop} of a slide that holds no table, list or printout")


def columns(body: str, names: list[str]) -> str:
    """Only the columns `names` of the body's pandas printout, the index kept with the first column (a pandas
    column ends where its right-aligned header ends); pandas' NaN, a missing value, shows as a dash."""
    found = re.search(r"<pre>(.*?)</pre>", body, flags=re.S)
    lines = html.unescape(found[1]).splitlines() if found else []  # escapes would shift the columns
    if not lines or any(name not in lines[0] for name in names):
        raise RenderError(f"{DECK.name} asks for the columns {names} of a slide whose printout lacks some of them")
    spans = []
    for name in names:
        end = lines[0].index(name) + len(name)
        spans.append((len(lines[0][: end - len(name)].rstrip()), end))
    kept = ("".join(line.ljust(spans[-1][1])[a:b] for a, b in spans).rstrip() for line in lines)
    text = re.sub(r"(?<![A-Za-z])NaN(?![A-Za-z])", "  –", "\n".join(kept))
    return f"<pre>{html.escape(text)}\n</pre>"


def content(session: Session, entry: dict) -> Slide:
    """The title, body and kind of the slide a plan entry asks for (its notes are added by the block)."""
    picks = entry.get("blocks")
    if "exercise" in entry:
        title, question = session.exercise(str(entry["exercise"]))
        return Slide(session.inline(title), session.html(question, picks), "", "exercise")
    if "teaching" in entry:
        body, title, kind = (
            session.html(session.section(entry["teaching"]), picks),
            entry.get("title", entry["teaching"]),
            "text",
        )
    else:
        cell_id = str(entry.get("cell", ""))
        title = entry.get("title") or session.headings.get(cell_id)
        if cell_id in session.code:
            cell, show = session.code[cell_id], entry.get("show", ["output"])
            code = (
                f"<pre><code>{html.escape(NBVAL_COMMENT.sub('', cell.source))}</code></pre>" if "code" in show else ""
            )
            body, kind = outputs(session, cell) if "output" in show else ("", "code")
            if "columns" in entry:
                body = columns(body, entry["columns"])
            if "beside" in entry:  # another cell's printout in a column beside this cell's figure
                beside = session.code.get(str(entry["beside"]))
                if beside is None:
                    raise RenderError(f"{DECK.name}: no chapter has a code cell with the id {entry['beside']!r}")
                body = f'<div class="beside">{body}{outputs(session, beside)[0]}</div>'
            if entry.get("predict"):  # the class predicts first: the output appears on the next key press
                body = f'<div class="fragment">{body}</div>'
            body = code + body
        else:
            body, kind = session.html(session.cell(cell_id), picks), "text"
    if not title:
        raise RenderError(f"{DECK.name}: the slide of {entry} has no title; give it one with `title:`")
    if "part" in entry:
        body = excerpt(body, *entry["part"])
    return Slide(session.inline(title), body, "", kind)


def said(session: Session, entry: dict, head: str) -> str:
    """A slide's speaker notes: the block's minutes and name, then what to say about this slide (`say:`)."""
    if not entry.get("say"):
        raise RenderError(f"{DECK.name}: the slide {entry} has no speaker notes; write them under `say:`")
    return head + session.html(session.myst(entry["say"], DECK.name))


def slides(session: Session, plan: dict, title: str) -> list[Slide]:
    """Every slide of the deck: title, agenda, each block's opening slide and its slides, and the closing slide."""
    rows = session.plan()
    header, by_minutes = rows[0], {row[0]: row for row in rows[1:]}
    agenda = "".join(f"<tr><td>{session.inline(r[0])}</td><td>{session.inline(r[1])}</td></tr>" for r in rows[1:])
    deck = [
        Slide(html.escape(title), f"<p>{html.escape(plan['subtitle'])}</p>", said(session, plan, ""), "title"),
        Slide(
            "Today's session",
            f"<table><tbody>{agenda}</tbody></table>",
            session.html(session.section(plan["agenda_notes"])),
            "agenda",
        ),
    ]
    for block in plan["blocks"]:
        row = by_minutes.get(block["minutes"])
        if row is None:
            raise RenderError(f"{DECK.name} names the block {block['minutes']!r}, which book/teaching.md's plan lacks")
        facts = "".join(
            f"<dt>{session.inline(h)}</dt><dd>{session.inline(c)}</dd>" for h, c in zip(header, row, strict=True)
        )
        head = f"<p><strong>{session.inline(row[0])} min: {session.inline(row[1])}</strong></p>"
        talk = f"{head}<dl>{facts}</dl>{session.html(session.section(row[0]))}"
        minutes = f'<p class="minutes">{session.inline(row[0])} min</p>'
        deck.append(Slide(session.inline(row[1]), minutes, talk, "divider"))
        for entry in block["slides"]:
            made = content(session, entry)
            deck.append(Slide(made.title, made.body, said(session, entry, head), made.kind))
    chapters = "".join(
        f'<li><a href="../book/{c.stem}.html">{session.inline(session.book.documents[c.stem])}</a></li>'
        for c in session.book.chapters
    )
    closing = f"<p>{html.escape(plan['closing']['text'])}</p><ol>{chapters}</ol>"
    deck.append(Slide(html.escape(plan["closing"]["title"]), closing, said(session, plan["closing"], ""), "closing"))
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
