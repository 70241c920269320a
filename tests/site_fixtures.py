"""What the site tests share: the table of contents, the built site and helpers for the browser.

The test modules import these helpers by name (``from site_fixtures import ...``); the fixtures that
serve the site and start the browser, ``site_url`` and ``browser``, are in ``conftest.py``. The site is
the one ``make book`` builds into ``_build/html`` next to this ``tests/`` folder; the tests never build
it themselves, and a missing site fails them with a message that says how to build it.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from bs4 import BeautifulSoup
from sphinx_external_toc.parsing import parse_toc_yaml

from booktools.chapters import ROOT as REPO_ROOT
from booktools.chapters import chapters

SITE_DIR = REPO_ROOT / "_build" / "html"
EXECUTED_DIR = REPO_ROOT / "_build" / "jupyter_execute"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WINDOW = (1280, 1024)  # a laptop's browser window; the width at which the content's tables must fit
SOURCE_SUFFIXES = (".ipynb", ".md")
HOW_TO_BUILD = "build it first with `make book` (or `.venv/bin/jupyter-book build .`) in the repository root"


# --------------------------------------------------------------------------- the book's sources


@functools.cache
def book_config() -> dict:
    """The parsed ``_config.yml``."""
    return yaml.safe_load((REPO_ROOT / "_config.yml").read_text(encoding="utf-8"))


def toc_pages() -> tuple[str, ...]:
    """Every page of ``_toc.yml`` as a Sphinx docname (``book/intro``), root first, in reading order.

    Read by sphinx-external-toc, the parser Jupyter Book builds the site with.
    """
    return tuple(parse_toc_yaml(REPO_ROOT / "_toc.yml"))


def source_file(docname: str) -> Path:
    """The source (.ipynb or .md) of a toc page; fails the test when it does not exist."""
    for suffix in SOURCE_SUFFIXES:
        path = REPO_ROOT / f"{docname}{suffix}"
        if path.is_file():
            return path
    pytest.fail(f"_toc.yml lists {docname!r} but neither {docname}.ipynb nor {docname}.md exists")


def chapter_pages() -> tuple[str, ...]:
    """The chapters (booktools.chapters) as Sphinx docnames (``book/01_data``)."""
    return tuple(chapter.path.relative_to(REPO_ROOT).with_suffix("").as_posix() for chapter in chapters())


def page_id(docname: str) -> str:
    """A file-name-safe name of a page, used for test ids and screenshot names (``book-01_data``)."""
    return docname.replace("/", "-")


def expected_colab_url(docname: str) -> str:
    """The Colab URL of a chapter: its Colab edition on the branch `colab` (booktools/sphinx_ext.py)."""
    from booktools.sphinx_ext import colab_url

    return colab_url("colab", Path(docname).name)


# --------------------------------------------------------------------------- the built site


def html_file(docname: str) -> Path:
    """Where the build writes a page."""
    return SITE_DIR / f"{docname}.html"


def require_site() -> None:
    """Fail (never skip) with a clear message when the site has not been built."""
    if not (SITE_DIR / "index.html").is_file():
        pytest.fail(f"the built site is missing: {SITE_DIR / 'index.html'} does not exist; {HOW_TO_BUILD}.")


@functools.cache
def element_ids(path: Path) -> frozenset[str]:
    """Every id (and legacy <a name>) in an HTML file: the fragments a link may point at."""
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    ids = {tag["id"] for tag in soup.find_all(id=True)}
    ids |= {tag["name"] for tag in soup.find_all("a", attrs={"name": True})}
    return frozenset(ids)


def site_file_for_url(url: str) -> tuple[Path, str]:
    """Map an in-site URL (absolute on the test server) to (file under SITE_DIR, decoded fragment)."""
    parts = urlsplit(url)
    path = unquote(parts.path).lstrip("/")
    if path == "" or path.endswith("/"):
        path += "index.html"
    return SITE_DIR / path, unquote(parts.fragment)


# --------------------------------------------------------------------------- server and browser


def open_in_mode(driver, url: str, mode: str) -> None:
    """Open a page in the theme's "light" or "dark" colour mode, as a reader who chose it would see it.

    The theme reads the reader's choice from localStorage before it draws the page, so where the page
    does not show that mode already, the choice is stored on the site's origin and the page loaded again.
    """
    shown = "return document.documentElement.dataset.theme"
    driver.get(url)
    if driver.execute_script(shown) != mode:
        driver.execute_script("for (const key of ['mode', 'theme']) { localStorage.setItem(key, arguments[0]); }", mode)
        driver.get(url)
    wait_for_page(driver)
    theme = driver.execute_script(shown)
    assert theme == mode, f"{url}: asked for {mode} mode, the page shows {theme!r}"


def wait_for_math(driver, timeout: float = 30) -> bool:
    """Wait until MathJax has typeset the page; False when the page has no MathJax or it never finished."""
    return driver.execute_async_script(
        """const [limit, done] = arguments;
        const start = Date.now();
        const poll = () => {
            if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
                MathJax.startup.promise.then(() => done(true), () => done(false));
            } else if (Date.now() - start > limit * 1000) {
                done(false);
            } else {
                setTimeout(poll, 50);
            }
        };
        poll();""",
        timeout,
    )


def wait_for_page(driver, timeout: float = 30) -> None:
    """Wait until the document and every image on it have finished loading (lazy ones included)."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout).until(lambda d: d.execute_script("return document.readyState") == "complete")
    driver.execute_script("for (const img of document.images) { img.loading = 'eager'; }")
    WebDriverWait(driver, timeout).until(
        lambda d: d.execute_script("return Array.from(document.images).every(img => img.complete)")
    )


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serve the site without logging every request to the test output."""

    def log_message(self, format: str, *args) -> None:
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve `folder` on 127.0.0.1 at a free port from a background thread; yield its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
