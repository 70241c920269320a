"""Training configurations, train-or-load, and the runtime helpers (experiment, runtime, paths)."""

from __future__ import annotations

import inspect
import random
import re
import warnings
from dataclasses import fields, replace

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

import lenet_utils.experiment as experiment
import lenet_utils.loop as train_module
from lenet_utils import (
    DEFAULT_SEED,
    CheckpointMismatchError,
    DataSplits,
    NonFiniteLossError,
    TrainConfig,
    evaluate,
    make_loader,
    pick_device,
    seed_everything,
    train,
    train_or_load,
)
from lenet_utils.errors import CacheError, CheckpointNotSavedWarning
from lenet_utils.paths import cache_dir

SMALL = TrainConfig(epochs=2, batch_size=50)  # 4 batches per epoch on the synthetic data


@pytest.fixture
def ctrl_c_in_epoch(monkeypatch):
    """``ctrl_c_in_epoch(n)`` makes Ctrl-C arrive once, during the n-th training epoch from now on."""

    def install(epoch: int) -> None:
        real = train_module.train_one_epoch
        calls = {"count": 0}

        def train_one_epoch(*args, **kwargs):
            calls["count"] += 1
            if calls["count"] == epoch:
                raise KeyboardInterrupt
            return real(*args, **kwargs)

        monkeypatch.setattr(train_module, "train_one_epoch", train_one_epoch)

    return install


# --------------------------------------------------------------------------- TrainConfig


def test_defaults_are_the_original_protocol():
    config = TrainConfig()
    assert (config.activation, config.epochs, config.batch_size, config.lr, config.seed) == (
        "tanh",
        5,
        100,
        1e-3,
        59,
    )
    assert config.seed == DEFAULT_SEED


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(epochs=0), "epochs and batch_size must be positive"),
        (dict(batch_size=0), "epochs and batch_size must be positive"),
        (dict(lr=0.0), "lr must be positive"),
        (dict(lr=float("nan")), "lr must be positive"),
        (dict(schedule="cosine"), "choose one of: constant, onecycle"),
        (dict(activation="swish"), "choose one of: tanh, relu, sigmoid"),
        (dict(pool="min"), "choose one of: avg, max"),
        (dict(dropout=1.0), "dropout must be in"),
    ],
    ids=["epochs", "batch_size", "lr zero", "lr nan", "schedule", "activation", "pool", "dropout"],
)
def test_a_bad_config_is_refused_at_once(options, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**options)


def test_build_model_follows_the_config():
    model = TrainConfig("relu", pool="max", act_after_conv2=True).build_model()
    names = [name for name, _ in model.named_children()]
    assert "relu1" in names and "max_pool1" in names and "relu_conv2" in names


def test_widths_given_as_a_list_are_stored_as_a_tuple(synthetic_data):
    config = TrainConfig(widths=[6, 16, 120, 84])
    assert config.widths == (6, 16, 120, 84)
    assert config.key(synthetic_data) == TrainConfig().key(synthetic_data)


def test_key_is_a_short_stable_hash(synthetic_data):
    key = TrainConfig().key(synthetic_data)
    assert key == TrainConfig().key(synthetic_data)
    assert re.fullmatch(r"[0-9a-f]{12}", key)


# Another valid value for every field of TrainConfig: a new field must be added here (the next test says so).
OTHER_VALUES = {
    "activation": "relu",
    "epochs": 6,
    "batch_size": 64,
    "lr": 2e-3,
    "seed": 1,
    "act_after_conv2": True,
    "pool": "max",
    "batch_norm": True,
    "dropout": 0.1,
    "widths": (6, 16, 120, 100),
    "flip": True,
    "max_shift": 2,
    "schedule": "onecycle",
}


def test_the_key_test_covers_every_field():
    assert set(OTHER_VALUES) == {f.name for f in fields(TrainConfig)}, "add the new field to OTHER_VALUES"


@pytest.mark.parametrize("name", OTHER_VALUES)
def test_every_field_changes_the_key(name, synthetic_data):
    assert replace(TrainConfig(), **{name: OTHER_VALUES[name]}).key(synthetic_data) != TrainConfig().key(synthetic_data)


@pytest.mark.parametrize(
    "change",
    [dict(split_seed=1), dict(val=TensorDataset(torch.zeros(3)))],
    ids=["split seed", "validation size"],
)
def test_another_data_split_changes_the_key(change, synthetic_data):
    assert TrainConfig().key(replace(synthetic_data, **change)) != TrainConfig().key(synthetic_data)


