"""Build-time tooling of the book (not installed in Colab): the chapter list, the editions, the site extension.

Read in this order: `chapters` (which notebooks are chapters), `myst` (MyST markdown as plain markdown,
with `glue` and `bibliography`), `editions` (the Colab, student and key editions of a chapter),
`install` (the install line of a release), `output` (writing only files the generator owns), `scan`
(the build's check of the committed outputs), `sphinx_ext` (the site), `__main__` (`python -m booktools`).
The reference run (`reference`), the teacher's kit (`slides`, `handout`, `timings`, `myst_text`) build on them.
"""
