"""Grooming detection: score conversations message by message, early, with the reasons shown.

- :class:`Message` in, :class:`StreamingScorer` updates each author's running state (O(1) per message)
  and returns a calibrated risk, the decision against the threshold and the reasons (behaviours with
  message ids and spans in the user's own words).
- ``safeguard text train | evaluate | score`` are the commands; the shipped model is
  ``safeguard/text/model/grooming-default.npz``.
- Alerts go through :class:`AlertSink` (``safeguard.text.alerts``); see ``docs/grooming.md``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from safeguard.text.behaviours import Hit, detect
    from safeguard.text.messages import Evidence, Message
    from safeguard.text.model import GroomingModel
    from safeguard.text.scorer import AuthorRisk, Reason, StreamingScorer
    from safeguard.text.state import ConversationState
    from safeguard.text.vocabulary import Behaviour

# Imported on first use, so that reading the vocabulary (review, the web pages) does not load the model's
# numerical stack.
_HOMES = {
    "AuthorRisk": "scorer",
    "Behaviour": "vocabulary",
    "ConversationState": "state",
    "Evidence": "messages",
    "GroomingModel": "model",
    "Hit": "behaviours",
    "Message": "messages",
    "Reason": "scorer",
    "StreamingScorer": "scorer",
    "detect": "behaviours",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)


__all__ = [
    "AuthorRisk",
    "Behaviour",
    "ConversationState",
    "Evidence",
    "GroomingModel",
    "Hit",
    "Message",
    "Reason",
    "StreamingScorer",
    "detect",
]
