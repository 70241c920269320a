"""The slides of the 90-minute session: the chapters' cells tagged ``slide`` as one offline reveal.js deck.

``python -m booktools.slides`` (run by ``make book`` after the site is built) reads every chapter in the order of
``_toc.yml`` and writes ``_build/html/slides/index.html``: a title slide, the session plan's agenda (from the
table in ``book/teaching.md``), then per chapter a title slide and one slide per tagged cell. A markdown cell
becomes one slide, its glue roles replaced by the values of the committed outputs; a code cell shows its code
(unless it draws a figure or hides its input) and its outputs: images inline as base64 PNG with the figure's
alt text and caption, text and tables as they are. reveal.js is copied from ``node_modules`` next to the deck
and formulas use the site's own MathJax, so the deck needs no network.
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import nbformat

from booktools.chapters import ROOT, Chapter, chapters
from booktools.myst_text import Renderer, glue_values

SLIDE_TAG = "slide"
SITE = ROOT / "_build" / "html"
REVEAL_PACKAGE = ROOT / "node_modules" / "reveal.js"
REVEAL_FILES = ("dist/reveal.js", "dist/reveal.css", "dist/theme/white.css", "LICENSE")
MATHJAX = Path("_static") / "mathjax" / "tex-mml-chtml.js"  # where the site's Sphinx extension puts it
TEACHING = ROOT / "book" / "teaching.md"
HIDDEN_INPUT_TAGS = {"remove-input", "hide-input"}
# pandas writes an empty <th> in a table's corner; an empty header cell heads nothing (axe: empty-table-header).
EMPTY_HEADER = re.compile(r"<th>\s*</th>")


@dataclass(frozen=True)
class Slide:
    """One slide: its HTML and where it came from (for error messages and the count per chapter)."""

    html: str
    chapter: int | None = None
    source: str = ""


def _tags(cell: nbformat.NotebookNode) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def chapter_title(notebook: nbformat.NotebookNode) -> str:
    """The text of the chapter's first level-1 heading."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+)$", cell.source, re.MULTILINE)
            if match:
                return match.group(1).strip()
    return "Untitled chapter"


def _image_alt(cell: nbformat.NotebookNode) -> tuple[str, str]:
    """The alt text and caption that the chapter gives a figure cell (myst-nb's cell metadata)."""
    mystnb = cell.get("metadata", {}).get("mystnb", {})
    alt = (mystnb.get("image", {}) or {}).get("alt", "") or ""
    caption = (mystnb.get("figure", {}) or {}).get("caption", "") or ""
    return alt.strip(), caption.strip()


def render_outputs(cell: nbformat.NotebookNode, renderer: Renderer, where: str) -> str:
    """The HTML of a code cell's outputs: figures with alt text and caption, tables, printed text."""
    alt, caption = _image_alt(cell)
    parts = []
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "stream":
            if output.get("name") == "stdout":
                parts.append(f'<pre class="output">{html.escape(output.get("text", ""))}</pre>')
            continue
        data = output.get("data", {})
        if kind not in ("display_data", "execute_result") or any(k.startswith("application/papermill") for k in data):
            continue
        if "image/png" in data:
            if not alt:
                raise SystemExit(
                    f"error: {where} shows an image without alt text; give the cell the metadata "
                    "mystnb.image.alt (as the site's figures have) so the slide can describe it."
                )
            png = "".join(data["image/png"]).replace("\n", "")
            figure = f'<img src="data:image/png;base64,{png}" alt="{html.escape(alt)}">'
            if caption:
                figure += f"<figcaption>{renderer.inline(caption)}</figcaption>"
            parts.append(f"<figure>{figure}</figure>")
        elif "text/html" in data:
            table = EMPTY_HEADER.sub("<td></td>", "".join(data["text/html"]))
            parts.append(f'<div class="output">{table}</div>')
        elif "text/plain" in data:
            parts.append(f'<pre class="output">{html.escape("".join(data["text/plain"]))}</pre>')
    return "\n".join(parts)


