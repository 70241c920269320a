"""The one list of chapters: the notebooks that `_toc.yml` lists, numbered as the site numbers them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Chapter:
    """One chapter notebook and its number on the site."""

    number: int
    path: Path  # absolute

    @property
    def stem(self) -> str:
        """The file name without its suffix, e.g. 01_data."""
        return self.path.stem


def chapters(root: Path = ROOT) -> list[Chapter]:
    """Every chapter notebook that `root/_toc.yml` lists under a numbered part, in order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    found: list[Chapter] = []
    for part in toc.get("parts", []):
        if not part.get("numbered"):
            continue
        for entry in part.get("chapters", []):
            path = root / f"{entry['file']}.ipynb"
            if path.exists():
                found.append(Chapter(len(found) + 1, path))
    return found
