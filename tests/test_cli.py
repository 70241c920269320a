"""The command line `python -m lenet_utils train` (lenet_utils.cli)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

import lenet_utils.cli as cli

ACCURACY_LINE = re.compile(r"test accuracy: (\d{1,3}\.\d\d)%")  # the synthetic data can give 100.00%
REAL_ACCURACY_LINE = re.compile(r"test accuracy: (\d\d\.\d\d)%")


def run_cli(*args: str, cwd, **env: str) -> subprocess.CompletedProcess:
    """Run `python -m lenet_utils ARGS` in a fresh interpreter (the installed package, not the checkout).

    One thread, like the in-process tests: on a busy machine several threads slow training down manyfold.
    """
    return subprocess.run(
        [sys.executable, "-m", "lenet_utils", *args],
        cwd=cwd,
        env={**os.environ, "OMP_NUM_THREADS": "1", **env},
        capture_output=True,
        text=True,
        timeout=600,
    )


def is_one_sentence(text: str) -> bool:
    """A single line, starting with "error: " and ending with a full stop."""
    return len(text.strip().splitlines()) == 1 and text.startswith("error: ") and text.strip().endswith(".")


@pytest.fixture
def fake_data(monkeypatch, synthetic_data):
    """Serve the synthetic data set instead of loading Fashion-MNIST; records the loader's arguments."""
    calls = []

    def load(data_dir=None, seed=None):
        calls.append({"data_dir": data_dir, "seed": seed})
        return synthetic_data

    monkeypatch.setattr(cli, "load_fashion_mnist", load)
    return calls


# --------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    "argv, complaint",
    [
        ([], "the following arguments are required"),
        (["fly"], "invalid choice: 'fly'"),
        (["train", "--epochs", "0"], "argument --epochs: must be positive"),
        (["train", "--epochs", "two"], "argument --epochs: invalid positive int value"),
        (["train", "--batch-size", "-5"], "argument --batch-size: must be positive"),
        (["train", "--lr", "0"], "argument --lr: must be positive"),
        (["train", "--lr", "nan"], "argument --lr: must be positive"),
        (["train", "--activation", "swish"], "argument --activation: invalid choice: 'swish'"),
        (["train", "--seed", "-1"], "argument --seed: must be between 0 and 2\\*\\*32 - 1"),
        (["train", "--device", "banana"], "argument --device: 'banana' is not a device name"),
        (["train", "--colour", "blue"], "unrecognized arguments: --colour blue"),
    ],
    ids=[
        "no command",
        "unknown command",
        "zero epochs",
        "epochs not a number",
        "negative batch size",
        "zero lr",
        "nan lr",
        "unknown activation",
        "negative seed",
        "unknown device",
        "unknown option",
    ],
)
def test_bad_arguments_give_a_usage_error(argv, complaint, capsys):
    with pytest.raises(SystemExit) as excinfo:
        cli.main(argv)
    err = capsys.readouterr().err
    assert excinfo.value.code == 2
    assert err.startswith("usage: python -m lenet_utils")
    assert re.search(complaint, err)


def test_an_unavailable_device_is_a_usage_error(monkeypatch, capsys):
    monkeypatch.setattr(cli.torch.cuda, "is_available", lambda: False)
    with pytest.raises(SystemExit) as excinfo:
        cli.main(["train", "--device", "cuda"])
    assert excinfo.value.code == 2
    assert "'cuda' is not available on this machine" in capsys.readouterr().err


def test_bad_arguments_in_a_fresh_interpreter(tmp_path):
    result = run_cli("train", "--epochs", "0", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("usage:")
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as excinfo:
        cli.main(["train", "--help"])
    out = capsys.readouterr().out
    assert excinfo.value.code == 0
    for option in ("--activation", "--epochs", "--seed", "--batch-size", "--lr", "--data-dir", "--device"):
        assert option in out


# --------------------------------------------------------------------------- missing or bad data


def test_missing_data_is_one_sentence_with_the_three_remedies(offline, capsys, explains_how_to_get_data):
    status = cli.main(["train", "--epochs", "1"])
    out, err = capsys.readouterr()
    assert status == 1
    assert is_one_sentence(err), err
    assert explains_how_to_get_data(err)
    assert "Traceback" not in err and out == ""
    assert offline, "the download should have been tried"


def test_missing_data_in_a_fresh_interpreter(tmp_path, explains_how_to_get_data):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli(
        "train",
        "--epochs",
        "1",
        cwd=tmp_path,
        FASHION_MNIST_DIR=str(empty),
        LENET_CACHE=str(tmp_path / "cache"),
    )
    assert result.returncode == 1
    assert is_one_sentence(result.stderr), result.stderr
    assert explains_how_to_get_data(result.stderr)
    assert str(empty) in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_a_data_dir_without_the_files_is_reported(tmp_path, capsys):
    assert cli.main(["train", "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert is_one_sentence(err) and f"{tmp_path} does not hold the four Fashion-MNIST IDX files" in err


def test_damaged_data_is_reported(idx_dir, capsys):
    labels = next(idx_dir.glob("train-labels*"))
    labels.write_bytes(labels.read_bytes()[:-3])
    assert cli.main(["train", "--data-dir", str(idx_dir)]) == 1
    err = capsys.readouterr().err
    assert is_one_sentence(err) and str(labels) in err and "Traceback" not in err


# --------------------------------------------------------------------------- training runs


def test_a_run_prints_the_epochs_and_the_test_accuracy(fake_data, capsys):
    status = cli.main(
        [
            "train",
            "--epochs",
            "2",
            "--batch-size",
            "50",
            "--seed",
            "3",
            "--device",
            "cpu",
            "--data-dir",
            "somewhere",
        ]
    )
    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    assert fake_data == [{"data_dir": "somewhere", "seed": 3}]
    assert [line[:10] for line in lines[:2]] == ["epoch 1/2 ", "epoch 2/2 "]
    assert ACCURACY_LINE.fullmatch(lines[-1])


def test_a_diverging_run_is_one_sentence_naming_the_learning_rate(fake_data, capsys):
    status = cli.main(["train", "--activation", "relu", "--lr", "1e20", "--epochs", "1"])
    err = capsys.readouterr().err
    assert status == 1
    assert is_one_sentence(err) and "learning rate 1e+20" in err


@pytest.mark.real_data
def test_one_real_epoch_reports_the_test_accuracy(tmp_path):
    result = run_cli("train", "--epochs", "1", cwd=tmp_path, LENET_CACHE=str(tmp_path / "cache"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("epoch 1/1 | train loss ")
    match = REAL_ACCURACY_LINE.fullmatch(lines[-1])
    assert match, lines[-1]
    assert float(match.group(1)) > 75.0  # one epoch of tanh LeNet-5 reaches over 80%; chance is 10%
