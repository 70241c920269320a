"""Saving and loading trained models (lenet_utils.checkpoint)."""

from __future__ import annotations

import copy
import os

import pytest
import torch

from lenet_utils import CheckpointMismatchError, build_lenet, load_checkpoint, save_checkpoint
from lenet_utils.checkpoint import architecture


def fresh(seed: int = 1, **options) -> torch.nn.Sequential:
    torch.manual_seed(seed)
    return build_lenet(**options)


def assert_same_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name


@pytest.fixture
def saved(tmp_path, model):
    """A checkpoint of the `model` fixture (tanh LeNet-5) with a history in it."""
    return save_checkpoint(tmp_path / "model.pt", model, history={"train_loss": [0.5]})


# --------------------------------------------------------------------------- the happy path


def test_a_loaded_model_has_the_saved_weights(saved, model):
    target = fresh(seed=1)
    load_checkpoint(saved, target)
    assert_same_weights(target.state_dict(), model.state_dict())


def test_load_returns_the_extra_data(saved):
    payload = load_checkpoint(saved, fresh())
    assert payload["history"] == {"train_loss": [0.5]}
    assert payload["format"] == 1


def test_save_creates_missing_folders_and_returns_the_path(tmp_path, model):
    path = tmp_path / "a" / "b" / "model.pt"
    assert save_checkpoint(path, model) == path
    assert path.is_file()


def test_save_leaves_no_temporary_files(saved):
    assert os.listdir(saved.parent) == ["model.pt"]


def test_checkpoints_written_before_layers_were_recorded_still_load(tmp_path, model):
    path = tmp_path / "old.pt"
    torch.save({"format": 1, "architecture": architecture(model), "state_dict": model.state_dict()}, path)
    target = fresh()
    load_checkpoint(path, target)
    assert_same_weights(target.state_dict(), model.state_dict())


# --------------------------------------------------------------------------- another architecture

OTHER_ARCHITECTURES = {
    "relu": dict(activation="relu"),
    "sigmoid": dict(activation="sigmoid"),
    "act_after_conv2": dict(act_after_conv2=True),
    "max_pool": dict(pool="max"),
    "batch_norm": dict(batch_norm=True),
    "dropout": dict(dropout=0.5),
    "widths": dict(widths=(8, 16, 120, 84)),
}


@pytest.mark.parametrize("options", OTHER_ARCHITECTURES.values(), ids=OTHER_ARCHITECTURES.keys())
def test_a_checkpoint_of_another_architecture_is_refused(saved, options):
    with pytest.raises(CheckpointMismatchError, match="holds a different architecture"):
        load_checkpoint(saved, fresh(**options))


@pytest.mark.parametrize("options", OTHER_ARCHITECTURES.values(), ids=OTHER_ARCHITECTURES.keys())
def test_a_refused_checkpoint_leaves_the_model_untouched(saved, options):
    target = fresh(seed=2, **options)
    before = copy.deepcopy(target.state_dict())
    with pytest.raises(CheckpointMismatchError):
        load_checkpoint(saved, target)
    assert_same_weights(target.state_dict(), before)


def test_the_refusal_names_what_differs(saved):
    with pytest.raises(CheckpointMismatchError, match=r"differs in relu1, relu2, relu3, tanh1"):
        load_checkpoint(saved, fresh(activation="relu"))


def test_a_shape_difference_is_reported(saved):
    with pytest.raises(CheckpointMismatchError, match="differs in tensor shapes"):
        load_checkpoint(saved, fresh(widths=(6, 16, 120, 100)))


# --------------------------------------------------------------------------- damaged files


def damaged_versions(good: bytes) -> dict[str, bytes]:
    return {
        "empty": b"",
        "text": b"hello, I am not a checkpoint\n",
        "random bytes": bytes(range(256)) * 4,
        "first half": good[: len(good) // 2],
        "first 100 bytes": good[:100],
        "last half": good[len(good) // 2 :],
    }


@pytest.mark.parametrize("damage", damaged_versions(b"").keys())
def test_a_damaged_checkpoint_is_refused_without_touching_the_model(saved, damage):
    saved.write_bytes(damaged_versions(saved.read_bytes())[damage])
    target = fresh(seed=2)
    before = copy.deepcopy(target.state_dict())
    with pytest.raises(CheckpointMismatchError, match=r"is not a readable checkpoint.*delete it and train again"):
        load_checkpoint(saved, target)
    assert_same_weights(target.state_dict(), before)


@pytest.mark.parametrize(
    "content",
    [{"weights": 1}, torch.zeros(3), "state_dict"],
    ids=["other dict", "tensor", "string"],
)
def test_a_torch_file_not_written_by_lenet_utils_is_refused(tmp_path, content):
    path = tmp_path / "other.pt"
    torch.save(content, path)
    with pytest.raises(CheckpointMismatchError, match="not written by lenet_utils"):
        load_checkpoint(path, fresh())


def test_a_bare_state_dict_is_refused(tmp_path, model):
    path = tmp_path / "state_dict.pt"
    torch.save(model.state_dict(), path)
    with pytest.raises(CheckpointMismatchError, match="not written by lenet_utils"):
        load_checkpoint(path, fresh())


def test_a_checkpoint_that_would_run_code_is_refused(tmp_path, model):
    path = tmp_path / "pickled.pt"
    torch.save({"format": 1, "state_dict": model.state_dict(), "whole model": model}, path)
    with pytest.raises(CheckpointMismatchError, match="is not a readable checkpoint"):
        load_checkpoint(path, fresh())


def test_a_missing_checkpoint_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "nowhere.pt", fresh())


# --------------------------------------------------------------------------- atomic writes


@pytest.fixture(params=[OSError(28, "No space left on device"), KeyboardInterrupt()], ids=["disk full", "ctrl-c"])
def break_torch_save(request, monkeypatch):
    """Call it to make torch.save write a few bytes and then fail; it returns the error type to expect."""
    error = request.param

    def save(obj, fh, *args, **kwargs):
        fh.write(b"PK\x03\x04 partial")
        raise error

    def install() -> type[BaseException]:
        monkeypatch.setattr(torch, "save", save)
        return type(error)

    return install


def test_a_failed_save_leaves_no_file(tmp_path, model, break_torch_save):
    error = break_torch_save()
    with pytest.raises(error):
        save_checkpoint(tmp_path / "model.pt", model)
    assert os.listdir(tmp_path) == []


def test_a_failed_overwrite_keeps_the_previous_checkpoint(saved, model, break_torch_save):
    original = copy.deepcopy(model.state_dict())
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(1.0)
    error = break_torch_save()
    with pytest.raises(error):
        save_checkpoint(saved, model)
    assert os.listdir(saved.parent) == ["model.pt"]
    target = fresh()
    load_checkpoint(saved, target)
    assert_same_weights(target.state_dict(), original)
