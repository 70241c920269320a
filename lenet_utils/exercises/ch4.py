"""Checks for the exercises of chapter 4, confusion analysis; each judges the objects the student passes."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.metrics import confusion_matrix

from ..data import CLASS_NAMES
from . import Unreadable, agrees, array, book_data, choice, count, exercise, matches, number, parts

UPPER_BODY = ("T-shirt/top", "Pullover", "Coat", "Shirt")
TRAINED = (0.8, 0.97)  # the test accuracies a trained model of this book can have (the chapters' are near 0.9)
ROUNDED = len(CLASS_NAMES) * 0.0005 + 1e-6  # how far 10 probabilities rounded to 3 decimals may sum from 1

check_4_1 = exercise("4.1")(
    choice(
        "b",
        {
            "a": "recall divides by the images that are of a class: a row total; a column holds predictions",
            "c": "F1 combines two of these matrices' readings; one normalization gives only one of them",
            "d": "the diagonal holds correct predictions only: divided by a column total, of what share?",
        },
    )
)


def _test_set_labels(values: Any, predicted: np.ndarray) -> np.ndarray:
    """`values` as class indices; Unreadable unless they are the test labels and `predicted` is a trained model's."""
    labels = _classes(values, "test_labels")
    test_labels = book_data().test.tensors[1].numpy()
    if not np.array_equal(labels, test_labels):
        raise Unreadable(f"test_labels should be the labels of the {len(test_labels):,} test images, in order")
    if len(predicted) == len(labels) and not TRAINED[0] <= np.mean(labels == predicted) <= TRAINED[1]:
        raise Unreadable("these are not a trained model's predictions of the test images: pass the chapter's own")
    return labels


def _classes(values: Any, what: str) -> np.ndarray:
    """A 1-D array of class indices 0-9 (tensor, array or list); Unreadable naming `what` otherwise."""
    classes = array(values)
    if classes.ndim != 1 or not np.isin(classes, np.arange(len(CLASS_NAMES))).all():
        raise Unreadable(f"{what} should hold one class index (0 to 9) per test image")
    return classes


@exercise("4.2")
def check_4_2(answer: Any) -> str | None:
    """(cm_by_column, test_labels, test_pred): the column-normalized matrix, the labels and predictions it counts."""
    wanted = "(cm_by_column, test_labels, test_pred), so that the check can recount your matrix from them"
    matrix, labels, predicted = parts(answer, 3, wanted)
    matrix, predicted = array(matrix), _classes(predicted, "test_pred")
    labels = _test_set_labels(labels, predicted)
    if matrix.shape != (10, 10) or len(labels) != len(predicted):
        return "pass the 10 × 10 matrix, then the true labels and the predictions of the same test images"
    if not np.isfinite(matrix).all():
        return "your matrix holds NaN: a class the model never predicts has an empty column; use confusion_matrix"

    def counted(normalize: str | None) -> np.ndarray:
        return confusion_matrix(labels, predicted, labels=np.arange(len(CLASS_NAMES)), normalize=normalize)

    if np.allclose(matrix, counted("pred"), atol=0.005):
        return None
    if np.allclose(matrix, counted("true"), atol=0.005):
        return "each row sums to 1: that is normalize='true' (by true class); precision needs normalize='pred'"
    if np.allclose(matrix, counted(None)):
        return "these are counts: let confusion_matrix divide each column by its total (normalize=...)"
    if np.allclose(matrix, counted("pred").T, atol=0.005):
        return "true labels first, then predictions: confusion_matrix(test_labels, test_pred, ...)"
    return "this is not the column-normalized confusion matrix of these labels and predictions: recompute it"


