"""Errors that carry a one-sentence explanation meant for a person, not a traceback."""


class LenetError(Exception):
    """Base class: the message says what went wrong and how to fix it."""


class DataUnavailableError(LenetError):
    """Fashion-MNIST could not be found locally nor downloaded."""


class CorruptDataError(LenetError):
    """A Fashion-MNIST file exists but is truncated, damaged or of the wrong kind."""


class CheckpointMismatchError(LenetError):
    """A checkpoint was written by another architecture or is not a checkpoint at all."""


class NonFiniteLossError(LenetError, FloatingPointError):
    """The training loss became NaN or infinite."""
