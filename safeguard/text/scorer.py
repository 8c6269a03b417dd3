"""The streaming scorer: each message updates its author's running state and returns the current risk.

``StreamingScorer.score_messages(states, messages)`` takes any batch (one message from the API, millions
from a file) and gives, for every message, the author's risk after it. A batch is computed with array
operations over the recurrences in :mod:`safeguard.text.state` (cumulative sums per author), which gives
exactly the numbers one-message-at-a-time updates give, at batch speed; the states are updated in place.
A batch of one message (the API's usual request) takes a scalar path (:meth:`StreamingScorer._score_one`)
with the same arithmetic in plain Python floats: the array path's fixed cost per call (scikit-learn's
hashing checks, a sparse matrix, ~100 numpy operations on one row) made one message cost ~1 ms
(976 messages/s on the development machine); see docs/grooming.md "Speed" for the figures now.

An author's risk is the highest calibrated risk reached so far in the conversation: what has been seen
cannot be unseen, and an alert, once raised, stands. The conversation's risk is its highest author risk.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from safeguard.text.behaviours import BEHAVIOURS, Hit, detect
from safeguard.text.errors import InvalidMessage
from safeguard.text.features import (
    MINOR,
    N_BEHAVIOURS,
    behaviour_indices,
    featurise,
    hash_one,
    language_score_one,
)
from safeguard.text.messages import MAX_TEXT_CHARS, Evidence, Message
from safeguard.text.model import GroomingModel
from safeguard.text.state import (
    EXCERPT_CHARS,
    Advance,
    AuthorState,
    ConversationState,
    advance,
    advance_one,
    author_features_one,
    grouped_cummax,
    grouped_cumsum,
    has_own_evidence,
    has_own_evidence_one,
)
from safeguard.text.vocabulary import DESCRIPTIONS, Behaviour

CHUNK_MESSAGES = 50_000


@dataclass(frozen=True, slots=True)
class Reason:
    """One behaviour seen in an author's messages, with where (message ids and character spans)."""

    behaviour: str
    description: str
    messages: int
    evidence: tuple[Evidence, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "behaviour": self.behaviour,
            "description": self.description,
            "messages": self.messages,
            "evidence": [e.to_dict() for e in self.evidence],
        }


@dataclass(frozen=True, slots=True)
class AuthorRisk:
    conversation_id: str
    author_id: str
    risk: float
    current: float
    flagged: bool
    first_flag_message: int | None
    messages: int
    child_directed_evidence: bool
    reasons: tuple[Reason, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "conversation": self.conversation_id,
            "author": self.author_id,
            "score": round(self.risk, 6),
            "flagged": self.flagged,
            "first_flag_message": self.first_flag_message,
            "reasons": [r.to_dict() for r in self.reasons],
        }


@dataclass(frozen=True, slots=True)
class Crossing:
    """An author whose risk crossed the threshold at this message: the event that raises an alert."""

    conversation_id: str
    author_id: str
    message_id: str
    author_message_index: int
    risk: float


@dataclass(slots=True)
class BatchResult:
    messages: Sequence[Message]
    message_ids: list[str]
    risk: np.ndarray  # author's risk (running maximum) after each message
    current: np.ndarray  # the model's risk at this message
    author_index: np.ndarray  # the author's 1-based message number
    crossings: list[Crossing] = field(default_factory=list)


