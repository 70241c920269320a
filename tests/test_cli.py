"""The command line `python -m lenet_utils train` (lenet_utils.cli)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import replace
from types import SimpleNamespace

import pytest
import torch
from torch.utils.data import TensorDataset

import lenet_utils.cli as cli
from lenet_utils import History, TrainConfig, TrainResult, evaluate, make_loader, train

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
    """Serve the synthetic data set instead of loading Fashion-MNIST; records the loader's arguments.

    Its test set is the validation set with every other label shifted by one class, so a model's test accuracy
    is about half its validation accuracy (and neither 0 nor 100%, so a fraction printed as a percentage shows).
    """
    calls = []
    images, labels = synthetic_data.val.tensors
    shifted = labels.clone()
    shifted[::2] = (labels[::2] + 1) % 10
    data = replace(synthetic_data, test=TensorDataset(images, shifted))

    def load(data_dir=None, seed=None):
        calls.append({"data_dir": data_dir, "seed": seed})
        return data

    monkeypatch.setattr(cli, "load_fashion_mnist", load)
    return calls


@pytest.fixture
def trained(monkeypatch) -> list[SimpleNamespace]:
    """Record the config, data, device and result of every training the command line runs."""
    calls = []

    def spy(config, data, device):
        calls.append(SimpleNamespace(config=config, data=data, device=device, result=train(config, data, device)))
        return calls[-1].result

    monkeypatch.setattr(cli, "train", spy)
    return calls


# --------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    "argv, complaint",
    [
        ([], "the following arguments are required"),
        (["fly"], "invalid choice: 'fly'"),
        (["train", "--epochs", "0"], "argument --epochs: must be a positive finite number, got 0"),
        (["train", "--epochs", "two"], "argument --epochs: invalid positive int value"),
        (["train", "--batch-size", "-5"], "argument --batch-size: must be a positive finite number"),
        (["train", "--lr", "0"], "argument --lr: must be a positive finite number"),
        (["train", "--lr", "nan"], "argument --lr: must be a positive finite number"),
        (["train", "--lr", "inf"], "argument --lr: must be a positive finite number, got inf"),
        (["train", "--seed", "1e3"], "argument --seed: invalid integer seed value: '1e3'"),
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
        "infinite lr",
        "seed not an integer",
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


@pytest.mark.parametrize("command", ["train", "prepare"])
@pytest.mark.parametrize("device", ["cpu:1", "cpu:99", "mps:1"])
def test_a_device_index_that_does_not_exist_is_a_usage_error(capsys, command, device):
    with pytest.raises(SystemExit) as excinfo:
        cli.main([command, "--device", device])
    assert excinfo.value.code == 2
    assert f"{device!r} does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("seed", [0, 2**32 - 1])
def test_the_extreme_seeds_are_accepted(seed):
    assert cli.build_parser().parse_args(["train", "--seed", str(seed)]).seed == seed


def test_a_seed_of_2_to_the_32_is_refused(capsys):
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["train", "--seed", str(2**32)])
    assert "must be between 0 and 2**32 - 1, got 4294967296" in capsys.readouterr().err


@pytest.mark.parametrize("name, backend", [("cuda", "cuda"), ("cuda:0", "cuda"), ("mps", "backends.mps")])
def test_an_available_accelerator_is_accepted(monkeypatch, name, backend):
    module = cli.torch.cuda if backend == "cuda" else cli.torch.backends.mps
    monkeypatch.setattr(module, "is_available", lambda: True)
    monkeypatch.setattr(cli.torch.cuda, "device_count", lambda: 1)
    assert cli.build_parser().parse_args(["train", "--device", name]).device == cli.torch.device(name)


@pytest.mark.parametrize("name", ["cuda:1", "cuda:5"])
def test_a_gpu_that_does_not_exist_is_a_usage_error(monkeypatch, capsys, name):
    monkeypatch.setattr(cli.torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(cli.torch.cuda, "device_count", lambda: 1)
    with pytest.raises(SystemExit) as excinfo:
        cli.main(["train", "--device", name])
    assert excinfo.value.code == 2
    assert f"'{name}' does not exist: this machine has 1 GPU(s)" in capsys.readouterr().err


@pytest.mark.slow
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
    text = " ".join(out.split())  # argparse wraps the help to the terminal's width
    for meaning in ("(default: tanh)", "(default: 5)", "(default: 59)", "(default: 100)", "(default: 0.001)"):
        assert meaning in text


def test_running_out_of_memory_while_preparing_a_room_is_one_sentence(monkeypatch, capsys):
    def prepare(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(cli, "prepare", prepare)
    assert cli.main(["prepare", "--device", "cpu"]) == 1
    assert capsys.readouterr().err == (
        "error: ran out of memory; close other programs, or pass --device cpu, and run it again.\n"
    )


# --------------------------------------------------------------------------- missing or bad data


def test_missing_data_is_one_sentence_with_the_three_remedies(offline, capsys, explains_how_to_get_data):
    status = cli.main(["train", "--epochs", "1"])
    out, err = capsys.readouterr()
    assert status == 1
    assert is_one_sentence(err), err
    assert explains_how_to_get_data(err)
    assert "(data_dir, --data-dir or FASHION_MNIST_DIR)" in err
    assert "Traceback" not in err
    assert out == ""
    assert offline, "the download should have been tried"


@pytest.mark.slow
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


def test_a_data_dir_without_the_files_is_reported_in_command_line_terms(tmp_path, capsys):
    assert cli.main(["train", "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert is_one_sentence(err)
    assert f"{tmp_path} lacks train-images-idx3-ubyte, train-labels-idx1-ubyte, " in err
    assert "(data_dir, --data-dir or FASHION_MNIST_DIR)" in err


def test_a_data_dir_that_is_a_file_is_reported(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    assert cli.main(["train", "--data-dir", str(tmp_path / "file")]) == 1
    assert f"error: {tmp_path / 'file'} is not a folder; name a folder" in capsys.readouterr().err


def test_damaged_data_is_reported(idx_dir, capsys):
    labels = next(idx_dir.glob("train-labels*"))
    labels.write_bytes(labels.read_bytes()[:-3])
    assert cli.main(["train", "--data-dir", str(idx_dir)]) == 1
    err = capsys.readouterr().err
    assert is_one_sentence(err)
    assert str(labels) in err
    assert "Traceback" not in err


# --------------------------------------------------------------------------- training runs


def test_a_run_prints_the_epochs_and_the_test_accuracy(fake_data, trained, capsys):
    status = cli.main(
        ["train", "--epochs", "2", "--batch-size", "50", "--seed", "3", "--device", "cpu", "--data-dir", "somewhere"]
    )
    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    assert fake_data == [{"data_dir": "somewhere", "seed": 3}]
    assert [line[:10] for line in lines[:2]] == ["epoch 1/2 ", "epoch 2/2 "]
    [run] = trained
    data, result = run.data, run.result
    _, test_acc = evaluate(result.model, make_loader(data.test, batch_size=100), torch.device("cpu"))
    _, val_acc = evaluate(result.model, make_loader(data.val, batch_size=100), torch.device("cpu"))
    assert test_acc != val_acc
    assert 0.1 < test_acc < 0.9
    assert lines[-1] == f"test accuracy: {100 * test_acc:.2f}%"


def test_every_option_reaches_the_training_config(fake_data, trained):
    cli.main(["train", "--activation", "relu", "--epochs", "1", "--batch-size", "40", "--lr", "0.002", "--seed", "7"])
    [run] = trained
    assert run.config == TrainConfig(activation="relu", epochs=1, batch_size=40, lr=0.002, seed=7)


def test_a_diverging_run_is_one_sentence_naming_the_learning_rate(fake_data, capsys):
    status = cli.main(["train", "--activation", "relu", "--lr", "1e20", "--epochs", "1"])
    err = capsys.readouterr().err
    assert status == 1
    assert is_one_sentence(err)
    assert "learning rate 1e+20" in err


@pytest.mark.parametrize("option, expected", [(["--device", "cpu"], "cpu"), ([], "cpu:0")])
def test_training_and_testing_use_the_chosen_device(fake_data, trained, monkeypatch, option, expected):
    """--device wins over pick_device; without it, pick_device's choice ("cpu:0" here) reaches both steps."""
    monkeypatch.setattr(cli, "pick_device", lambda: torch.device("cpu:0") if not option else pytest.fail("picked"))
    tested_on = []

    def spy(model, loader, device):
        tested_on.append(device)
        return evaluate(model, loader, device)

    monkeypatch.setattr(cli, "evaluate", spy)
    assert cli.main(["train", "--epochs", "1", *option]) == 0
    assert [run.device for run in trained] == tested_on == [torch.device(expected)]


