"""Chapter 4's exercise checks: the right answer passes in every form, every typical wrong one gets its hint."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import confusion_matrix
from torch.utils.data import TensorDataset

from lenet_utils import CLASS_NAMES
from lenet_utils.exercises import ch4

from . import assert_rejected, assert_right
from .conftest import NONSENSE


@pytest.fixture
def predictions(monkeypatch: pytest.MonkeyPatch) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax-like probabilities of a made-up test set of 1,000 images and its labels, 89 % right as a trained
    model of the book is."""
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(1_000) % 10
    logits = torch.randn(1_000, 10, generator=generator)
    logits[torch.arange(1_000), labels] += 3
    monkeypatch.setattr(ch4, "book_data", lambda: SimpleNamespace(test=TensorDataset(labels, labels)))
    return logits.softmax(dim=1), labels


@pytest.mark.parametrize(("number", "answer"), [("4.1", "b"), ("4.1", " (b) ")])
def test_4_1_accepts_the_letter(number: str, answer, capsys) -> None:
    assert_right(number, answer, capsys)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [("a", "a column holds predictions"), ("c", "F1 combines"), ("d", "of what share"), (["b"], "one letter")],
)
def test_4_1_rejects_the_other_letters_with_a_hint(answer, hint: str, capsys) -> None:
    assert_rejected("4.1", answer, hint, capsys)


RIGHT_4_2 = {
    "the solution's matrix with tensors": lambda cm, y, p: (cm, y, p),
    "NumPy labels": lambda cm, y, p: (cm, y.numpy(), p.numpy()),
    "lists": lambda cm, y, p: [cm.tolist(), y.tolist(), p.tolist()],
    "rounded to 3 decimals": lambda cm, y, p: (cm.round(3), y, p),
    "a DataFrame": lambda cm, y, p: (pd.DataFrame(cm, index=CLASS_NAMES, columns=CLASS_NAMES), y, p),
    "a tensor": lambda cm, y, p: (torch.from_numpy(cm), y, p),
}


@pytest.mark.parametrize("form", RIGHT_4_2.values(), ids=RIGHT_4_2.keys())
def test_4_2_accepts_the_column_normalized_matrix_in_every_form(predictions, form, capsys) -> None:
    probs, labels = predictions
    pred = probs.argmax(dim=1)
    assert_right("4.2", form(confusion_matrix(labels, pred, normalize="pred"), labels, pred), capsys)


def recounted(labels: torch.Tensor, predicted: torch.Tensor) -> tuple[np.ndarray, torch.Tensor, torch.Tensor]:
    """The answer of a student who recounts the matrix honestly from made-up predictions."""
    return confusion_matrix(labels, predicted, labels=range(10), normalize="pred"), labels, predicted


def made_up_column_normalized() -> np.ndarray:
    matrix = np.random.default_rng(0).random((10, 10))
    return matrix / matrix.sum(axis=0)