class StreamingScorer:
    def __init__(self, model: GroomingModel | None = None, threshold: float | None = None) -> None:
        self.model = model or GroomingModel.load()
        self.threshold = self.model.threshold if threshold is None else threshold
        if not 0.0 < self.threshold <= 1.0:
            raise InvalidMessage(f"threshold must be in (0, 1], not {self.threshold}")

    # --- streaming -----------------------------------------------------------------------------------

    def update(self, state: ConversationState, message: Message) -> BatchResult:
        """Add one message to ``state`` (its conversation's state)."""
        return self.score_messages({message.conversation_id: state}, [message])

    def score_messages(
        self, states: MutableMapping[str, ConversationState], messages: Sequence[Message]
    ) -> BatchResult:
        """Add ``messages`` (in order) to the conversation states, creating missing ones."""
        count = len(messages)
        empty = np.zeros(0)
        if count == 0:
            return BatchResult(messages, [], empty, empty, np.zeros(0, dtype=np.int64))
        for message in messages:
            if len(message.text) > MAX_TEXT_CHARS:
                raise InvalidMessage(f"message text is longer than {MAX_TEXT_CHARS} characters")
        if count == 1:
            return self._score_one(states, messages)
        return self._score_arrays(states, messages)

    def _score_arrays(
        self, states: MutableMapping[str, ConversationState], messages: Sequence[Message]
    ) -> BatchResult:
        """The array path, for any batch (``score_messages`` checks the input and sends batches of one to
        :meth:`_score_one`)."""
        count = len(messages)
        features = featurise([m.text for m in messages], self.model.hashing)
        batch = _Batch.of(states, messages)
        k, v, authors, conversations = batch.k, batch.v, batch.authors, batch.conversations
        n0, counts0, child0, text0, gate0, peak0, flagged0 = _author_arrays(authors)
        _, first_rows = np.unique(k, return_index=True)
        new_author = np.zeros(count, dtype=bool)
        new_author[first_rows[[a is None for a in authors]]] = True
        step = advance(
            k,
            v,
            features.behaviours,
            features.child_directed,
            self.model.language_scores(features.hashed),
            new_author,
            n0=n0,
            counts0=counts0,
            child0=child0,
            text0=text0,
            gate0=gate0,
            participants0=np.array([len(c.authors) for c in conversations], dtype=np.float64),
            minor0=np.array([c.minor_disclosures for c in conversations], dtype=np.float64),
            max_gate_participants=self.model.max_gate_participants,
        )
        current = self.model.risk(step.features(), step.open)
        risk = np.maximum(peak0[k], grouped_cummax(current, k))
        flagged = risk >= self.threshold
        crossed = (grouped_cumsum(flagged.astype(np.float64), k) == 1) & flagged & ~flagged0[k]

        seen0 = np.array([c.messages for c in conversations], dtype=np.int64)
        position = seen0[v] + grouped_cumsum(np.ones(count), v).astype(np.int64)
        ids = [m.message_id or str(int(p)) for m, p in zip(messages, position, strict=True)]
        result = BatchResult(messages, ids, risk, current, step.n.astype(np.int64))
        states_now = batch.store(step, risk, current)
        for row in np.flatnonzero(crossed).tolist():
            m = messages[row]
            _cross(
                result,
                conversations[v[row]],
                states_now[k[row]],
                m,
                ids[row],
                int(step.n[row]),
                float(risk[row]),
            )
        for row, (m, ci) in enumerate(zip(messages, v.tolist(), strict=True)):
            conv = conversations[ci]
            _after_message(conv, states_now[k[row]], m, ids[row], int(step.n[row]), features.hits[row])
            conv.minor_disclosures += int(features.behaviours[row, MINOR])
        return result

    def _score_one(
        self, states: MutableMapping[str, ConversationState], batch: Sequence[Message]
    ) -> BatchResult:
        """``score_messages`` for a batch of one: the same numbers, without arrays (``advance_one``,
        ``author_features_one`` and ``TreeEnsemble.decision_one`` are the scalar twins of the array code,
        kept for speed: a message at a time is the API's common case; the state bookkeeping after the
        numbers, :func:`_cross` and :func:`_after_message`, is shared with the array path.
        ``tests/text/test_fast_path.py`` holds every field of the result and the state equal)."""
        message = batch[0]
        model = self.model
        hits = detect(message.text)
        behaviours, child_directed = behaviour_indices(hits)
        indices, values = hash_one(message.text, model.hashing)
        language = language_score_one(indices, values, model.text_coef, model.text_intercept)
        conv = states.setdefault(message.conversation_id, ConversationState())
        author = conv.authors.get(message.author_id)
        step = advance_one(
            author,
            len(conv.authors),
            conv.minor_disclosures,
            behaviours,
            child_directed,
            language,
            model.max_gate_participants,
        )
        features = np.array(author_features_one(step.n, step.counts, step.child, step.text, step.partner))
        gate_open = step.gate and has_own_evidence_one(step.counts, step.child)
        current = model.risk_one(features, gate_open)
        peak = max(author.peak if author else 0.0, current)
        crossed = peak >= self.threshold and (author is None or author.first_flag is None)
        mid = message.message_id or str(conv.messages + 1)
        result = BatchResult(
            batch, [mid], np.array([peak]), np.array([current]), np.array([step.n], dtype=np.int64)
        )

        state = author or conv.authors.setdefault(message.author_id, AuthorState())
        state.n, state.counts, state.child_count = step.n, step.counts, step.child
        state.text_sum, state.gate, state.peak, state.current = step.text, step.gate, peak, current
        if crossed:
            _cross(result, conv, state, message, mid, step.n, peak)
        _after_message(conv, state, message, mid, step.n, hits)
        conv.minor_disclosures += MINOR in behaviours
        return result

    # --- reading the state ---------------------------------------------------------------------------

    def author_risk(self, conversation_id: str, state: ConversationState, author_id: str) -> AuthorRisk:
        author = state.authors[author_id]
        reasons = []
        for index, behaviour in enumerate(BEHAVIOURS):
            if index == MINOR or author.counts[index] == 0:
                continue
            reasons.append(
                Reason(
                    behaviour.value,
                    DESCRIPTIONS[behaviour],
                    author.counts[index],
                    tuple(author.evidence.get(behaviour.value, ())),
                )
            )
        partner_minor = state.minor_disclosures - author.counts[MINOR]
        if partner_minor > 0:
            evidence = tuple(
                e
                for other_id, other in state.authors.items()
                if other_id != author_id
                for e in other.evidence.get(Behaviour.minor_self_disclosure.value, ())
            )
            reasons.append(
                Reason(
                    Behaviour.other_participant_minor.value,
                    DESCRIPTIONS[Behaviour.other_participant_minor],
                    partner_minor,
                    evidence[:3],
                )
            )
        return AuthorRisk(
            conversation_id=conversation_id,
            author_id=author_id,
            risk=author.peak,
            current=author.current,
            flagged=author.peak >= self.threshold,
            first_flag_message=author.first_flag,
            messages=author.n,
            child_directed_evidence=bool(
                author.gate and has_own_evidence(np.array([author.counts]), np.array([author.child_count]))[0]
            ),
            reasons=tuple(reasons),
        )

    def conversation_risks(self, conversation_id: str, state: ConversationState) -> list[AuthorRisk]:
        """Every author of the conversation, highest risk first."""
        risks = [self.author_risk(conversation_id, state, a) for a in state.authors]
        return sorted(risks, key=lambda r: -r.risk)

    # --- whole files ---------------------------------------------------------------------------------

    def score_stream(self, messages: Iterable[Message]) -> Iterator[AuthorRisk]:
        """Score messages in arrival order (chunked); yield each (conversation, author) at the end, in order
        of first appearance."""
        states: dict[str, ConversationState] = {}
        chunk: list[Message] = []
        for message in messages:
            chunk.append(message)
            if len(chunk) >= CHUNK_MESSAGES:
                self.score_messages(states, chunk)
                chunk = []
        self.score_messages(states, chunk)
        for cid, state in states.items():
            for aid in state.authors:
                yield self.author_risk(cid, state, aid)