def test_checkpoints_live_in_the_cache(cache, synthetic_data):
    config = TrainConfig("relu")
    expected = cache / "checkpoints" / f"lenet-relu-{config.key(synthetic_data)}.pt"
    assert config.checkpoint_path(synthetic_data) == expected


def test_checkpoint_path_accepts_another_folder(tmp_path, synthetic_data):
    assert TrainConfig().checkpoint_path(synthetic_data, tmp_path).parent == tmp_path


def test_cache_dir_follows_the_environment_variable(cache):
    assert cache_dir() == cache


def test_cache_dir_expands_a_leading_tilde(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("LENET_CACHE", "~/lenet")
    assert cache_dir() == tmp_path / "lenet"


def test_cache_dir_defaults_to_the_home_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("LENET_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_dir() == tmp_path / ".cache" / "lenet_utils"


# --------------------------------------------------------------------------- train


def test_train_runs_the_configured_epochs(synthetic_data, cpu):
    result = train(SMALL, synthetic_data, cpu)
    assert result.from_cache is False
    assert result.history.epochs == 2 and not result.history.interrupted
    assert result.history.val_acc[-1] > 0.3  # chance is 0.1


def test_train_builds_the_configured_model(synthetic_data, cpu):
    result = train(replace(SMALL, epochs=1, activation="relu", batch_norm=True), synthetic_data, cpu)
    assert isinstance(result.model.relu1, torch.nn.ReLU)
    assert isinstance(result.model.bn1, torch.nn.BatchNorm2d)


def test_train_with_a_one_cycle_schedule_completes(synthetic_data, cpu):
    # OneCycleLR raises if it is stepped more often than it was told, so this checks the step count too.
    history = train(replace(SMALL, schedule="onecycle"), synthetic_data, cpu).history
    assert history.epochs == 2 and np.isfinite(history.train_loss).all()


def test_augmentation_changes_training(synthetic_data, cpu):
    plain = train(replace(SMALL, epochs=1), synthetic_data, cpu).history
    augmented = train(replace(SMALL, epochs=1, flip=True, max_shift=2), synthetic_data, cpu).history
    assert augmented.train_loss != plain.train_loss
    assert augmented.val_loss != plain.val_loss


@pytest.fixture
def spies(monkeypatch) -> dict[str, list[dict]]:
    """Record the arguments (by name, defaults filled in) that train() passes to the loader, Adam and FlipShift."""
    calls: dict[str, list[dict]] = {"make_loader": [], "Adam": [], "FlipShift": []}

    def spy(name: str, real):
        signature = inspect.signature(real)

        def record(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            made = real(*args, **kwargs)
            calls[name].append({**bound.arguments, "made": made})
            return made

        return record

    monkeypatch.setattr(experiment, "make_loader", spy("make_loader", make_loader))
    monkeypatch.setattr(experiment, "FlipShift", spy("FlipShift", experiment.FlipShift))
    monkeypatch.setattr(torch.optim, "Adam", spy("Adam", torch.optim.Adam))
    return calls


@pytest.mark.parametrize("function", [train, train_or_load], ids=["train", "train_or_load"])
def test_a_given_device_is_used_without_picking_one(synthetic_data, cache, cpu, monkeypatch, function):
    monkeypatch.setattr(experiment, "pick_device", lambda: pytest.fail("picked a device although one was given"))
    function(replace(SMALL, epochs=1), synthetic_data, cpu)


def test_train_shuffles_the_training_set_with_the_config_seed_and_batch_size(synthetic_data, cpu, spies):
    train(replace(SMALL, epochs=1, seed=123, batch_size=40), synthetic_data, cpu)
    [train_call] = [c for c in spies["make_loader"] if c["dataset"] is synthetic_data.train]
    assert (train_call["batch_size"], train_call["shuffle"], train_call["seed"]) == (40, True, 123)


def test_train_validates_on_the_validation_set_never_the_test_set(synthetic_data, cpu, spies):
    train(replace(SMALL, epochs=1), synthetic_data, cpu)
    datasets = [call["dataset"] for call in spies["make_loader"]]
    assert any(d is synthetic_data.val for d in datasets)
    assert not any(d is synthetic_data.test for d in datasets)


def test_train_passes_the_learning_rate_to_adam(synthetic_data, cpu, spies):
    train(replace(SMALL, epochs=1, lr=3e-3), synthetic_data, cpu)
    [call] = spies["Adam"]
    assert call["lr"] == 3e-3


def test_train_seeds_the_augmentation_with_the_config_seed(synthetic_data, cpu, spies):
    train(replace(SMALL, epochs=1, seed=77, flip=True, max_shift=1), synthetic_data, cpu)
    [call] = spies["FlipShift"]
    assert (call["flip"], call["max_shift"], call["seed"]) == (True, 1, 77)


@pytest.mark.parametrize("flip, max_shift", [(True, 0), (False, 1)], ids=["flip only", "shift only"])
def test_train_augments_with_either_option_alone(synthetic_data, cpu, spies, flip, max_shift):
    train(replace(SMALL, epochs=1, flip=flip, max_shift=max_shift), synthetic_data, cpu)
    [call] = spies["FlipShift"]
    assert (call["flip"], call["max_shift"]) == (flip, max_shift)


def test_train_steps_the_one_cycle_schedule_once_per_batch(synthetic_data, cpu, spies):
    config = replace(SMALL, schedule="onecycle")
    train(config, synthetic_data, cpu)
    steps = len(make_loader(synthetic_data.train, config.batch_size))
    reference = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=config.lr)
    schedule = experiment.make_scheduler(config, reference, steps)
    for _ in range(config.epochs * steps):
        reference.step()
        schedule.step()
    [call] = spies["Adam"]
    final_lr = call["made"].param_groups[0]["lr"]
    assert final_lr == pytest.approx(reference.param_groups[0]["lr"])
    assert final_lr < config.lr / 10  # far below the peak: the schedule was applied


def test_train_without_augmentation_builds_none(synthetic_data, cpu, spies):
    train(replace(SMALL, epochs=1), synthetic_data, cpu)
    assert spies["FlipShift"] == []


def test_the_recorded_validation_accuracy_is_that_of_the_validation_set(synthetic_data, cpu):
    # Test labels shifted by one class: validation and test accuracy of the same model differ.
    test_images, test_labels = synthetic_data.val.tensors
    data = replace(synthetic_data, test=TensorDataset(test_images, (test_labels + 1) % 10))
    result = train(replace(SMALL, epochs=1), data, cpu)
    val_loss, val_acc = evaluate(result.model, make_loader(data.val, batch_size=100), cpu)
    _, test_acc = evaluate(result.model, make_loader(data.test, batch_size=100), cpu)
    assert val_acc != test_acc
    assert result.history.val_acc == [val_acc]
    assert result.history.val_loss[0] == pytest.approx(val_loss, rel=1e-5)


def test_a_batch_larger_than_the_training_set_is_refused_before_training(synthetic_data, cpu, monkeypatch):
    monkeypatch.setattr(experiment, "fit", lambda *args, **kwargs: pytest.fail("trained"))
    with pytest.raises(ValueError, match="batch_size 201 exceeds the 200 training images"):
        train(replace(SMALL, batch_size=201), synthetic_data, cpu)


def test_a_batch_as_large_as_the_training_set_is_allowed(synthetic_data, cpu):
    assert train(replace(SMALL, epochs=1, batch_size=200), synthetic_data, cpu).history.epochs == 1


# --------------------------------------------------------------------------- train_or_load


def test_train_or_load_saves_the_trained_model_and_its_history(synthetic_data, cache, cpu):
    result = train_or_load(SMALL, synthetic_data, cpu)
    path = SMALL.checkpoint_path(synthetic_data)
    assert result.from_cache is False and path.is_file()
    payload = torch.load(path, weights_only=True)
    assert payload["history"] == result.history.as_dict()
    assert payload["config"]["batch_size"] == 50


def test_train_or_load_uses_the_given_folder(synthetic_data, tmp_path, cache, cpu):
    train_or_load(replace(SMALL, epochs=1), synthetic_data, cpu, directory=tmp_path)
    assert [p.name for p in tmp_path.glob("*.pt")] == [replace(SMALL, epochs=1).checkpoint_path(synthetic_data).name]
    assert not cache.exists()


def test_train_or_load_accepts_the_folder_as_a_string(synthetic_data, tmp_path, cache, cpu):
    train_or_load(replace(SMALL, epochs=1), synthetic_data, cpu, directory=str(tmp_path))
    assert len(list(tmp_path.glob("*.pt"))) == 1


def test_a_cached_model_prints_its_training_log(synthetic_data, cache, cpu, capsys):
    train_or_load(SMALL, synthetic_data, cpu)
    capsys.readouterr()
    train_or_load(SMALL, synthetic_data, cpu)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("loaded the trained model from ")
    assert [line[:10] for line in lines[1:]] == ["epoch 1/2 ", "epoch 2/2 "]


def test_an_interrupted_run_is_not_saved(synthetic_data, cache, cpu, ctrl_c_in_epoch):
    ctrl_c_in_epoch(2)
    result = train_or_load(SMALL, synthetic_data, cpu)
    assert result.history.interrupted and result.history.epochs == 1
    assert not SMALL.checkpoint_path(synthetic_data).exists()


def test_after_an_interrupted_run_the_next_call_trains_again(synthetic_data, cache, cpu, ctrl_c_in_epoch):
    ctrl_c_in_epoch(1)
    assert train_or_load(SMALL, synthetic_data, cpu).history.interrupted
    result = train_or_load(SMALL, synthetic_data, cpu)
    assert result.from_cache is False and result.history.epochs == 2
    assert SMALL.checkpoint_path(synthetic_data).is_file()


def test_a_diverging_run_raises_and_is_not_saved(synthetic_data, cache, cpu):
    config = replace(SMALL, activation="relu", lr=1e20)
    with pytest.raises(NonFiniteLossError, match=r"learning rate 1e\+20"):
        train_or_load(config, synthetic_data, cpu)
    assert not config.checkpoint_path(synthetic_data).exists()


@pytest.fixture
def no_training(monkeypatch):
    """Make train() fail the test, to show an error came before any training."""
    monkeypatch.setattr(experiment, "train", lambda *args, **kwargs: pytest.fail("trained before finding the error"))


@pytest.mark.parametrize("where", ["cache is a file", "a parent is a file"])
def test_an_unusable_cache_is_reported_before_training(synthetic_data, tmp_path, monkeypatch, cpu, no_training, where):
    (tmp_path / "file").write_text("not a folder")
    cache = tmp_path / "file" if where == "cache is a file" else tmp_path / "file" / "below"
    monkeypatch.setenv("LENET_CACHE", str(cache))
    with pytest.raises(CacheError) as excinfo:
        train_or_load(SMALL, synthetic_data, cpu)
    assert str(excinfo.value).startswith(f"cannot save checkpoints in {cache / 'checkpoints'} (Not a directory)")
    assert str(excinfo.value).endswith("; set LENET_CACHE (or pass directory=) to a writable folder.")


def test_a_checkpoint_folder_that_is_a_file_is_reported_before_training(synthetic_data, cache, cpu, no_training):
    cache.mkdir()
    (cache / "checkpoints").write_text("not a folder")
    with pytest.raises(CacheError, match=r"checkpoints \(it is a file, not a folder\)"):
        train_or_load(SMALL, synthetic_data, cpu)


def test_too_little_free_space_is_reported_before_training(synthetic_data, cache, cpu, no_training, monkeypatch):
    monkeypatch.setattr("lenet_utils.paths.shutil.disk_usage", lambda path: type("Usage", (), {"free": 1024}))
    weights = sum(t.numel() * 4 for t in SMALL.build_model().state_dict().values())  # float32
    needed = (weights + 64 * 1024) // 1024  # the weights and 64 KiB for the rest of the file
    with pytest.raises(CacheError, match=f"No space left on device: 1 KiB free, {needed} KiB needed\\); set"):
        train_or_load(SMALL, synthetic_data, cpu)


def test_a_failed_save_hands_the_trained_model_back_with_a_warning(synthetic_data, cache, cpu, monkeypatch):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(experiment, "save_checkpoint", full_disk)
    folder = SMALL.checkpoint_path(synthetic_data).parent
    with pytest.warns(CheckpointNotSavedWarning) as caught:
        result = train_or_load(SMALL, synthetic_data, cpu)
    assert result.history.epochs == 2 and not result.from_cache
    assert caught[0].filename == __file__  # the warning points at the caller's line
    assert str(caught[0].message) == (
        f"could not save the trained model in {folder} (No space left on device); it is returned, but it will be "
        "trained again next time unless you free space there or set LENET_CACHE to a writable folder."
    )


def test_a_successful_save_gives_no_warning(synthetic_data, cache, cpu):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train_or_load(replace(SMALL, epochs=1), synthetic_data, cpu)


def test_a_checkpoint_path_that_is_a_folder_is_reported(synthetic_data, cache, cpu, no_training):
    path = SMALL.checkpoint_path(synthetic_data)
    path.mkdir(parents=True)
    with pytest.raises(CacheError, match=f"cannot read {path} \\(Is a directory\\)"):
        train_or_load(SMALL, synthetic_data, cpu)


def edit_checkpoint(trained: TrainConfig, data: DataSplits, **changes) -> None:
    """Rewrite the cached checkpoint of `trained` with some payload entries changed, as a hand edit would."""
    path = trained.checkpoint_path(data)
    payload = torch.load(path, weights_only=True)
    payload.update(changes)
    torch.save(payload, path)


def test_a_checkpoint_copied_from_another_configuration_is_refused(synthetic_data, cache, cpu):
    train_or_load(SMALL, synthetic_data, cpu)
    config = torch.load(SMALL.checkpoint_path(synthetic_data), weights_only=True)["config"]
    edit_checkpoint(SMALL, synthetic_data, config={**config, "epochs": 9, "lr": 0.5})
    with pytest.raises(CheckpointMismatchError, match=r"another configuration \(differs in epochs, lr\); delete it"):
        train_or_load(SMALL, synthetic_data, cpu)


def test_a_checkpoint_whose_configuration_is_not_a_dict_is_refused(synthetic_data, cache, cpu):
    train_or_load(SMALL, synthetic_data, cpu)
    edit_checkpoint(SMALL, synthetic_data, config="tanh, 2 epochs")
    with pytest.raises(CheckpointMismatchError, match=r"another configuration \(differs in every field\)"):
        train_or_load(SMALL, synthetic_data, cpu)


def test_a_checkpoint_with_the_widths_as_a_list_still_loads(synthetic_data, cache, cpu):
    train_or_load(SMALL, synthetic_data, cpu)
    config = torch.load(SMALL.checkpoint_path(synthetic_data), weights_only=True)["config"]
    edit_checkpoint(SMALL, synthetic_data, config={**config, "widths": list(config["widths"])})
    assert train_or_load(SMALL, synthetic_data, cpu).from_cache


def test_a_checkpoint_without_a_field_added_later_still_loads(synthetic_data, cache, cpu):
    train_or_load(SMALL, synthetic_data, cpu)
    config = torch.load(SMALL.checkpoint_path(synthetic_data), weights_only=True)["config"]
    del config["schedule"]  # as if written before schedule existed: it counts as its default
    edit_checkpoint(SMALL, synthetic_data, config=config)
    assert train_or_load(SMALL, synthetic_data, cpu).from_cache


@pytest.mark.parametrize("history", [None, {"train_loss": [0.5]}, "five epochs"], ids=["missing", "short", "text"])
def test_a_checkpoint_with_a_malformed_history_is_refused(synthetic_data, cache, cpu, history):
    train_or_load(SMALL, synthetic_data, cpu)
    edit_checkpoint(SMALL, synthetic_data, history=history)
    with pytest.raises(CheckpointMismatchError, match="holds a malformed history"):
        train_or_load(SMALL, synthetic_data, cpu)


def test_a_checkpoint_with_the_history_of_fewer_epochs_is_refused(synthetic_data, cache, cpu):
    train_or_load(SMALL, synthetic_data, cpu)
    history = torch.load(SMALL.checkpoint_path(synthetic_data), weights_only=True)["history"]
    edit_checkpoint(SMALL, synthetic_data, history={k: v[:1] if isinstance(v, list) else v for k, v in history.items()})
    with pytest.raises(CheckpointMismatchError, match="holds the history of 1 finished epochs, not 2; delete it"):
        train_or_load(SMALL, synthetic_data, cpu)


def test_a_stale_temporary_file_does_not_disturb_saving(synthetic_data, cache, cpu):
    path = SMALL.checkpoint_path(synthetic_data)
    path.parent.mkdir(parents=True)
    stale = path.with_name(f".{path.name}.999-dead.tmp")  # left by a process killed while saving
    stale.write_bytes(b"PK partial")
    train_or_load(SMALL, synthetic_data, cpu)
    assert train_or_load(SMALL, synthetic_data, cpu).from_cache


def test_a_damaged_cached_checkpoint_is_reported(synthetic_data, cache, cpu):
    path = SMALL.checkpoint_path(synthetic_data)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"")
    with pytest.raises(CheckpointMismatchError, match=str(path)):
        train_or_load(SMALL, synthetic_data, cpu)


# --------------------------------------------------------------------------- runtime


def draws() -> tuple:
    return random.random(), np.random.rand(), torch.rand(1).item()


def test_seed_everything_repeats_python_numpy_and_torch():
    seed_everything(3)
    first = draws()
    seed_everything(3)
    assert draws() == first
    seed_everything(4)
    assert draws() != first


def test_pick_device_honours_an_explicit_choice():
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device("cuda:1") == torch.device("cuda", 1)


def test_pick_device_falls_back_to_the_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert pick_device() == torch.device("cpu")


def test_pick_device_prefers_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device() == torch.device("cuda")


def test_pick_device_uses_mps_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert pick_device() == torch.device("mps")
