"""The models the chapters train, in one list, and chapter 5's ablation (lenet_utils.chapter_models)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import lenet_utils
from lenet_utils import TrainConfig
from lenet_utils.chapter_models import ABLATION_STEPS, ablation_configs, book_models

# --------------------------------------------------------------------------- the book's models


def test_the_book_models_are_the_chapters_configurations():
    models = book_models()
    assert list(models.values())[:2] == [TrainConfig("tanh"), TrainConfig("relu")]
    assert list(models.values())[2:] == ablation_configs()[1:]
    assert len({config.key(_FakeSplit()) for config in models.values()}) == len(models) == 9


def test_the_ablation_builds_each_step_on_the_one_before():
    configs = ablation_configs()
    assert len(configs) == len(ABLATION_STEPS)
    assert configs[0] == TrainConfig("relu", epochs=2)
    assert configs[-1] == TrainConfig(
        "relu", epochs=11, pool="max", batch_norm=True, act_after_conv2=True, flip=True, schedule="onecycle",
        lr=3e-3, widths=(32, 32, 64, 84),
    )  # fmt: skip


class _FakeSplit:
    def fingerprint(self) -> dict:
        return {"train": 55_000, "val": 5_000, "split_seed": 59}


def test_chapter_5_trains_the_ablation_that_book_models_lists():
    """Chapter 5's cell that builds `configs` gives the configurations `prepare` puts into the cache."""
    notebook = json.loads((Path(__file__).parents[1] / "book" / "05_beyond_the_original.ipynb").read_text())
    sources = ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]
    cell = next(source for source in sources if re.search(r"^configs\b[^=\n]*=", source, re.MULTILINE))
    namespace = {name: getattr(lenet_utils, name) for name in lenet_utils.__all__} | {"replace": replace}
    exec(cell.replace("glue(", "(lambda *a, **k: None)("), namespace)  # the cell's own code, without the book's glue
    assert namespace["configs"][1:] == ablation_configs()[1:]
