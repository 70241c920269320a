"""`python -m booktools`: the editions, the build's scan of the chapters, and the install line of a chapter.

- `python -m booktools editions OUT [NAME ...]`: editions (default: every one) into OUT/colab, OUT/student, OUT/key;
- `python -m booktools scan`: fail when a chapter's committed outputs hold an error or a note;
- `python -m booktools requirement NOTEBOOK [--repository URL]`: the requirement of its install cell.

Editions are never written into the book's checkout outside `_build/`, through a symbolic link, or over
anything but a regular file. A problem is one line on stderr and exit status 1; a command line argparse
cannot read gets its usage line and status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import nbformat

from .chapters import ROOT, chapters
from .editions import EDITIONS, Result, render
from .install import cell_requirement, is_install_cell, repository_url
from .myst import RenderError
from .scan import problems

VERBS = {"fold": "folded", "drop": "cut", "show": "shown"}


def check_folder(root: Path, target: Path) -> None:
    """RenderError unless `target` can be an edition's folder: no link or file on its way, not in the checkout."""
    for part in [*reversed(target.parents), target]:
        if part.is_symlink():
            raise RenderError(f"{part} is a symbolic link; give a real folder, nothing is written through links")
        if part.exists() and not part.is_dir():
            raise RenderError(f"{part} exists and is not a folder; choose another output folder")
    inside = [target.resolve(), *target.resolve().parents]
    if root in inside and root / "_build" not in inside:  # an answer key there could be committed
        raise RenderError(f"{target} is in the book's checkout outside _build/; write editions under _build/")


def write_files(target: Path, files: dict[str, bytes]) -> None:
    """Write `files` (name -> bytes) into the folder `target` (see `check_folder`), each replaced whole."""
    target.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        path = target / name
        if path.is_symlink() or (path.exists() and not path.is_file()):
            raise RenderError(f"{path} is not a regular file; move it away, an edition is written over files only")
        descriptor, temporary = tempfile.mkstemp(dir=target, prefix=".", suffix=".tmp")
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)  # not mkstemp's 0600: the site serves these files
        os.replace(temporary, path)  # a reader never sees half a notebook (no lenet_utils writer: it imports torch)


def write_edition(name: str, results: dict[str, Result], target: Path) -> None:
    """Write one edition's notebooks into `target` and say what each became."""
    files = {file: nbformat.writes(result.notebook).encode("utf-8") + b"\n" for file, result in results.items()}
    write_files(target, files)
    for file, result in results.items():
        solutions = f"{result.solutions} solutions {VERBS[EDITIONS[name].solutions]}"
        print(f"{target / file}: {len(result.notebook.cells)} cells from {result.cells_before}, {solutions}")


def requirement(notebook: Path, repository: str | None, root: Path) -> str:
    """The requirement of the install cell of `notebook`, with the book's repository replaced by `repository`."""
    from packaging.requirements import InvalidRequirement, Requirement

    cells = [cell for cell in nbformat.read(notebook, as_version=4).cells if cell.cell_type == "code"]
    install = next((cell.source for cell in cells if is_install_cell(cell.source)), None)
    if install is None:
        raise RenderError(f"{notebook} has no cell that installs lenet_utils with %pip")
    found = cell_requirement(install)
    if repository:
        if repository_url(root) not in found:
            raise RenderError(f"{notebook} installs {found!r}, not from the book's repository {repository_url(root)}")
        found = found.replace(repository_url(root), repository)
    try:
        Requirement(found)
    except InvalidRequirement as exc:
        raise RenderError(f"{found!r} is not a requirement pip accepts ({exc})") from exc
    return found


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m booktools", description=__doc__.splitlines()[0])
    parser.add_argument("--book", type=Path, default=ROOT, help="the book's root folder (with _toc.yml)")
    commands = parser.add_subparsers(dest="command", required=True)
    every = commands.add_parser("editions", help="write editions (default: every one) into OUT/<edition>")
    every.add_argument("out", type=Path)
    every.add_argument("names", nargs="*", metavar="NAME", help=f"an edition: {', '.join(sorted(EDITIONS))}")
    commands.add_parser("scan", help="fail when a chapter's outputs hold an error or a note")
    install = commands.add_parser("requirement", help="print the requirement of a notebook's install cell")
    install.add_argument("notebook", type=Path)
    install.add_argument("--repository", help="the repository address to install from instead of the book's")
    args = parser.parse_args(argv)
    if unknown := set(getattr(args, "names", [])) - set(EDITIONS):
        parser.error(f"no edition is called {', '.join(sorted(unknown))}; the editions are {', '.join(EDITIONS)}")
    root = args.book.resolve()
    try:
        if not (root / "_toc.yml").is_file():
            raise RenderError(f"no _toc.yml in {args.book}; give the book's root folder with --book")
        if args.command == "scan":
            if found := problems(chapters(root)):
                raise RenderError(found)
            return 0
        if args.command == "requirement":
            print(requirement(args.notebook, args.repository, root))
            return 0
        names = list(dict.fromkeys(args.names)) or sorted(EDITIONS)
        for folder in [args.out, *(args.out / name for name in names)]:  # before minutes of rendering
            check_folder(root, folder)
        results = render(root, names)
        for name in names:
            write_edition(name, results[name], args.out / name)
    except (RenderError, nbformat.ValidationError, OSError) as exc:
        print(f"booktools: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # every file is replaced whole, so nothing is half-written
        print("booktools: interrupted; the output folder holds what was finished", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
