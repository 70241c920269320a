"""Sphinx extension of the book's site: the chapters scanned on every build, Colab buttons, offline MathJax, markup.

* **Every build scans every chapter** (`builder-inited` runs even when no page changed): the site shows
  the committed outputs of the reference run, so an error, a traceback or a note in any of them fails
  the build with one line, and keeps failing it until the chapter is fixed.
* **The Colab buttons open the Colab edition** (`python -m booktools editions`, pushed to the branch
  `colab` by the Pages workflow), not the MyST source that Colab cannot render.
* The `{editions}` directive writes the teaching page's table of the student edition and the answer
  key: the notebooks the build puts in `editions/`, and the same files opened in Colab.
* MathJax 3 comes from npm (`npm ci` installs `node_modules/mathjax`) and is copied into the built
  site's `_static/mathjax`, so formulas are typeset without a network. It is copied after the build,
  not kept in `_static`, because Jupyter Book adds every `.js` file under `_static` to every page.
* Three pieces of markup that the toolchain writes into page bodies fail axe-core 4; each page's body is
  corrected before it is written (so the fix holds without JavaScript and in print).
"""

from __future__ import annotations

import html
import re
import shutil
import sys
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ConfigError
from sphinx.util.docutils import SphinxDirective

from .chapters import ROOT, chapters
from .editions import ANSWERS
from .install import repository_url
from .scan import problems

MATHJAX_PACKAGE = ROOT / "node_modules" / "mathjax"
MATHJAX_TARGET = Path("_static") / "mathjax"
EDITIONS_BRANCH = "colab"  # the branch the Pages workflow pushes _build/html/editions to
EDITIONS_FOLDER = "editions"  # in the built site
COLAB = "https://colab.research.google.com/github"

BODY_FIXES = (
    # myst-nb names the summary of a folded cell "Toggle hidden content" while it shows "Show code cell
    # source": its name must contain what it shows (label-content-name-mismatch). The text names it.
    (re.compile(r'<summary aria-label="Toggle hidden content">'), "<summary>"),
    # docutils marks bibliography entries role="doc-biblioentry" inside role="list"; ARIA 1.2 deprecates that
    # role, so the list has no valid items (aria-required-children, aria-deprecated-role, aria-allowed-role).
    (re.compile(r'role="doc-biblioentry"'), 'role="listitem"'),
    # pandas writes an empty <th> in the corner of a table's header (and under named columns); an empty
    # header cell heads nothing (empty-table-header), an empty data cell is what it is.
    (re.compile(r"<th>\s*</th>"), "<td></td>"),
)


def colab_url(edition: str, stem: str, root: Path = ROOT) -> str:
    """Where Colab opens chapter `stem` of `edition`: the file the workflow pushes to the branch `colab`."""
    repository = repository_url(root).removeprefix("https://github.com/")
    return f"{COLAB}/{repository}/blob/{EDITIONS_BRANCH}/{edition}/{stem}.ipynb"


def scan_chapters(app: Sphinx) -> None:
    """Fail the build, in one line, when a committed chapter's output holds an error, a traceback or a note."""
    found = problems(chapters(Path(app.srcdir)))
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        print(
            f"booktools: error: {found[0]}{more}; the site shows the committed outputs of the reference run, so "
            "run `make notebooks` (or fix the chapter) before building",
            file=sys.stderr,
        )
        # Not an exception: jupyter-book prints a traceback for any, and this needs one line and a failed build.
        raise SystemExit(1)


def require_mathjax(app: Sphinx) -> None:
    """Fail early, with what to do, when npm's MathJax is not installed."""
    if app.builder.format == "html" and not (MATHJAX_PACKAGE / "es5").is_dir():
        raise ConfigError(
            f"MathJax is missing ({MATHJAX_PACKAGE / 'es5'} does not exist): run `npm ci` in the repository "
            "root first (`make book` does), so the site can typeset formulas without a network."
        )


def colab_buttons(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Point the page's Colab launch button at the Colab edition of its chapter."""
    for group in context.get("header_buttons", []):
        for button in group.get("buttons", []) if group.get("label") == "launch-buttons" else []:
            if button.get("text") == "Colab":
                button["url"] = colab_url("colab", Path(pagename).name, Path(app.srcdir))


def fix_body(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Correct the generated markup that fails axe-core in the body of one page."""
    body = context.get("body")
    if body:
        for pattern, replacement in BODY_FIXES:
            body = pattern.sub(replacement, body)
        context["body"] = body


def copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    """Copy MathJax's browser components and licence into the built site's static files."""
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / MATHJAX_TARGET
    shutil.copytree(MATHJAX_PACKAGE / "es5", target, dirs_exist_ok=True)
    shutil.copy2(MATHJAX_PACKAGE / "LICENSE", target / "LICENSE")


class EditionsDirective(SphinxDirective):
    """A table of each chapter's student and answer-key notebooks: download from the site, or open in Colab."""

    def run(self) -> list[nodes.Node]:
        """The table as raw HTML, with links relative to the page (the notebooks are no Sphinx documents)."""
        up = "../" * self.env.docname.count("/")
        rows = []
        for chapter in chapters(Path(self.env.srcdir)):
            cells = [f"<td>{chapter.number}</td>"]
            for edition in ("student", "key"):
                local = f"{up}{EDITIONS_FOLDER}/{edition}/{chapter.stem}.ipynb"
                cells.append(
                    f'<td><a href="{html.escape(local)}" download>{chapter.stem}.ipynb</a> · '
                    f'<a href="{html.escape(colab_url(edition, chapter.stem, Path(self.env.srcdir)))}">'
                    "open in Colab</a></td>"
                )
            rows.append(f"<tr>{''.join(cells)}</tr>")
        table = (
            '<table class="table"><thead><tr><th scope="col">chapter</th><th scope="col">student edition</th>'
            f'<th scope="col">answer key</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
        )
        if (Path(self.env.srcdir) / ANSWERS).is_file():
            table += (
                f'<p>Model answers of the discussion questions (answer key only): <a href="{up}{EDITIONS_FOLDER}/key/'
                f'discussion.ipynb" download>discussion.ipynb</a> · <a href="'
                f'{html.escape(colab_url("key", "discussion", Path(self.env.srcdir)))}">open in Colab</a></p>'
            )
        return [nodes.raw("", table, format="html")]


def setup(app: Sphinx) -> dict:
    """Register the handlers and the directive."""
    app.connect("builder-inited", scan_chapters)
    app.connect("builder-inited", require_mathjax)
    app.connect("html-page-context", colab_buttons, priority=600)  # after the theme's launch buttons (501)
    app.connect("html-page-context", fix_body)
    app.connect("build-finished", copy_mathjax)
    app.add_directive("editions", EditionsDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