@dataclass(slots=True)
class _Batch:
    """A batch's messages indexed by conversation (``v``) and by (conversation, author) key (``k``)."""

    k: np.ndarray
    v: np.ndarray
    keys: list[tuple[str, str]]
    conv_of: dict[str, int]
    conversations: list[ConversationState]
    authors: list[AuthorState | None]  # None: the author's first message is in this batch

    @classmethod
    def of(cls, states: MutableMapping[str, ConversationState], messages: Sequence[Message]) -> _Batch:
        conv_of: dict[str, int] = {}
        key_of: dict[tuple[str, str], int] = {}
        v = np.empty(len(messages), dtype=np.int64)
        k = np.empty(len(messages), dtype=np.int64)
        for i, m in enumerate(messages):
            v[i] = conv_of.setdefault(m.conversation_id, len(conv_of))
            k[i] = key_of.setdefault((m.conversation_id, m.author_id), len(key_of))
        conversations = [states.setdefault(cid, ConversationState()) for cid in conv_of]
        keys = list(key_of)
        authors = [conversations[conv_of[c]].authors.get(a) for c, a in keys]
        return cls(k, v, keys, conv_of, conversations, authors)

    def store(self, step: Advance, risk: np.ndarray, current: np.ndarray) -> list[AuthorState]:
        """Each author's state after its last message of the batch (created for new authors)."""
        last_rows = np.full(len(self.keys), -1, dtype=np.int64)
        last_rows[self.k] = np.arange(len(self.k))  # later rows overwrite earlier: each author's last
        stored: list[AuthorState] = []
        for j, (cid, aid) in enumerate(self.keys):
            row = last_rows[j]
            state = self.authors[j] or self.conversations[self.conv_of[cid]].authors.setdefault(
                aid, AuthorState()
            )
            state.n = int(step.n[row])
            state.counts = [int(c) for c in step.counts[row]]
            state.child_count = int(step.child[row])
            state.text_sum = float(step.text[row])
            state.gate = bool(step.gate[row])
            state.peak = float(risk[row])
            state.current = float(current[row])
            stored.append(state)
        return stored


def _author_arrays(authors: Sequence[AuthorState | None]) -> tuple[np.ndarray, ...]:
    """The running state of each author before the batch (zeros for new authors), as arrays."""
    return (
        np.array([s.n if s else 0 for s in authors], dtype=np.float64),
        np.array([s.counts if s else [0] * N_BEHAVIOURS for s in authors], dtype=np.float64),
        np.array([s.child_count if s else 0 for s in authors], dtype=np.float64),
        np.array([s.text_sum if s else 0.0 for s in authors]),
        np.array([s.gate if s else False for s in authors]),
        np.array([s.peak if s else 0.0 for s in authors]),
        np.array([(s.first_flag is not None) if s else False for s in authors]),
    )


def _cross(
    result: BatchResult,
    conv: ConversationState,
    state: AuthorState,
    message: Message,
    mid: str,
    n: int,
    risk: float,
) -> None:
    """The author's risk crossed the threshold for the first time, at message ``mid`` (their ``n``-th)."""
    state.first_flag = n
    conv.first_alert_message = conv.first_alert_message or mid
    result.crossings.append(Crossing(message.conversation_id, message.author_id, mid, n, risk))


def _after_message(
    conv: ConversationState, state: AuthorState, message: Message, mid: str, n: int, hits: Sequence[Hit]
) -> None:
    """The conversation's bookkeeping for one scored message, and the evidence of its hits."""
    if message.message_id:
        conv.remember(message.message_id)
    conv.messages += 1
    for hit in hits:
        excerpt = message.text[hit.start : hit.end][:EXCERPT_CHARS]
        state.add_evidence(Evidence(hit.behaviour.value, mid, n, hit.start, hit.end, excerpt))
