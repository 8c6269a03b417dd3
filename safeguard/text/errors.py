"""Errors of the grooming-detection capability (``safeguard.text``)."""

from __future__ import annotations

from typing import Any

from safeguard.errors import InvalidInput, MalformedInput, NotFound, ServiceUnavailable


class DatasetError(MalformedInput):
    """A training / evaluation file cannot be read: names the file, the line or element, and why."""

    code = "bad-chat-file"
    title = "Unreadable chat file"

    def __init__(self, path: str, where: str | None, reason: str, **extra: Any) -> None:
        location = f"{path}:{where}" if where else path
        super().__init__(f"{location}: {reason}", file=path, where=where, **extra)
        self.path = path
        self.where = where
        self.reason = reason


class NoTrainingData(InvalidInput):
    """A data folder holds no chat files Safeguard can read, or only one class of author."""

    code = "no-training-data"
    title = "No usable training data"


class InvalidMessage(InvalidInput):
    """A message given to the scorer is unusable (empty id, text too long, wrong conversation)."""

    code = "invalid-message"
    title = "Invalid message"


class ModelFileError(MalformedInput):
    """A grooming model file is missing, corrupt, or from an incompatible version."""

    code = "bad-model-file"
    title = "Unusable model file"


class ModelNotLoaded(ServiceUnavailable):
    code = "model-unavailable"
    title = "Grooming model unavailable"


class ConversationNotFound(NotFound):
    code = "conversation-not-found"
    title = "Conversation not found"


class InvalidOwner(InvalidInput):
    code = "invalid-owner"
    title = "Invalid owner"
