"""Glue and the guards of the book's claims (lenet_utils.book)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

import lenet_utils.book as book
from lenet_utils.book import NOTE_PREFIX, REFERENCE_ENV, ClaimError, check
from lenet_utils.errors import SettingError

# --------------------------------------------------------------------------- glue


def test_glue_hands_the_value_to_myst_nb(monkeypatch):
    import myst_nb

    calls = []
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display: calls.append((name, value, display)))
    book.glue("ch2_test_acc", 0.875, display=False)
    assert calls == [("ch2_test_acc", 0.875, False)]


def test_glue_without_myst_nb_just_displays_the_value(monkeypatch):
    shown = []
    monkeypatch.setitem(sys.modules, "myst_nb", None)  # as in Colab: import fails
    monkeypatch.setattr("IPython.display.display", shown.append)
    book.glue("ch2_test_acc", 0.875)
    book.glue("ch2_hidden", 1, display=False)
    assert shown == [0.875]


def test_the_guards_work_without_ipython():
    """A `pip install` of the package alone has no IPython: check() must import and run all the same."""
    code = "import sys; sys.modules['IPython'] = None; from lenet_utils.book import check; check(True, 'a', 'b')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# --------------------------------------------------------------------------- check


@pytest.fixture
def readers_run(monkeypatch):
    monkeypatch.delenv(REFERENCE_ENV, raising=False)


@pytest.fixture
def reference_run(monkeypatch):
    monkeypatch.setenv(REFERENCE_ENV, "1")


@pytest.mark.parametrize("run", ["readers_run", "reference_run"])
def test_check_is_silent_when_the_claim_holds(request, capsys, run):
    request.getfixturevalue(run)
    check(True, "ReLU is ahead", "ReLU 89.2 % vs tanh 88.9 %")
    assert capsys.readouterr().out == ""


def test_a_false_claim_fails_the_reference_run(reference_run):
    expected = "the text says 'ReLU is ahead', but in the reference run ReLU 88.0 %"
    with pytest.raises(ClaimError, match=re.escape(expected)):
        check(False, "ReLU is ahead", "ReLU 88.0 % vs tanh 88.9 %")


def test_a_false_claim_in_a_readers_run_is_a_note_that_names_the_claim_and_the_value(readers_run, capsys):
    check(False, "ReLU is ahead", "ReLU 88.0 % vs tanh 88.9 %")
    out = capsys.readouterr().out
    assert out.startswith(NOTE_PREFIX)
    assert "“ReLU is ahead”" in out
    assert out.endswith("this run got ReLU 88.0 % vs tanh 88.9 %.\n")


def test_a_claim_about_time_is_silent_outside_the_reference_run(readers_run, capsys):
    check(False, "an epoch takes 8 s", "12.1 s", about_time=True)
    assert capsys.readouterr().out == ""


def test_a_claim_about_time_is_strict_in_the_reference_run(reference_run):
    with pytest.raises(ClaimError, match="an epoch takes 8 s"):
        check(False, "an epoch takes 8 s", "12.1 s", about_time=True)


@pytest.mark.parametrize(("value", "reference"), [("1", True), ("0", False), ("", False)])
def test_the_reference_run_is_said_one_way(monkeypatch, value, reference):
    monkeypatch.setenv(REFERENCE_ENV, value)
    assert book.reference_run() is reference


@pytest.mark.parametrize("value", [" 1", "true", "01", "yes", "on"])
def test_a_reference_run_setting_not_understood_is_an_error_naming_the_accepted_values(monkeypatch, value):
    monkeypatch.setenv(REFERENCE_ENV, value)
    with pytest.raises(SettingError, match=rf"^LENET_REFERENCE_RUN='{re.escape(value)}' is not understood"):
        check(False, "ReLU is ahead", "ReLU 88.0 %")
