"""Labelled conversations flattened into the per-message arrays training and evaluation work on."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from safeguard.text.features import HashingConfig, MessageFeatures, featurise
from safeguard.text.loaders import Conversation
from safeguard.text.messages import Message

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass(slots=True)
class Corpus:
    conversations: list[Conversation]
    messages: list[Message]
    v: np.ndarray  # conversation index of each message
    k: np.ndarray  # author key of each message
    position: np.ndarray  # 1-based index of the message among its author's messages
    new_author: np.ndarray  # bool: the author's first message in the conversation
    keys: list[tuple[str, str]]  # (conversation id, author id) of each author key
    label: np.ndarray  # bool per author key: labelled groomer
    role: np.ndarray  # str per author key: offender, decoy, nps, pan12, jsonl
    group: np.ndarray  # str per author key: person / session group for cross-validation
    features: MessageFeatures
    fingerprint: str  # SHA-256 over every (conversation, author, text) in order: identifies the data

    @property
    def n_authors(self) -> int:
        return len(self.keys)

    def author_messages(self) -> np.ndarray:
        return np.bincount(self.k, minlength=self.n_authors)

    def groomer_conversation(self) -> np.ndarray:
        """Per author key: is the author in a conversation with a labelled groomer."""
        with_groomer = np.zeros(len(self.conversations), dtype=bool)
        author_conv = np.zeros(self.n_authors, dtype=np.int64)
        author_conv[self.k] = self.v
        with_groomer[author_conv[self.label]] = True
        result: np.ndarray = with_groomer[author_conv]
        return result


def build_corpus(
    conversations: list[Conversation], hashing: HashingConfig, progress: Progress = _quiet
) -> Corpus:
    messages: list[Message] = []
    v: list[int] = []
    k: list[int] = []
    position: list[int] = []
    new_author: list[bool] = []
    keys: list[tuple[str, str]] = []
    label: list[bool] = []
    role: list[str] = []
    group: list[str] = []
    digest = hashlib.sha256()
    for ci, conv in enumerate(conversations):
        local: dict[str, int] = {}
        counts: dict[str, int] = {}
        for message in conv.messages:
            key = local.get(message.author_id)
            if key is None:
                key = local[message.author_id] = len(keys)
                keys.append((conv.id, message.author_id))
                label.append(message.author_id in conv.groomers)
                role.append(conv.roles.get(message.author_id, conv.source))
                group.append(conv.group)
                new_author.append(True)
            else:
                new_author.append(False)
            counts[message.author_id] = counts.get(message.author_id, 0) + 1
            messages.append(message)
            v.append(ci)
            k.append(key)
            position.append(counts[message.author_id])
            digest.update(f"{conv.id}\x1f{message.author_id}\x1f{message.text}\x1e".encode())
    progress(f"featurising {len(messages):,} messages of {len(keys):,} authors")
    features = featurise([m.text for m in messages], hashing)
    return Corpus(
        conversations=conversations,
        messages=messages,
        v=np.asarray(v, dtype=np.int64),
        k=np.asarray(k, dtype=np.int64),
        position=np.asarray(position, dtype=np.int64),
        new_author=np.asarray(new_author, dtype=bool),
        keys=keys,
        label=np.asarray(label, dtype=bool),
        role=np.asarray(role, dtype=object),
        group=np.asarray(group, dtype=object),
        features=features,
        fingerprint=digest.hexdigest(),
    )