@exercise("4.3")
def check_4_3(answer: Any) -> str | None:
    """(indices of the 16 most confident mistakes, test probabilities N × 10, test labels N)."""
    picked, probs, labels = parts(answer, 3, "three things: (confident, test_probs, test_labels)")
    picked = [count(i, "an image's index") for i in torch.as_tensor(picked).cpu().flatten()]
    probs = torch.from_numpy(array(probs))
    labels = torch.from_numpy(_test_set_labels(labels, probs.argmax(dim=1).numpy() if probs.dim() == 2 else probs))
    if probs.dim() != 2 or probs.shape != (len(labels), len(CLASS_NAMES)):
        return "test_probs should hold one row of 10 probabilities per test image, test_labels one label per image"
    sums_to_one = torch.allclose(probs.sum(1), torch.ones_like(probs[:, 0]), atol=ROUNDED)
    if not probs.isfinite().all() or (probs < 0).any() or not sums_to_one:
        return "test_probs should be probabilities, each row summing to 1: apply softmax to the logits"
    confidence, predicted = probs.max(dim=1)
    if len(set(confidence.tolist())) == 1:
        return "every image has the same confidence here: pass the trained model's probabilities"
    wrong = predicted != labels
    if len(picked) != 16 or len(set(picked)) != 16 or not all(0 <= i < len(labels) for i in picked):
        return "pick 16 different test images, by their index in the test set"
    if not wrong[picked].all():
        return "some of your images were classified correctly: keep only indices where test_pred != test_labels"
    threshold = confidence[wrong].sort(descending=True).values[15]
    if (confidence[picked] < threshold).any():
        return "there are more confident mistakes than some you picked: sort the mistakes by confidence, descending"
    return None


@exercise("4.4")
def check_4_4(answer: Any) -> str | None:
    """(merge, coarse_acc, test_labels, test_pred): the 10 classes' new labels, the 7-class accuracy and its inputs."""
    wanted = "(merge, coarse_acc, test_labels, test_pred): merge[c] is the new label of class c"
    merge, accuracy, labels, predicted = parts(answer, 4, wanted)
    if isinstance(merge, str) or np.ndim(merge) != 1:
        raise Unreadable("give merge as a tensor (or list) of 10 new labels, merge[c] for class c")
    merge = [count(v, "a class label") for v in merge]
    if len(merge) != len(CLASS_NAMES):
        return "give one new label for each of the 10 class indices (torch.arange(10), then overwrite)"
    upper = {merge[CLASS_NAMES.index(name)] for name in UPPER_BODY}
    if len(upper) != 1:
        return "T-shirt/top, Pullover, Coat and Shirt must all get the same new label"
    others = [merge[i] for i, name in enumerate(CLASS_NAMES) if name not in UPPER_BODY]
    if len(set(others)) != len(others) or upper & set(others):
        return "only the four upper-body classes merge: Dress, Trouser, Bag and the footwear keep labels of their own"
    predicted = _classes(predicted, "test_pred")
    labels = _test_set_labels(labels, predicted)
    if len(labels) != len(predicted):
        return "pass the true labels and the predictions of the same test images"
    coarse = np.asarray(merge)
    expected = np.mean(coarse[labels.astype(int)] == coarse[predicted.astype(int)])
    value = number(accuracy)
    if matches(value, np.mean(labels == predicted), rel_tol=1e-4):
        return "that is the 10-class accuracy: map both the labels and the predictions through merge first"
    if matches(value, 100 * expected, rel_tol=1e-4):
        return "give the accuracy as a fraction between 0 and 1, not in percent"
    if not agrees(value, expected):
        return "the 7-class accuracy is the share of test images whose merged prediction equals their merged label"
    return None


@exercise("4.5")
def check_4_5(answer: Any) -> str | None:
    """The Shirt recall, against the labels, of a model that identifies every garment correctly."""
    bad_share = 1 / 20  # one image labelled Shirt in twenty, in the question
    value = number(answer)
    if value > 1:
        return "give a fraction between 0 and 1 (0.5 for 50 %)"
    if matches(value, 1 - bad_share):
        return None
    if matches(value, bad_share):
        return "that is the share of images labelled Shirt that show another garment; the question asks for the recall"
    return (
        "recall counts, among the images labelled Shirt, those the model calls Shirt: which of them would a model "
        "that is right about every garment call something else?"
    )
