"""Build-time tooling of the book (not installed in Colab): the chapter list, the editions, the site extension."""