def test_a_finite_explosion_is_one_sentence_naming_the_learning_rate(fake_data, capsys):
    status = cli.main(["train", "--activation", "tanh", "--lr", "1e6", "--epochs", "1"])
    out, err = capsys.readouterr()
    assert status == 1
    assert "test accuracy" not in out
    assert is_one_sentence(err)
    assert "at learning rate 1e+06; lower the learning rate and retrain." in err


def test_a_batch_as_large_as_the_training_set_is_allowed(fake_data):
    assert cli.main(["train", "--epochs", "1", "--batch-size", "200"]) == 0


def test_a_batch_larger_than_the_training_set_is_a_usage_error(fake_data, capsys):
    with pytest.raises(SystemExit) as excinfo:
        cli.main(["train", "--batch-size", "201"])
    assert excinfo.value.code == 2
    assert "argument --batch-size: must be at most 200, the number of training images" in capsys.readouterr().err


def test_a_batch_larger_than_fashion_mnist_is_refused_before_the_data_loads(fake_data, capsys):
    with pytest.raises(SystemExit) as excinfo:
        cli.main(["train", "--batch-size", "100000"])
    assert excinfo.value.code == 2
    assert fake_data == []
    err = capsys.readouterr().err
    assert err.startswith("usage: python -m lenet_utils train ")  # the usage of `train`, not of the top level
    assert "argument --batch-size: must be at most 55000, the number of training images, got 100000" in err


