"""Confusion-matrix helpers of chapter 4 (lenet_utils.analysis)."""

from __future__ import annotations

import numpy as np
import pytest

from lenet_utils import most_confused_pairs, normalized_confusion

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
