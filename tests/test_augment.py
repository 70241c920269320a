"""Batch augmentation: random mirror and shift (lenet_utils.augment)."""

from __future__ import annotations

import pytest
import torch

from lenet_utils.augment import FlipShift


@pytest.fixture
def batch() -> torch.Tensor:
    """64 normalized-looking images: background -0.8 and one bright pixel at a different place in each."""
    images = torch.full((64, 1, 28, 28), -0.8)
    for i in range(64):
        images[i, 0, 4 + i % 20, 3 + (i * 7) % 20] = 2.0
    return images


def bright_spot(images: torch.Tensor) -> torch.Tensor:
    """(row, column) of the brightest pixel of each image."""
    flat = images.flatten(1).argmax(1)
    return torch.stack([flat // 28, flat % 28], dim=1)


@pytest.mark.parametrize("flip, max_shift", [(True, 0), (False, 2), (True, 3)])
def test_output_has_the_input_shape(batch, flip, max_shift):
    assert FlipShift(flip, max_shift, seed=0)(batch).shape == batch.shape


def test_no_flip_and_no_shift_is_the_identity(batch):
    assert torch.equal(FlipShift(flip=False, max_shift=0)(batch), batch)


def test_the_same_seed_gives_the_same_augmentation(batch):
    assert torch.equal(FlipShift(seed=5)(batch), FlipShift(seed=5)(batch))


def test_another_seed_gives_another_augmentation(batch):
    assert not torch.equal(FlipShift(seed=5)(batch), FlipShift(seed=6)(batch))


def test_successive_batches_are_augmented_differently(batch):
    augment = FlipShift(seed=5)
    assert not torch.equal(augment(batch), augment(batch))


def test_flip_mirrors_some_images_left_right_and_keeps_the_others(batch):
    out = FlipShift(flip=True, max_shift=0, seed=0)(batch)
    mirrored = torch.tensor([torch.equal(o, b.flip(-1)) for o, b in zip(out, batch, strict=True)])
    kept = torch.tensor([torch.equal(o, b) for o, b in zip(out, batch, strict=True)])
    assert (mirrored | kept).all()
    assert 10 < mirrored.sum().item() < 54  # about half of 64


def test_a_shift_moves_content_by_at_most_max_shift(batch):
    moves = bright_spot(FlipShift(flip=False, max_shift=2, seed=0)(batch)) - bright_spot(batch)
    assert moves.abs().max().item() == 2
    assert (moves != 0).any(dim=1).sum().item() > 32  # most of the 25 possible offsets move the spot


def test_a_shift_of_2_moves_by_every_offset_from_minus_2_to_2_in_both_directions(batch):
    images = batch.repeat(4, 1, 1, 1)
    moves = bright_spot(FlipShift(flip=False, max_shift=2, seed=0)(images)) - bright_spot(images)
    assert set(moves[:, 0].tolist()) == set(moves[:, 1].tolist()) == {-2, -1, 0, 1, 2}


def test_a_shift_fills_the_border_with_the_background(batch):
    out = FlipShift(flip=False, max_shift=3, seed=0)(batch)
    assert torch.equal(out.unique(), torch.tensor([-0.8, 2.0]))  # no zeros or other values padded in
    assert (out == 2.0).flatten(1).sum(1).tolist() == [1] * 64  # the spot is never cut off or duplicated


def test_augmentation_does_not_change_its_input(batch):
    original = batch.clone()
    FlipShift(flip=True, max_shift=2, seed=0)(batch)
    assert torch.equal(batch, original)


def test_a_negative_shift_is_refused():
    with pytest.raises(ValueError, match="max_shift must be non-negative"):
        FlipShift(max_shift=-1)
