"""Citations of the book's BibTeX files as author-year text, and a chapter's list of references."""

from __future__ import annotations

from pathlib import Path

from pybtex.database import BibliographyData, parse_file
from pybtex.exceptions import PybtexError
from pybtex.plugin import find_plugin


class Bibliography:
    """The entries of the bib `files` that `_config.yml` names, or the pybtex `entries` that Sphinx hands over."""

    def __init__(self, files: list[Path], entries: dict | None = None) -> None:
        self.data = BibliographyData(entries)
        for path in files:
            for key, entry in parse_file(path).entries.items():
                self.data.add_entry(key, entry)

    def authors_year(self, key: str) -> tuple[str, str]:
        """("LeCun et al.", "1998a") for one key: a letter tells apart works of the same authors and year."""
        authors, year = self.plain_authors_year(key)
        same = sorted(
            (self.data.entries[other].fields.get("title", ""), other)
            for other in self.data.entries
            if self.plain_authors_year(other) == (authors, year)
        )
        return authors, year if len(same) == 1 else year + "abcdefghijklmnopqrstuvwxyz"[[k for _, k in same].index(key)]

    def plain_authors_year(self, key: str) -> tuple[str, str]:
        """("LeCun et al.", "1998") for one key; a KeyError when the files do not hold it."""
        entry = self.data.entries[key]
        names = [
            " ".join(person.last_names).replace("{", "").replace("}", "") for person in entry.persons.get("author", [])
        ] or ["Anonymous"]
        authors = names[0] if len(names) == 1 else " and ".join(names) if len(names) == 2 else f"{names[0]} et al."
        return authors, entry.fields.get("year", "n.d.")

    def cite(self, role: str, keys: list[str]) -> str:
        """Author-year text: "(LeCun et al., 1998)" for {cite}, "LeCun et al. (1998)" for {cite:t}."""
        pairs = [self.authors_year(key) for key in keys]
        if role.startswith("cite:t"):
            return "; ".join(f"{authors} ({year})" for authors, year in pairs)
        return "(" + "; ".join(f"{authors}, {year}" for authors, year in pairs) + ")"

    def references(self, keys: list[str]) -> list[str]:
        """The markdown list items of the entries `keys`, each after its author-year label, sorted by that label."""
        return [
            f"- {'{} ({})'.format(*self.authors_year(key))}. {self.entry(key)}"
            for key in sorted(dict.fromkeys(keys), key=self.authors_year)
        ]

    def entry(self, key: str) -> str:
        """One entry in pybtex's plain style as markdown; its title alone when a field the style needs is missing."""
        style = find_plugin("pybtex.style.formatting", "plain")()
        try:
            text = next(iter(style.format_entries([self.data.entries[key]]))).text.render_as("markdown")
        except (PybtexError, KeyError):
            text = self.data.entries[key].fields.get("title", key).replace("{", "").replace("}", "") + "."
        return " ".join(text.split())
