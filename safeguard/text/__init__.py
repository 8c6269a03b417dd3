"""Grooming detection: score conversations message by message, early, with the reasons shown.

- :class:`Message` in, :class:`StreamingScorer` updates each author's running state (O(1) per message)
  and returns a calibrated risk, the decision against the threshold and the reasons (behaviours with
  message ids and spans in the user's own words).
- ``safeguard text train | evaluate | score`` are the commands; the shipped model is
  ``safeguard/text/model/grooming-default.npz``.
- Alerts go through :class:`AlertSink` (``safeguard.text.alerts``); see ``docs/grooming.md``.
"""

from safeguard.text.behaviours import Behaviour, Hit, detect
from safeguard.text.messages import Evidence, Message
from safeguard.text.model import GroomingModel
from safeguard.text.scorer import AuthorRisk, Reason, StreamingScorer
from safeguard.text.state import ConversationState

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
