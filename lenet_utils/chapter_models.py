"""The models the chapters train, in one list: what `python -m lenet_utils prepare` puts into the cache."""

from __future__ import annotations

from dataclasses import replace

from .config import TrainConfig

# Chapter 5's ablation: (short name, what changes, the fields of TrainConfig that change), each step on top of
# the one before; the first starts from chapter 3's ReLU network.
ABLATION_SHORT, ABLATION_LONG = 2, 11  # epochs of every ablation step, and of the final model
ABLATION_STEPS: tuple[tuple[str, str, dict], ...] = (
    ("baseline", "chapter 3's ReLU LeNet-5", dict(epochs=ABLATION_SHORT)),
    ("max-pool", "max-pooling instead of average", dict(pool="max")),
    ("batch norm", "batch normalization (+ ReLU after conv2)", dict(batch_norm=True, act_after_conv2=True)),
    ("flips", "random horizontal flips", dict(flip=True)),
    ("one-cycle", "one-cycle schedule, peak lr 1e-3", dict(schedule="onecycle")),
    ("peak lr", "peak lr 3e-3 instead of 1e-3", dict(lr=3e-3)),
    ("wider", "wider layers (32, 32, 64, 84)", dict(widths=(32, 32, 64, 84))),
    ("long run", f"{ABLATION_LONG} epochs instead of {ABLATION_SHORT}", dict(epochs=ABLATION_LONG)),
)


def ablation_configs(baseline: TrainConfig | None = None) -> list[TrainConfig]:
    """The configuration of every step of chapter 5's ablation, each built on the one before."""
    configs = [replace(baseline or TrainConfig("relu"), **ABLATION_STEPS[0][2])]
    for _, _, fields in ABLATION_STEPS[1:]:
        configs.append(replace(configs[-1], **fields))
    return configs


def book_models() -> dict[str, TrainConfig]:
    """Every model a chapter trains, by a label that names the chapter, in the order the chapters train them.

    Chapter 5's first step is chapter 3's ReLU model (its first epochs are read from that model's history), so
    it trains nothing of its own; chapter 4 reuses chapter 3's ReLU model too.
    """
    models = {"chapter 2 and 3: tanh": TrainConfig("tanh"), "chapter 3, 4 and 5: ReLU": TrainConfig("relu")}
    for (name, _, _), config in list(zip(ABLATION_STEPS, ablation_configs(), strict=True))[1:]:
        models[f"chapter 5: {name}"] = config
    return models