WRONG_4_2 = {
    "identity": (lambda y, p: (np.eye(10), y, p), "not the column-normalized confusion matrix"),
    "uniform": (lambda y, p: (np.full((10, 10), 0.1), y, p), "not the column-normalized confusion matrix"),
    "made up": (lambda y, p: (made_up_column_normalized(), y, p), "not the column-normalized confusion matrix"),
    "by rows": (lambda y, p: (confusion_matrix(y, p, normalize="true"), y, p), "normalize='true'"),
    "counts": (lambda y, p: (confusion_matrix(y, p), y, p), "these are counts"),
    "arguments swapped": (lambda y, p: (confusion_matrix(p, y, normalize="true"), y, p), "true labels first"),
    "rounded to 1 decimal": (
        lambda y, p: (confusion_matrix(y, p, normalize="pred").round(1), y, p),
        "not the column-normalized confusion matrix",
    ),
    "identity, predictions faked perfect": (lambda y, p: (np.eye(10), y, y), "not a trained model's"),
    "random predictions, recounted": (lambda y, p: recounted(y, torch.randint(0, 10, (1_000,))), "not a trained"),
    "constant predictions, recounted": (lambda y, p: recounted(y, torch.zeros_like(y)), "not a trained"),
    "shifted predictions, recounted": (lambda y, p: recounted(y, (y + 1) % 10), "not a trained"),
    "perfect predictions, recounted": (lambda y, p: recounted(y, y), "not a trained"),
    "the bare matrix": (lambda y, p: confusion_matrix(y, p, normalize="pred"), "so that the check can recount"),
    "the bare identity": (lambda y, p: np.eye(10), "so that the check can recount"),
    "NaN": (lambda y, p: (np.full((10, 10), np.nan), y, p), "NaN"),
    "labels of another length": (lambda y, p: (np.eye(10), y[:100], p), "the labels of the 1,000 test images"),
    "predictions of another length": (lambda y, p: (np.eye(10), y, p[:100]), "the same test images"),
    "made-up labels": (lambda y, p: (np.eye(10), p, p), "the labels of the 1,000 test images, in order"),
    "labels out of range": (lambda y, p: (np.eye(10), y + 10, p), "class index (0 to 9)"),
    "probabilities for predictions": (lambda y, p: (np.eye(10), y, torch.rand(1_000, 10)), "class index"),
    "text for the matrix": (lambda y, p: ("x", y, p), "could not be read"),
}


@pytest.mark.parametrize(("wrong", "hint"), WRONG_4_2.values(), ids=WRONG_4_2.keys())
def test_4_2_recounts_the_matrix_from_the_labels_and_predictions(predictions, wrong, hint: str, capsys) -> None:
    probs, labels = predictions
    assert_rejected("4.2", wrong(labels, probs.argmax(dim=1)), hint, capsys)


