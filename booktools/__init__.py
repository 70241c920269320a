"""Build-time tooling of the book (its own package, never in Colab); all it generates goes under _build/.

Read in this order: `chapters` (which notebooks are chapters), `myst` (the one MyST renderer, with `glue`,
`bibliography` and `timings`), `editions` (the Colab, student and key editions of a chapter), `install` (the
install line of a release), `scan` (the build's check of the committed outputs), `sphinx_ext` (the site),
`__main__` (`python -m booktools`). The reference run (`reference`) and the teacher's kit (`session`, `slides`,
`handout`) build on them.
"""
