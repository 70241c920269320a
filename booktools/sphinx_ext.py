"""The Sphinx extension of the book's site: chapters scanned, run times, Colab buttons, offline MathJax, markup.

* **Every build scans every chapter** (`builder-inited` runs even when no page changed): the site shows
  the committed outputs of the reference run, so an error, a traceback or a note in any of them is an
  error of one line, which fails every `-W` build until the chapter is fixed.
* **Run times** of `book/_timings.json` become MyST substitutions (`{{ ch2_cached }}`, `booktools.timings`);
  the pages that quote them are rebuilt on every build, since the JSON file is no Sphinx source.
* **The Colab buttons open the Colab edition** (`python -m booktools editions`, pushed to the branch
  `colab` by the Pages workflow), not the MyST source that Colab cannot render.
* The `{editions}` directive writes the teaching page's table of the student edition: the notebooks
  the build puts in `editions/`, and the same files opened in Colab. The answer key is not published
  (`make key` builds it for the teacher).
* MathJax 3 comes from npm (`npm ci` installs `node_modules/mathjax`) and is copied into the built
  site's `_static/mathjax`, so formulas are typeset without a network. It is copied after the build,
  not kept in `_static`, because Jupyter Book adds every `.js` file under `_static` to every page.
* **Citations tell apart works of the same authors and year** ("LeCun et al., 1998a"), and the
  bibliography's labels are the citations' text, as `booktools.bibliography` writes them in the editions.
* Three pieces of markup that the toolchain writes into page bodies fail axe-core 4; each page's body is
  corrected before it is written (so the fix holds without JavaScript and in print).
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

from docutils import nodes
from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.sorting import BaseSortingStyle
from pybtex.style.template import node
from sphinx.application import Sphinx
from sphinx.errors import ConfigError
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinxcontrib.bibtex.plugin import register_plugin as register_reference_style
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle
from sphinxcontrib.bibtex.style.referencing.basic_author_year import (
    BasicAuthorYearParentheticalReferenceStyle as Parenthetical,
)
from sphinxcontrib.bibtex.style.referencing.basic_author_year import (
    BasicAuthorYearTextualReferenceStyle as Textual,
)
from sphinxcontrib.bibtex.style.template import entry_label, join, join2, post_text, pre_text, reference

from .bibliography import Bibliography
from .chapters import ROOT, chapters
from .install import repository_url
from .myst import load_yaml
from .scan import problems
from .timings import substitutions

MATHJAX_PACKAGE = ROOT / "node_modules" / "mathjax"
MATHJAX_TARGET = Path("_static") / "mathjax"
EDITIONS_BRANCH = "colab"  # the branch the Pages workflow pushes _build/html/editions to
EDITIONS_FOLDER = "editions"  # in the built site
logger = logging.getLogger(__name__)
PAGES_THAT_QUOTE = ("book/teaching",)  # the pages with run times, rebuilt on every build

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
    colab = str(load_yaml(root / "_config.yml")["launch_buttons"]["colab_url"]).rstrip("/")
    return f"{colab}/github/{repository}/blob/{EDITIONS_BRANCH}/{edition}/{stem}.ipynb"


def scan_chapters(app: Sphinx) -> None:
    """Fail the build (`-W`, as `make book` runs it) when a committed chapter's output holds an error or a note."""
    if found := problems(chapters(Path(app.srcdir))):
        # Logged, not raised: jupyter-book prints a traceback for any exception, and this needs one line.
        logger.error(f"booktools: error: {found}")


def add_substitutions(app: Sphinx, config) -> None:
    """The measured times as MyST substitutions, beside any that `_config.yml` defines."""
    config.myst_substitutions = {**substitutions(Path(app.srcdir)), **(config.myst_substitutions or {})}


def pages_that_quote_times(app: Sphinx, env, added, changed, removed) -> list[str]:
    """The pages to rebuild although their source did not change: those that quote the run times."""
    return [name for name in PAGES_THAT_QUOTE if name in env.found_docs]


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


def fixed(body: str) -> str:
    """`body` (HTML) without the generated markup that fails axe-core; the slides' tables are fixed here too."""
    for pattern, replacement in BODY_FIXES:
        body = pattern.sub(replacement, body)
    return body


