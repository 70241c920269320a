"""Errors that carry a one-sentence explanation meant for a person, not a traceback."""


class LenetError(Exception):
    """Base class: the message says what went wrong and how to fix it."""


class DataUnavailableError(LenetError):
    """Fashion-MNIST could not be found locally nor downloaded."""


class CorruptDataError(LenetError):
    """A Fashion-MNIST file exists but is truncated, damaged, unreadable or of the wrong kind."""


class CheckpointMismatchError(LenetError):
    """A checkpoint was written by another architecture or configuration, or is not a checkpoint at all."""


class SettingError(LenetError, ValueError):
    """An environment variable holds a value the book does not understand; the message names the accepted ones."""


class CacheError(LenetError):
    """The checkpoint cache cannot be read or written."""


class NonFiniteLossError(LenetError, FloatingPointError):
    """The training loss became NaN or infinite, or exploded far above its starting value."""


class CheckpointNotSavedWarning(UserWarning):
    """A model was trained but could not be saved; the caller still gets it."""


class CheckpointRefusedWarning(UserWarning):
    """A cached checkpoint failed its SHA-256 check and was moved aside; the model is fetched or trained again."""
