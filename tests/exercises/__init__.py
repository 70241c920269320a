"""Tests of the self-checking exercises, one file per chapter."""
