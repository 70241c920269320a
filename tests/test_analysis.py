"""What the chapters build on top of a trained model: confusion analysis, plots and glue.

(analysis, plots and book modules of lenet_utils.)
"""

from __future__ import annotations

import sys

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

import lenet_utils.book as book_module
from lenet_utils import CLASS_NAMES, History
from lenet_utils.analysis import most_confused_pairs, normalized_confusion
from lenet_utils.plots import plot_confusion_matrix, plot_histories, show_images

SHIRT, TSHIRT, PULLOVER, COAT = 6, 0, 2, 4


@pytest.fixture
def predictions() -> tuple[np.ndarray, np.ndarray]:
    """10 images of every class, all right except: 4 shirts called T-shirts, 2 pullovers called coats,
    1 coat called a pullover."""
    labels = np.repeat(np.arange(10), 10)
    predicted = labels.copy()
    predicted[labels == SHIRT] = [TSHIRT] * 4 + [SHIRT] * 6
    predicted[labels == PULLOVER] = [COAT] * 2 + [PULLOVER] * 8
    predicted[labels == COAT] = [PULLOVER] + [COAT] * 9
    return labels, predicted


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# --------------------------------------------------------------------------- analysis


def test_normalized_confusion_rows_sum_to_one(predictions):
    matrix = normalized_confusion(*predictions)
    assert matrix.shape == (10, 10)
    np.testing.assert_allclose(matrix.sum(axis=1), np.ones(10))


def test_normalized_confusion_holds_the_shares_of_each_true_class(predictions):
    matrix = normalized_confusion(*predictions)
    assert matrix[SHIRT, TSHIRT] == pytest.approx(0.4)
    assert matrix[SHIRT, SHIRT] == pytest.approx(0.6)
    assert matrix[COAT, PULLOVER] == pytest.approx(0.1)
    assert matrix[TSHIRT, TSHIRT] == 1.0


def test_normalized_confusion_keeps_all_ten_classes_when_some_are_missing():
    matrix = normalized_confusion(np.array([1, 1, 2]), np.array([1, 2, 2]))
    assert matrix.shape == (10, 10)
    assert matrix[1].tolist()[:3] == [0.0, 0.5, 0.5]


def test_most_confused_pairs_puts_the_biggest_mistake_first(predictions):
    table = most_confused_pairs(*predictions, top=3)
    assert list(table.columns) == ["true class", "predicted as", "images", "share of true class"]
    assert table.iloc[0].tolist() == ["Shirt", "T-shirt/top", 4, pytest.approx(0.4)]
    assert table.iloc[1].tolist() == ["Pullover", "Coat", 2, pytest.approx(0.2)]
    assert table.iloc[2].tolist() == ["Coat", "Pullover", 1, pytest.approx(0.1)]


def test_most_confused_pairs_lists_only_real_mistakes(predictions):
    table = most_confused_pairs(*predictions, top=10)  # there are only three kinds of mistake
    assert len(table) == 3
    assert (table["images"] > 0).all()
    assert (table["true class"] != table["predicted as"]).all()


def test_most_confused_pairs_of_perfect_predictions_is_empty():
    labels = np.arange(10)
    assert most_confused_pairs(labels, labels).empty


# --------------------------------------------------------------------------- plots


def test_show_images_titles_each_image_in_gray():
    images = torch.rand(5, 1, 28, 28)
    fig = show_images(images, [CLASS_NAMES[i] for i in range(5)], ncols=3)
    shown = [ax for ax in fig.axes if ax.images]
    assert len(fig.axes) == 6 and len(shown) == 5
    assert [ax.get_title() for ax in shown] == list(CLASS_NAMES[:5])
    assert shown[0].images[0].get_cmap().name == "gray_r"


def test_plot_histories_labels_axes_and_draws_train_and_validation():
    history = History([0.9, 0.5], [0.7, 0.8], [0.6, 0.45], [0.75, 0.84], [1.0, 1.0])
    fig = plot_histories({"tanh": history, "relu": history})
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


def test_plot_confusion_matrix_uses_class_names_and_a_colour_blind_safe_map(predictions):
    fig = plot_confusion_matrix(normalized_confusion(*predictions), "test set")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == list(CLASS_NAMES)
    assert [t.get_text() for t in ax.get_yticklabels()] == list(CLASS_NAMES)
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("predicted class", "true class", "test set")
    assert ax.images[0].get_cmap().name == "viridis"
    assert len(ax.texts) == 100 and ax.texts[SHIRT * 10 + TSHIRT].get_text() == "0.40"


# --------------------------------------------------------------------------- glue


def test_glue_hands_the_value_to_myst_nb(monkeypatch):
    import myst_nb

    calls = []
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display: calls.append((name, value, display)))
    book_module.glue("ch2_test_acc", 0.875, display=False)
    assert calls == [("ch2_test_acc", 0.875, False)]


def test_glue_without_myst_nb_just_displays_the_value(monkeypatch):
    shown = []
    monkeypatch.setitem(sys.modules, "myst_nb", None)  # as in Colab: import fails
    monkeypatch.setattr(book_module, "_display", shown.append)
    book_module.glue("ch2_test_acc", 0.875)
    book_module.glue("ch2_hidden", 1, display=False)
    assert shown == [0.875]


# --------------------------------------------------------------------------- check


def test_check_is_silent_when_the_claim_holds(capsys):
    book_module.check(True, "tanh is no longer ahead")
    assert capsys.readouterr().out == ""


def test_check_fails_a_book_build_when_the_claim_no_longer_holds():
    with pytest.raises(AssertionError, match="the text no longer matches this run: tanh is no longer ahead"):
        book_module.check(False, "tanh is no longer ahead")


def test_check_in_colab_notes_the_difference_and_goes_on(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "myst_nb", None)  # as in Colab: no myst-nb
    book_module.check(False, "tanh is no longer ahead")
    assert capsys.readouterr().out == (
        "Note: the text describes the book's own run; in this run, tanh is no longer ahead.\n"
    )
