"""MyST markdown of the chapters as plain HTML, for the slides and the handout (outside Sphinx).

Glue roles get the values of the chapter's committed outputs, formatted as the site formats them, and
citations become author-year text (both with the editions' code: booktools.glue, booktools.bibliography);
``{doc}`` links point at the site's pages; directives
(exercise, admonition, ...) become a titled block of their body; math is left for MathJax as ``\\(..\\)``
and ``\\[..\\]``.
"""

from __future__ import annotations

import functools
import html
import re
from pathlib import Path

import nbformat
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

from booktools.bibliography import Bibliography
from booktools.chapters import ROOT
from booktools.glue import format_plain, glued_values

BIBLIOGRAPHY = ROOT / "book" / "references.bib"
ROLE = re.compile(r"\{(?P<name>[a-z:-]+)\}`(?P<text>[^`]*)`")
LABEL_LINE = re.compile(r"^\([\w-]+\)=\s*$", re.MULTILINE)
OPTION_LINE = re.compile(r"^:[\w-]+:.*$", re.MULTILINE)


def glue_values(notebook: nbformat.NotebookNode) -> dict[str, str]:
    """Every value a notebook glued (``name`` -> its text/plain repr) from its committed outputs."""
    return {name: "".join(bundle.get("text/plain", "")) for name, bundle in glued_values(notebook).items()}


@functools.cache
def bibliography() -> Bibliography:
    """The book's bibliography (``book/references.bib``), read once."""
    return Bibliography([BIBLIOGRAPHY])


class Renderer:
    """Render MyST markdown of one source (a chapter, or a page that names chapters in its glue roles)."""

    def __init__(self, glue: dict[str, str], stem: str, site_root: str = "../") -> None:
        self.glue = glue
        self.stem = stem
        self.site_root = site_root
        self.markdown = MarkdownIt("commonmark").enable("table")
        dollarmath_plugin(self.markdown, renderer=self._math)
        self.markdown.add_render_rule("fence", self._fence)

    @staticmethod
    def _math(content: str, options: dict) -> str:
        escaped = html.escape(content)
        return f"\\[{escaped}\\]" if options.get("display_mode") else f"\\({escaped}\\)"

    def _fence(self, tokens, index, options, env) -> str:
        token = tokens[index]
        info = token.info.strip()
        if not info.startswith("{"):
            return f'<pre class="code"><code>{html.escape(token.content)}</code></pre>\n'
        directive, _, title = info[1:].partition("}")
        body = OPTION_LINE.sub("", token.content).strip()
        heading = html.escape(title.strip() or directive.replace("-", " ").capitalize())
        if directive.startswith("solution"):
            return ""
        return (
            f'<div class="directive {html.escape(directive)}"><p><strong>{heading}</strong></p>{self.block(body)}</div>'
        )

    def _glue(self, text: str) -> str:
        key, _, spec = text.rpartition(":") if ":" in text.split("::")[-1] else (text, "", "")
        if "::" in key:  # `chapter.ipynb::name`: a value glued in another chapter
            source, key = key.split("::", 1)
            values = _chapter_glue(Path(source).stem)
        else:
            values = self.glue
        if key not in values:
            raise SystemExit(f"error: {self.stem} uses the glue value {key!r}, which no committed output holds.")
        return format_plain(values[key], spec)

    def _role(self, match: re.Match) -> str:
        name, text = match.group("name"), match.group("text")
        if name.startswith("glue"):
            return self._glue(text)
        if name.startswith("cite"):
            return bibliography().cite(name, [key.strip() for key in text.split(",")])
        label = re.match(r"(?P<title>.*?)\s*<(?P<target>[^>]+)>$", text)
        title, target = (label.group("title"), label.group("target")) if label else (text, text)
        if name == "doc":
            page = target if "/" in target else f"book/{target}"
            return f"[{title}]({self.site_root}{page}.html)"
        return title

    def source(self, text: str) -> str:
        """The markdown with MyST roles and labels replaced by plain markdown."""
        return ROLE.sub(self._role, LABEL_LINE.sub("", text))

    def block(self, text: str, shift_headings: int = 0) -> str:
        """A markdown block as HTML; headings moved ``shift_headings`` levels down."""
        rendered = self.markdown.render(self.source(text))
        if shift_headings:
            rendered = re.sub(
                r"<(/?)h([1-6])>",
                lambda m: f"<{m.group(1)}h{max(1, min(6, int(m.group(2)) + shift_headings))}>",
                rendered,
            )
        return rendered

    def inline(self, text: str) -> str:
        """One line of markdown as inline HTML."""
        return self.markdown.renderInline(self.source(text))


@functools.cache
def _chapter_glue(stem: str) -> dict[str, str]:
    return glue_values(nbformat.read(ROOT / "book" / f"{stem}.ipynb", as_version=4))