# --------------------------------------------------------------------------- Ctrl-C (real signals: test_faults.py)


def test_an_interrupted_training_exits_130_without_an_accuracy(fake_data, monkeypatch, capsys):
    def interrupted(config, data, device):
        return TrainResult(model=config.build_model(), history=History(interrupted=True))

    monkeypatch.setattr(cli, "train", interrupted)
    assert cli.main(["train", "--epochs", "3"]) == 130
    out, err = capsys.readouterr()
    assert "test accuracy" not in out
    assert err == "error: interrupted after 0 of 3 epochs, so there is no test accuracy; run it again for one.\n"


@pytest.mark.parametrize("error", [MemoryError, torch.cuda.OutOfMemoryError], ids=["RAM", "GPU memory"])
def test_running_out_of_memory_is_one_sentence_naming_the_batch_size(fake_data, monkeypatch, capsys, error):
    def train(config, data, device):
        raise error()

    monkeypatch.setattr(cli, "train", train)
    assert cli.main(["train", "--batch-size", "150"]) == 1
    assert capsys.readouterr().err == "error: ran out of memory with batches of 150; pass a smaller --batch-size.\n"


def test_a_closed_pipe_exits_141_and_silences_the_output(fake_data, monkeypatch, capfd):
    def train(config, data, device):
        raise BrokenPipeError

    monkeypatch.setattr(cli, "train", train)
    assert cli.main(["train"]) == 141  # 128 + SIGPIPE; a real pipe is closed in test_faults.py
    os.write(1, b"after the reader left")  # goes to /dev/null now, so the flush at exit cannot fail
    assert capfd.readouterr() == ("", "")


def test_ctrl_c_while_loading_the_data_exits_130(monkeypatch, capsys):
    def load(data_dir=None, seed=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "load_fashion_mnist", load)
    assert cli.main(["train"]) == 130
    assert capsys.readouterr().err == (
        "error: interrupted before the test accuracy was measured; run it again for one.\n"
    )


@pytest.mark.real_data
def test_one_real_epoch_reports_the_test_accuracy(tmp_path):
    result = run_cli("train", "--epochs", "1", cwd=tmp_path, LENET_CACHE=str(tmp_path / "cache"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("epoch 1/1 | train loss ")
    match = REAL_ACCURACY_LINE.fullmatch(lines[-1])
    assert match, lines[-1]
    assert float(match.group(1)) > 75.0  # one epoch of tanh LeNet-5 reaches over 80%; chance is 10%