def cell_slide(cell: nbformat.NotebookNode, renderer: Renderer, where: str) -> str:
    """The inner HTML of the slide made from one tagged cell."""
    if cell.cell_type == "markdown":
        levels = [len(m) for m in re.findall(r"^(#+)\s", cell.source, re.MULTILINE)]
        return renderer.block(cell.source, shift_headings=2 - min(levels, default=2))  # a slide's title is an h2
    body = render_outputs(cell, renderer, where)
    draws = "<figure>" in body
    if not draws and not _tags(cell) & HIDDEN_INPUT_TAGS:
        code = "\n".join(line for line in cell.source.splitlines() if line.strip() != "# NBVAL_CHECK_OUTPUT")
        body = f'<pre class="code"><code>{html.escape(code)}</code></pre>\n{body}'
    return body


def chapter_slides(chapter: Chapter) -> list[Slide]:
    """A title slide for the chapter and one slide per cell tagged ``slide``, in the chapter's order."""
    notebook = nbformat.read(chapter.path, as_version=4)
    renderer = Renderer(glue_values(notebook), chapter.stem)
    title = renderer.inline(chapter_title(notebook))
    page = f"../book/{chapter.stem}.html"
    slides = [
        Slide(
            f'<p class="kicker">Chapter {chapter.number}</p><h2>{title}</h2>'
            f'<p class="small">On the site: <a href="{page}">{page.removeprefix("../")}</a></p>',
            chapter.number,
            f"{chapter.path.name} (title)",
        )
    ]
    for index, cell in enumerate(notebook.cells):
        if SLIDE_TAG in _tags(cell):
            where = f"{chapter.path.name} cell {index}"
            slides.append(Slide(cell_slide(cell, renderer, where), chapter.number, where))
    return slides


def plan_rows(teaching: Path = TEACHING) -> list[list[str]]:
    """The rows of the session plan's table in the teaching page (the first table under "The session plan")."""
    text = teaching.read_text(encoding="utf-8")
    section = text.split("## The session plan", 1)[-1]
    rows = []
    for line in section.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(set(c) <= set("-: ") for c in cells):
                rows.append(cells)
        elif rows:
            break
    return rows


