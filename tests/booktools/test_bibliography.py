"""booktools.bibliography: author-year citations that tell apart two works of the same authors and year."""

from __future__ import annotations

from pathlib import Path

from booktools.bibliography import Bibliography

BIB = """
@article{one, author = {Yann LeCun and L. Bottou and Y. Bengio}, title = {Beta}, year = {1998}}
@article{two, author = {Yann LeCun and G. Orr and K. Mueller}, title = {Alpha}, year = {1998}}
@article{solo, author = {Ada Lovelace}, title = {Notes}, year = {1843}}
"""


def test_same_authors_and_year_get_letters_by_title(tmp_path: Path) -> None:
    (tmp_path / "refs.bib").write_text(BIB)
    bibliography = Bibliography([tmp_path / "refs.bib"])
    assert bibliography.cite("cite", ["two", "one"]) == "(LeCun et al., 1998a; LeCun et al., 1998b)"
    assert bibliography.cite("cite:t", ["solo"]) == "Lovelace (1843)"
    assert bibliography.references(["one", "two"])[0].startswith("- LeCun et al. (1998a). ")
