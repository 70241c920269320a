"""The figures the chapters share (lenet_utils.plots)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.colors import to_hex

from lenet_utils import (
    CLASS_NAMES,
    LINE_STYLES,
    MARKERS,
    PALETTE,
    SEQUENTIAL_CMAP,
    History,
    plot_confusion_matrix,
    plot_histories,
    show_images,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def history() -> History:
    """Two epochs: train loss, train accuracy, validation loss, validation accuracy, seconds."""
    return History([0.9, 0.5], [0.7, 0.8], [0.6, 0.45], [0.75, 0.84], [1.0, 1.0])


def test_show_images_titles_each_image_in_gray():
    images = torch.rand(5, 1, 28, 28)
    fig = show_images(images, [CLASS_NAMES[i] for i in range(5)], ncols=3)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(fig.axes) == 6, "a 2×3 grid for 5 images"
    assert len(shown) == 5
    assert [ax.get_title() for ax in shown] == list(CLASS_NAMES[:5])
    assert shown[0].images[0].get_cmap().name == "gray_r"


def test_plot_histories_labels_axes_and_draws_train_and_validation():
    fig = plot_histories({"tanh": history(), "relu": history()})
    loss, acc = fig.axes
    assert (loss.get_xlabel(), loss.get_ylabel()) == ("epoch", "cross-entropy loss")
    assert (acc.get_xlabel(), acc.get_ylabel()) == ("epoch", "accuracy (%)")
    assert [line.get_label() for line in acc.lines] == [
        "tanh train",
        "tanh validation",
        "relu train",
        "relu validation",
    ]
    assert acc.lines[1].get_ydata().tolist() == pytest.approx([75.0, 84.0])


def test_plot_histories_draws_training_and_validation_with_the_shared_styles():
    fig = plot_histories({"tanh": history(), "relu": history()})
    for ax in fig.axes:
        train, validation = ax.lines[0], ax.lines[1]
        assert (train.get_linestyle(), train.get_marker()) == (LINE_STYLES[0], MARKERS[0])
        assert (validation.get_linestyle(), validation.get_marker()) == (LINE_STYLES[1], MARKERS[1])
        assert [to_hex(line.get_color()) for line in ax.lines] == [PALETTE[0].lower()] * 2 + [PALETTE[1].lower()] * 2


def test_plot_histories_draws_every_run_even_beyond_the_palette():
    runs = {f"run {i}": history() for i in range(len(PALETTE) + 2)}
    loss, _ = plot_histories(runs).axes
    assert len(loss.lines) == 2 * len(runs)
    assert to_hex(loss.lines[2 * len(PALETTE)].get_color()) == PALETTE[0].lower()


def test_plot_confusion_matrix_uses_class_names_and_a_colour_blind_safe_map():
    matrix = np.eye(10)
    matrix[6, 6], matrix[6, 0] = 0.6, 0.4  # 40 % of shirts taken for T-shirts
    fig = plot_confusion_matrix(matrix, "test set")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == list(CLASS_NAMES)
    assert [t.get_text() for t in ax.get_yticklabels()] == list(CLASS_NAMES)
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("predicted class", "true class", "test set")
    assert ax.images[0].get_cmap().name == SEQUENTIAL_CMAP
    assert len(ax.texts) == 100, "a value in every cell"
    assert ax.texts[6 * 10 + 0].get_text() == "0.40"
