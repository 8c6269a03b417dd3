"""What the grooming scorer consumes (a :class:`Message`) and what it explains (:class:`Evidence`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

MAX_TEXT_CHARS = 20_000


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message. ``message_id`` is the platform's id; loaders use the 1-based position."""

    conversation_id: str
    author_id: str
    text: str
    time: datetime | None = None
    message_id: str | None = None


@dataclass(frozen=True, slots=True)
class Evidence:
    """Where a behaviour was seen: the message, the character span in its original text, and the words.

    ``start``/``end`` index the text exactly as the platform sent it, so a moderator's tool can highlight
    the words; ``excerpt`` is ``text[start:end]`` (at most a few words).
    """

    behaviour: str
    message_id: str
    message_index: int
    start: int
    end: int
    excerpt: str

    def to_dict(self) -> dict[str, object]:
        return {
            "behaviour": self.behaviour,
            "message_id": self.message_id,
            "message_index": self.message_index,
            "start": self.start,
            "end": self.end,
            "excerpt": self.excerpt,
        }