def fix_body(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Correct the body of one page."""
    if context.get("body"):
        context["body"] = fixed(context["body"])


def copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    """Copy MathJax's browser components and licence into the built site's static files."""
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / MATHJAX_TARGET
    shutil.copytree(MATHJAX_PACKAGE / "es5", target, dirs_exist_ok=True)
    shutil.copy2(MATHJAX_PACKAGE / "LICENSE", target / "LICENSE")


class EditionsDirective(SphinxDirective):
    """A table of each chapter's student edition: download it from the site, or open it in Colab."""

    def run(self) -> list[nodes.Node]:
        """The table as raw HTML, with links relative to the page (the notebooks are no Sphinx documents)."""
        up = "../" * self.env.docname.count("/")
        rows = []
        for chapter in chapters(Path(self.env.srcdir)):
            local = html.escape(f"{up}{EDITIONS_FOLDER}/student/{chapter.stem}.ipynb")
            colab = html.escape(colab_url("student", chapter.stem, Path(self.env.srcdir)))
            rows.append(
                f'<tr><td>{chapter.number}</td><td><a href="{local}" download>{chapter.stem}.ipynb</a> · '
                f'<a href="{colab}">open in Colab</a></td></tr>'
            )
        table = (
            '<table class="table"><thead><tr><th scope="col">chapter</th><th scope="col">student edition</th>'
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )
        return [nodes.raw("", table, format="html")]


@node
def lettered_year(children, data: dict) -> Text:
    """The year of a citation with its letter ("1998a"), read from its entry's label."""
    return Text(data["formatted_entry"].label.rpartition(", ")[2])


class AuthorYearLabels(BaseLabelStyle):
    """Bibliography labels that are the citations' text: "LeCun et al., 1998a"."""

    def format_labels(self, sorted_entries):
        entries = list(sorted_entries)
        bibliography = Bibliography([], {entry.key: entry for entry in entries})
        return ["{}, {}".format(*bibliography.authors_year(entry.key)) for entry in entries]


class AuthorYearSorting(BaseSortingStyle):
    """The bibliography in the order of its labels: by first author, then year and letter."""

    def sort(self, entries):
        entries = list(entries)
        bibliography = Bibliography([], {entry.key: entry for entry in entries})
        return sorted(entries, key=lambda entry: [part.lower() for part in bibliography.authors_year(entry.key)])


class AuthorYearStyle(UnsrtStyle):
    """pybtex's unsrt entries, sorted and labelled as they are cited."""

    default_sorting_style = AuthorYearSorting
    default_label_style = AuthorYearLabels


class LetteredAuthorYear(AuthorYearReferenceStyle):
    """Author-year citations with the label's letter: "[LeCun et al., 1998a]", "LeCun et al. [1998a]"."""

    def inner(self, role_name: str):
        """The label for {cite}, the authors and the lettered year for {cite:t}; the other roles as they were."""
        style, around = self.role_style[role_name], join2(sep1=self.pre_text_sep, sep2=self.post_text_sep)
        if isinstance(style, Parenthetical):
            return around[pre_text, reference[entry_label], post_text]
        if isinstance(style, Textual):
            author = self.person.author_or_editor_or_title(full="s" in role_name)
            year = join[self.bracket_textual.left, around[pre_text, reference[lettered_year], post_text]]
            return join(sep=self.text_reference_sep)[author, join[year, self.bracket_textual.right]]
        return super().inner(role_name)


def setup(app: Sphinx) -> dict:
    """Sphinx entry point: register the handlers and the directive."""
    app.connect("config-inited", add_substitutions)
    app.connect("env-get-outdated", pages_that_quote_times)
    app.connect("builder-inited", scan_chapters)
    app.connect("builder-inited", require_mathjax)
    app.connect("html-page-context", colab_buttons, priority=600)  # after the theme's launch buttons (501)
    app.connect("html-page-context", fix_body)
    app.connect("build-finished", copy_mathjax)
    app.add_directive("editions", EditionsDirective)
    register_plugin("pybtex.style.formatting", "booktools", AuthorYearStyle)
    register_reference_style("sphinxcontrib.bibtex.style.referencing", "booktools", LetteredAuthorYear)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