def made_up_confident_mistakes(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A student's fake: 0.6 on the true class and 0.4 on the next, images 0-15 sure of a wrong class."""
    probs = torch.zeros(len(labels), 10)
    probs[torch.arange(len(labels)), labels] = 0.6
    probs[torch.arange(len(labels)), (labels + 1) % 10] = 0.4
    probs[:16] = 0
    probs[torch.arange(16), (labels[:16] + 1) % 10] = 1.0
    return torch.arange(16), probs, labels


def untrained(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """An untrained model's probabilities, with its 16 most confident mistakes."""
    probs = torch.randn(len(labels), 10, generator=torch.Generator().manual_seed(1)).softmax(dim=1)
    return mistakes_by_confidence(probs, labels)[:16], probs, labels


def mistakes_by_confidence(probs: torch.Tensor, labels: torch.Tensor, descending: bool = True) -> torch.Tensor:
    """Indices of the misclassified images, most (or least) confident first."""
    confidence, pred = probs.max(dim=1)
    wrong = torch.nonzero(pred != labels).squeeze(1)
    return wrong[confidence[wrong].argsort(descending=descending)]


RIGHT_4_3 = {
    "the solution's tensors": lambda most, probs, y: (most, probs, y),
    "a list of indices": lambda most, probs, y: (most.tolist(), probs, y),
    "NumPy arrays": lambda most, probs, y: (most.numpy(), probs.numpy(), y.numpy()),
    "in another order": lambda most, probs, y: (most.flip(0), probs, y),
    "probabilities rounded to 3 decimals": lambda most, probs, y: (most, probs.round(decimals=3), y),
    "probabilities in half precision": lambda most, probs, y: (most, probs.half(), y),
}


@pytest.mark.parametrize("form", RIGHT_4_3.values(), ids=RIGHT_4_3.keys())
def test_4_3_accepts_the_16_most_confident_mistakes_in_every_form(predictions, form, capsys) -> None:
    probs, labels = predictions
    assert_right("4.3", form(mistakes_by_confidence(probs, labels)[:16], probs, labels), capsys)


WRONG_4_3 = {
    "least confident": (lambda m, pr, y: (mistakes_by_confidence(pr, y, False)[:16], pr, y), "sort the mistakes"),
    "the 2nd to 17th": (lambda m, pr, y: (m[1:17], pr, y), "sort the mistakes"),
    "right ones": (lambda m, pr, y: (torch.nonzero(pr.argmax(1) == y).squeeze(1)[:16], pr, y), "correctly"),
    "15 images": (lambda m, pr, y: (m[:15], pr, y), "16 different"),
    "a repeated image": (lambda m, pr, y: (torch.cat([m[:15], m[:1]]), pr, y), "16 different"),
    "indices past the end": (lambda m, pr, y: (torch.arange(1_000, 1_016), pr, y), "16 different"),
    "uniform probabilities": (lambda m, pr, y: (m[:16], torch.full((1_000, 10), 0.1), y), "not a trained model's"),
    "one-hot probabilities": (lambda m, pr, y: (m[:16], torch.eye(10)[pr.argmax(1)], y), "same confidence"),
    "made up: 0.6 on the true class": (lambda m, pr, y: made_up_confident_mistakes(y), "not a trained model's"),
    "an untrained model's": (lambda m, pr, y: untrained(y), "not a trained model's"),
    "text for the indices": (lambda m, pr, y: ("x", pr, y), "could not be read"),
    "logits": (lambda m, pr, y: (m[:16], pr.log(), y), "apply softmax"),
    "labels of another length": (lambda m, pr, y: (m[:16], pr, y[:100]), "the labels of the 1,000 test images"),
    "made-up labels": (lambda m, pr, y: (m[:16], pr, pr.argmax(1).roll(1)), "the labels of the 1,000 test images"),
    "probabilities of other images": (lambda m, pr, y: (m[:16], pr[:100], y), "one row of 10 probabilities"),
    "fractional indices": (lambda m, pr, y: (m[:16] + 0.5, pr, y), "not a whole number, and an image's index is"),
    "rows summing to 0.99": (lambda m, pr, y: (m[:16], pr * 0.99, y), "apply softmax"),
    "two parts": (lambda m, pr, y: (m[:16], pr), "three things"),
}


@pytest.mark.parametrize(("wrong", "hint"), WRONG_4_3.values(), ids=WRONG_4_3.keys())
def test_4_3_rejects_a_typical_mistake_with_its_hint(predictions, wrong, hint: str, capsys) -> None:
    probs, labels = predictions
    assert_rejected("4.3", wrong(mistakes_by_confidence(probs, labels), probs, labels), hint, capsys)


def merged(*names: str) -> torch.Tensor:
    """The solution's merge: each named class gets T-shirt/top's label."""
    merge = torch.arange(10)
    for name in names:
        merge[CLASS_NAMES.index(name)] = CLASS_NAMES.index("T-shirt/top")
    return merge


MERGE = merged("Pullover", "Coat", "Shirt")


def coarse(merge, probs: torch.Tensor, labels: torch.Tensor, accuracy: float | None = None) -> tuple:
    """The solution's answer to 4.4 for `merge`: (merge, its 7-class accuracy or `accuracy`, labels, predictions)."""
    pred, codes = probs.argmax(dim=1), torch.as_tensor(merge).long()
    right = (codes[pred] == codes[labels]).float().mean().item()
    return merge, right if accuracy is None else accuracy, labels, pred


@pytest.mark.parametrize(
    "merge",
    [MERGE, MERGE.tolist(), MERGE.numpy(), tuple(MERGE.tolist()), [0, 1, 0, 2, 0, 3, 0, 4, 5, 6], MERGE.double()],
)
def test_4_4_accepts_any_labelling_that_merges_the_upper_body(predictions, merge, capsys) -> None:
    assert_right("4.4", coarse(merge, *predictions), capsys)


def test_4_4_accepts_the_accuracy_in_every_form(predictions, capsys) -> None:
    merge, accuracy, labels, pred = coarse(MERGE, *predictions)
    for form in (accuracy, round(accuracy, 3), torch.tensor(accuracy), np.float32(accuracy)):
        assert_right("4.4", (merge, form, labels.numpy(), pred.numpy()), capsys)


@pytest.mark.parametrize(
    ("merge", "hint"),
    [
        (torch.arange(10), "must all get the same new label"),
        (merged("Pullover", "Coat"), "must all get the same new label"),
        (merged("Pullover", "Coat", "Shirt", "Dress"), "Dress, Trouser, Bag and the footwear keep labels"),
        (torch.tensor([0, 1, 0, 2, 0, 3, 0, 4, 5, 3]), "keep labels of their own"),  # boots merged with sandals
        (torch.tensor([0, 1, 0, 2, 0, 3, 0, 1, 5, 6]), "keep labels of their own"),  # a sneaker is a trouser
        (MERGE[:9], "one new label for each of the 10"),
        (MERGE + 0.5, "not a whole number, and a class label is"),  # not "count again": a label is not a count
        (torch.zeros(10), "keep labels of their own"),
        (torch.eye(10), "tensor (or list) of 10 new labels"),
        ("0100203456", "tensor (or list) of 10 new labels"),
    ],
)
def test_4_4_rejects_a_wrong_merge_with_its_hint(predictions, merge, hint: str, capsys) -> None:
    probs, labels = predictions
    assert_rejected("4.4", (merge, 0.95, labels, probs.argmax(dim=1)), hint, capsys)


WRONG_4_4 = {
    "the merge alone": (lambda m, a, y, p: m, "(merge, coarse_acc, test_labels, test_pred)"),
    "the 10-class accuracy": (lambda m, a, y, p: (m, (p == y).float().mean().item(), y, p), "10-class accuracy"),
    "in percent": (lambda m, a, y, p: (m, 100 * a, y, p), "not in percent"),
    "made up": (lambda m, a, y, p: (m, 0.99, y, p), "merged prediction equals"),
    "cut off": (lambda m, a, y, p: (m, np.trunc(a * 100) / 100, y, p), "not cut off"),
    "made-up labels": (lambda m, a, y, p: (m, a, p.roll(1), p), "the labels of the 1,000 test images"),
    "labels as predictions": (lambda m, a, y, p: (m, 1.0, y, y), "not a trained model's predictions"),
}


@pytest.mark.parametrize(("wrong", "hint"), WRONG_4_4.values(), ids=WRONG_4_4.keys())
def test_4_4_rejects_a_wrong_accuracy_with_its_hint(predictions, wrong, hint: str, capsys) -> None:
    assert_rejected("4.4", wrong(*coarse(MERGE, *predictions)), hint, capsys)


@pytest.mark.parametrize("answer", [0.95, 19 / 20, 1 - 1 / 20, np.float64(0.95), torch.tensor(0.95), 0.950])
def test_4_5_accepts_the_cap_as_a_fraction(answer, capsys) -> None:
    assert_right("4.5", answer, capsys)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (0.05, "show another garment"),
        (95, "fraction between 0 and 1"),
        (0.9, "which of them would a model"),
        (1.0, "which of them would a model"),
        (0.949, "which of them would a model"),
        (0.96, "which of them would a model"),
        (0.947, "which of them would a model"),
        ("95%", "give a number"),
    ],
)
def test_4_5_rejects_a_typical_mistake_without_giving_the_cap_away(answer, hint: str, capsys) -> None:
    assert_rejected("4.5", answer, hint, capsys, "0.95", "19/20", "1/20", "1 − ")


@pytest.mark.parametrize("number", ["4.1", "4.2", "4.3", "4.4", "4.5"])
@pytest.mark.parametrize("answer", NONSENSE)
def test_nonsense_gets_a_hint_not_a_traceback(number: str, answer, capsys) -> None:
    assert_rejected(number, answer, "", capsys, "0.95", "19/20")
