"""`python -m booktools`: the editions, the build's scan of the chapters, and the install line of a chapter.

- `python -m booktools editions OUT`: every edition into OUT/colab, OUT/student, OUT/key;
- `python -m booktools edition NAME OUT`: one edition (colab, student or key) into OUT;
- `python -m booktools scan`: fail when a chapter's committed outputs hold an error or a note;
- `python -m booktools requirement NOTEBOOK [--repository URL]`: the requirement of its install cell.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

from .chapters import ROOT, chapters
from .editions import EDITIONS, Result, render
from .install import cell_requirement, is_install_cell, repository_url
from .myst import RenderError
from .output import OutputError, write_files
from .scan import problems

VERBS = {"fold": "folded", "drop": "cut", "show": "shown"}


def write_edition(root: Path, name: str, results: dict[str, Result], target: Path) -> None:
    """Write one edition's notebooks into `target` and say what each became."""
    files = {file: nbformat.writes(result.notebook).encode("utf-8") + b"\n" for file, result in results.items()}
    removed = write_files([chapter.path.parent for chapter in chapters(root)], target, files)
    for file, result in results.items():
        solutions = f"{result.solutions} solutions {VERBS[EDITIONS[name].solutions]}"
        print(f"{target / file}: {len(result.notebook.cells)} cells from {result.cells_before}, {solutions}")
    for file in removed:
        print(f"{target / file}: removed, written by an earlier run for a chapter that no longer exists")


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
    every = commands.add_parser("editions", help="write every edition into OUT/<edition>")
    every.add_argument("out", type=Path)
    one = commands.add_parser("edition", help="write one edition into OUT")
    one.add_argument("name", choices=sorted(EDITIONS))
    one.add_argument("out", type=Path)
    commands.add_parser("scan", help="fail when a chapter's outputs hold an error or a note")
    install = commands.add_parser("requirement", help="print the requirement of a notebook's install cell")
    install.add_argument("notebook", type=Path)
    install.add_argument("--repository", help="the repository address to install from instead of the book's")
    args = parser.parse_args(argv)
    root = args.book.resolve()
    try:
        if not (root / "_toc.yml").is_file():
            raise RenderError(f"no _toc.yml in {args.book}; give the book's root folder with --book")
        if args.command == "scan":
            found = problems(chapters(root))
            if found:
                print(f"booktools: error: {found[0]} ({len(found)} in all; run `make notebooks`)", file=sys.stderr)
                return 1
            return 0
        if args.command == "requirement":
            print(requirement(args.notebook, args.repository, root))
            return 0
        names = sorted(EDITIONS) if args.command == "editions" else [args.name]
        results = render(root, names)
        for name in names:
            write_edition(root, name, results[name], args.out / name if args.command == "editions" else args.out)
    except (RenderError, OutputError, nbformat.ValidationError, OSError) as exc:
        print(f"booktools: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # every file is replaced whole and recorded at once, so nothing is half-written
        print("booktools: interrupted; the output folder holds what was finished", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