def agenda_slide(renderer: Renderer, teaching: Path = TEACHING) -> Slide:
    """The agenda of the session: minutes and block of every row of the teaching page's plan."""
    rows = plan_rows(teaching)
    items = "".join(
        f'<tr><td class="minutes">{renderer.inline(r[0])}</td><td>{renderer.inline(r[1])}</td></tr>' for r in rows[1:]
    )
    return Slide(
        "<h2>Today's session</h2>"
        f'<table class="agenda"><thead><tr><th scope="col">minutes</th><th scope="col">block</th></tr></thead>'
        f"<tbody>{items}</tbody></table>",
        None,
        "teaching.md (plan)",
    )


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}: slides for a 90-minute session</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="reveal/dist/reveal.css">
<link rel="stylesheet" href="reveal/dist/theme/white.css">
<style>
.visually-hidden {{ position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }}
html, body, main {{ height: 100%; margin: 0; }}
.reveal {{ font-size: 30px; }}
.reveal h2 {{ font-size: 1.5em; }}
.reveal h3, .reveal h4 {{ font-size: 1.15em; }}
.reveal .slides section {{ text-align: left; }}
.reveal .kicker {{ color: #444; margin-bottom: 0; }}
.reveal .small {{ font-size: 0.6em; }}
.reveal a {{ color: #0645ad; text-decoration: underline; }}
.reveal pre {{ width: 100%; box-shadow: none; font-size: 0.55em; margin: 0.3em 0; }}
.reveal pre code, .reveal pre.output {{ white-space: pre-wrap; word-break: break-word; max-height: none;
  background: #f4f4f4; color: #1a1a1a; padding: 0.4em; overflow: visible; }}
.reveal figure {{ margin: 0; text-align: center; }}
.reveal figure img {{ max-height: 520px; max-width: 100%; margin: 0; }}
.reveal figcaption {{ font-size: 0.5em; color: #333; }}
.reveal table {{ font-size: 0.55em; margin: 0.3em 0; }}
.reveal table.agenda {{ font-size: 0.8em; }}
.reveal .output table {{ font-size: 0.6em; }}
.reveal blockquote {{ width: 100%; box-shadow: none; background: #f7f7f7; font-style: normal; }}
.reveal .controls {{ color: #0645ad; }}
.reveal .slide-number {{ background: #1a1a1a; color: #fff; font-size: 16px; }}
.reveal .slide-number a {{ color: #fff; }}
</style>
</head>
<body>
<main>
<h1 class="visually-hidden">{title}: slides</h1>
<div class="reveal">
<div class="slides">
{sections}
</div>
</div>
</main>
<script>window.MathJax = {{tex: {{inlineMath: [['\\\\(', '\\\\)']]}}, options: {{enableMenu: false}}}};</script>
<script src="{mathjax}"></script>
<script src="reveal/dist/reveal.js"></script>
<script>
// A slide taller than the stage is scaled down to fit, so nothing is cut off on a projector.
function fitSlide(slide) {{
  slide.style.transform = "";
  const stage = Reveal.getConfig().height;
  if (slide.scrollHeight > stage) {{
    slide.style.transformOrigin = "top center";
    slide.style.transform = "scale(" + (stage / slide.scrollHeight) + ")";
  }}
}}
Reveal.initialize({{hash: true, slideNumber: "c/t", transition: "none", center: false, width: 1280, height: 800}})
  .then(() => fitSlide(Reveal.getCurrentSlide()));
Reveal.on("slidechanged", event => fitSlide(event.currentSlide));
</script>
</body>
</html>
"""


def render_deck(slides: Iterable[Slide], title: str, mathjax: str) -> str:
    """The deck's HTML page."""
    sections = "\n".join(f"<section>\n{slide.html}\n</section>" for slide in slides)
    return PAGE.format(title=html.escape(title), sections=sections, mathjax=mathjax)


def copy_reveal(target: Path) -> None:
    """Copy reveal.js's script, styles and licence from node_modules into the deck's folder."""
    for name in REVEAL_FILES:
        source = REVEAL_PACKAGE / name
        if not source.is_file():
            raise SystemExit(f"error: {source} is missing; run `npm ci` in the repository root (make book does).")
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / name)


def build(site: Path = SITE, root: Path = ROOT) -> dict[str, int]:
    """Write the deck into ``site/slides``; return the number of tagged cells per chapter file."""
    if not (site / MATHJAX).is_file():
        raise SystemExit(f"error: {site / MATHJAX} is missing; build the site first (`make book`).")
    found = chapters(root)
    if not found:
        raise SystemExit(f"error: {root / '_toc.yml'} lists no chapters; nothing to make slides from.")
    book_title = "LeNet-5 on Fashion-MNIST"
    renderer = Renderer({}, "teaching")
    slides = [
        Slide(
            f"<h1>{book_title}</h1><p>A 90-minute session on convolutional networks</p>"
            '<p class="small">Arrow keys or space move on; Esc shows every slide. '
            '<a href="../book/teaching.html">The teaching page</a></p>',
            None,
            "title",
        ),
        agenda_slide(renderer, root / "book" / "teaching.md"),
    ]
    counts = {}
    for chapter in found:
        made = chapter_slides(chapter)
        counts[chapter.path.name] = len(made) - 1
        slides.extend(made)
    target = site / "slides"
    target.mkdir(parents=True, exist_ok=True)
    copy_reveal(target / "reveal")
    (target / "index.html").write_text(render_deck(slides, book_title, f"../{MATHJAX.as_posix()}"), encoding="utf-8")
    return counts


def main(argv: list[str] | None = None) -> int:
    """Build the deck and print how many tagged cells each chapter gave."""
    parser = argparse.ArgumentParser(prog="python -m booktools.slides", description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=SITE, help="the built site (default: _build/html)")
    args = parser.parse_args(argv)
    counts = build(args.site)
    for name, count in counts.items():
        print(f"slides: {name}: {count} tagged cells")
    print(f"slides: {args.site / 'slides' / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
