"""Sphinx extension for the book's site: MathJax served from the site itself, and accessible generated markup.

* MathJax 3 comes from npm (``npm ci`` installs ``node_modules/mathjax``) and is copied into the built
  site's ``_static/mathjax``, so formulas are typeset without a network (``mathjax_path`` in _config.yml
  points there). It is copied after the build, not kept in ``_static``, because Jupyter Book adds every
  ``.js`` file under ``_static`` to every page.
* Three pieces of markup that the toolchain writes into page bodies fail axe-core 4; each page's body is
  corrected before it is written (so the fix holds without JavaScript and in print).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ConfigError

MATHJAX_PACKAGE = Path(__file__).resolve().parents[1] / "node_modules" / "mathjax"
MATHJAX_TARGET = Path("_static") / "mathjax"

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


def require_mathjax(app: Sphinx) -> None:
    """Fail early, with what to do, when npm's MathJax is not installed."""
    if app.builder.format == "html" and not (MATHJAX_PACKAGE / "es5").is_dir():
        raise ConfigError(
            f"MathJax is missing ({MATHJAX_PACKAGE / 'es5'} does not exist): run `npm ci` in the repository "
            "root first (`make book` does), so the site can typeset formulas without a network."
        )


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


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", require_mathjax)
    app.connect("html-page-context", fix_body)
    app.connect("build-finished", copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
