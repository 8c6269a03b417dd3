"""Read labelled chats: PAN 2012 XML, Perverted-Justice one-file-per-side, NPS Chat XML, JSON Lines.

Every loader yields :class:`Conversation` objects whose messages are in the order the author wrote them,
with an author *role* (who this author is in the source: ``offender``, ``decoy``, ``nps``, ``pan12``,
``jsonl``) used to report quality per source, a *group* (a person or chat session: cross-validation never
puts one group in both training and test) and the set of authors labelled as groomers. A file that cannot
be read raises :class:`~safeguard.text.errors.DatasetError` naming the file, the line or element, and why.

Perverted-Justice files hold the two sides of a chat separately, and the order of turns between the sides
is lost (within a side it is kept). :func:`load_perverted_justice` merges the sides by relative position
(message *i* of *n* sits at ``(i + 0.5) / n``), which is deterministic and keeps each side in order; the
model only uses the other side for one context feature (a participant saying they are a minor).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from safeguard.text.errors import DatasetError, NoTrainingData
from safeguard.text.messages import MAX_TEXT_CHARS, Message

_HEX_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass(slots=True)
class Conversation:
    id: str
    source: str
    group: str
    messages: list[Message]
    roles: dict[str, str] = field(default_factory=dict)
    groomers: set[str] = field(default_factory=set)

    def authors(self) -> list[str]:
        seen: dict[str, None] = {}
        for message in self.messages:
            seen.setdefault(message.author_id, None)
        return list(seen)


def _read_lines(path: Path) -> list[str]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DatasetError(str(path), None, f"cannot read: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DatasetError(str(path), f"line {line}", "not UTF-8 text") from exc
    return text.splitlines()


def _check_text(text: str, path: Path, where: str) -> str:
    if len(text) > MAX_TEXT_CHARS:
        raise DatasetError(str(path), where, f"message longer than {MAX_TEXT_CHARS} characters")
    return text


# --- Perverted-Justice -------------------------------------------------------------------------------


def _side_lines(path: Path) -> list[str]:
    lines = []
    for number, line in enumerate(_read_lines(path), start=1):
        text = line.strip()
        if text:
            lines.append(_check_text(text, path, f"line {number}"))
    return lines


def load_perverted_justice(root: Path) -> Iterator[Conversation]:
    """``root/predator/NAME.txt`` (one offender's lines) with ``root/decoy/NAME[_k].txt`` (the decoy side)."""
    predator_dir, decoy_dir = root / "predator", root / "decoy"
    if not predator_dir.is_dir():
        raise DatasetError(str(root), None, "no predator/ folder (Perverted-Justice layout expected)")
    decoys: dict[str, list[Path]] = {}
    names = {p.stem for p in predator_dir.glob("*.txt")}
    for path in sorted(decoy_dir.glob("*.txt")) if decoy_dir.is_dir() else []:
        stem = path.stem
        base = stem if stem in names else re.sub(r"_\d+$", "", stem)
        if base not in names:
            raise DatasetError(str(path), None, "decoy file has no matching predator/ file")
        decoys.setdefault(base, []).append(path)
    for name in sorted(names):
        cid = f"pj:{name}"
        offender = f"{cid}:offender"
        sides: list[tuple[str, list[str]]] = [(offender, _side_lines(predator_dir / f"{name}.txt"))]
        roles = {offender: "offender"}
        for k, path in enumerate(decoys.get(name, []), start=1):
            author = f"{cid}:decoy{k}"
            sides.append((author, _side_lines(path)))
            roles[author] = "decoy"
        merged: list[tuple[float, int, str, str]] = []
        for side_no, (author, lines) in enumerate(sides):
            n = len(lines)
            merged.extend(((i + 0.5) / n, side_no, author, text) for i, text in enumerate(lines))
        merged.sort(key=lambda item: (item[0], item[1]))
        messages = [
            Message(cid, author, text, None, str(i)) for i, (_, _, author, text) in enumerate(merged, 1)
        ]
        yield Conversation(cid, "perverted-justice", cid, messages, roles, {offender})


# --- NPS Chat ----------------------------------------------------------------------------------------


def load_nps_session(path: Path) -> Conversation:
    """One NPS Chat session file; posts of class ``System`` (joins, parts, nick changes) are dropped."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        line, column = exc.position
        raise DatasetError(
            str(path), f"line {line} column {column}", f"not well-formed XML ({exc.msg})"
        ) from exc
    except OSError as exc:
        raise DatasetError(str(path), None, f"cannot read: {exc.strerror}") from exc
    cid = f"nps:{path.stem}"
    messages: list[Message] = []
    roles: dict[str, str] = {}
    for number, post in enumerate(root.iter("Post"), start=1):
        if post.get("class") == "System":
            continue
        user = post.get("user")
        if not user:
            raise DatasetError(str(path), f"Post #{number}", "post without a user attribute")
        text = (post.text or "").strip()
        if not text:
            continue
        author = f"{cid}:{user}"
        roles[author] = "nps"
        messages.append(Message(cid, author, _check_text(text, path, f"Post #{number}"), None, str(number)))
    if not messages and root.tag != "Session":
        raise DatasetError(str(path), root.tag, "not an NPS Chat session (root element must be <Session>)")
    return Conversation(cid, "nps", cid, messages, roles, set())


# --- PAN 2012 ----------------------------------------------------------------------------------------


def read_author_ids(path: Path) -> set[str]:
    """A PAN 2012 predator-id file: one author id per line."""
    ids: set[str] = set()
    for number, line in enumerate(_read_lines(path), start=1):
        value = line.strip()
        if not value:
            continue
        if "\t" in value or " " in value:
            raise DatasetError(str(path), f"line {number}", "expected one author id per line")
        ids.add(value)
    return ids


def _child_text(element: ET.Element, tag: str) -> str | None:
    child = element.find(tag)
    return None if child is None else (child.text or "")


def load_pan12(xml_path: Path, predator_ids: set[str] | None = None) -> Iterator[Conversation]:
    """PAN 2012 ``<conversations>`` XML. ``predator_ids`` labels the groomers (none: unlabelled)."""
    predators = predator_ids or set()
    try:
        root = ET.parse(xml_path).getroot()
    except ET.ParseError as exc:
        line, column = exc.position
        raise DatasetError(
            str(xml_path), f"line {line} column {column}", f"not well-formed XML ({exc.msg})"
        ) from exc
    if root.tag != "conversations":
        raise DatasetError(str(xml_path), root.tag, "not a PAN 2012 file (root must be <conversations>)")
    for c_no, conv in enumerate(root.iter("conversation"), start=1):
        raw_id = conv.get("id")
        if not raw_id:
            raise DatasetError(str(xml_path), f"conversation #{c_no}", "conversation without an id")
        cid = f"pan12:{raw_id}"
        messages: list[Message] = []
        roles: dict[str, str] = {}
        for m_no, msg in enumerate(conv.iter("message"), start=1):
            where = f"conversation {raw_id} message #{m_no}"
            author = _child_text(msg, "author")
            if not author:
                raise DatasetError(str(xml_path), where, "message without an <author>")
            text = (_child_text(msg, "text") or "").strip()
            if not text:
                continue
            roles[author] = "pan12"
            line_id = msg.get("line") or str(m_no)
            messages.append(Message(cid, author, _check_text(text, xml_path, where), None, line_id))
        yield Conversation(cid, "pan12", cid, messages, roles, {a for a in roles if a in predators})


# --- JSON Lines --------------------------------------------------------------------------------------


def _parse_time(value: Any, path: Path, where: str) -> datetime | None:
    if value is None:
        return None
    try:
        if isinstance(value, bool):
            raise TypeError
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value, UTC)
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        pass
    raise DatasetError(str(path), where, f'"time" must be an ISO 8601 string or epoch seconds, not {value!r}')


def parse_jsonl_record(record: Any, path: Path, where: str, position: int) -> tuple[Message, bool | None]:
    """One JSON Lines record -> a message and its optional ``groomer`` label."""
    if not isinstance(record, dict):
        raise DatasetError(str(path), where, "each line must be a JSON object")
    fields: dict[str, str] = {}
    for key in ("conversation", "author", "text"):
        value = record.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and key != "text":
            value = str(value)
        if not isinstance(value, str) or (key != "text" and not value):
            raise DatasetError(str(path), where, f'"{key}" is required and must be a non-empty string')
        fields[key] = value
    message_id = record.get("id", str(position))
    if not isinstance(message_id, str | int) or isinstance(message_id, bool):
        raise DatasetError(str(path), where, '"id" must be a string or an integer')
    label = record.get("groomer")
    if label is not None and not isinstance(label, bool):
        raise DatasetError(str(path), where, '"groomer" must be true or false')
    message = Message(
        fields["conversation"],
        fields["author"],
        _check_text(fields["text"], path, where),
        _parse_time(record.get("time"), path, where),
        str(message_id),
    )
    return message, label


def read_jsonl_messages(path: Path) -> Iterator[tuple[Message, bool | None]]:
    """Messages of a JSON Lines file, in file order; ``message_id`` defaults to the position within the
    conversation (1-based)."""
    positions: dict[str, int] = {}
    for number, line in enumerate(_read_lines(path), start=1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(str(path), where, f"invalid JSON ({exc.msg})") from exc
        conversation = record.get("conversation") if isinstance(record, dict) else None
        position = positions[str(conversation)] = positions.get(str(conversation), 0) + 1
        yield parse_jsonl_record(record, path, where, position)


def load_jsonl(path: Path) -> Iterator[Conversation]:
    """JSON Lines ``{"conversation", "author", "text", "time"?, "id"?, "groomer"?}``; ``groomer`` labels
    the author (an author labelled once is a groomer in that conversation)."""
    conversations: dict[str, Conversation] = {}
    for message, label in read_jsonl_messages(path):
        conv = conversations.get(message.conversation_id)
        if conv is None:
            conv = conversations[message.conversation_id] = Conversation(
                message.conversation_id, "jsonl", message.conversation_id, []
            )
        conv.messages.append(message)
        conv.roles[message.author_id] = "jsonl"
        if label:
            conv.groomers.add(message.author_id)
    yield from conversations.values()


# --- a data folder -----------------------------------------------------------------------------------


def _is_id_list(path: Path) -> bool:
    try:
        lines = [line.strip() for line in path.read_text("utf-8", errors="replace").splitlines()]
    except OSError:
        return False
    values = [line for line in lines if line]
    return bool(values) and all(_HEX_ID.match(v) for v in values)


def load_directory(root: Path) -> list[Conversation]:
    """Every chat Safeguard can read under ``root`` (recursively), grouped so that one person or chat
    session never lands in two cross-validation folds.

    Recognised: a ``predator/`` + ``decoy/`` folder pair (Perverted-Justice), NPS Chat session XML (root
    ``<Session>``), PAN 2012 XML (root ``<conversations>``; its labels come from a file of 32-hex author
    ids in the same folder), and ``*.jsonl``. ``stage_lines`` and other files are ignored.
    """
    if not root.exists():
        raise DatasetError(str(root), None, "no such file or folder")
    if root.is_file():
        files: Iterable[Path] = [root]
        pj_roots: list[Path] = []
    else:
        files = sorted(p for p in root.rglob("*") if p.is_file())
        pj_roots = sorted(p.parent for p in root.rglob("predator") if p.is_dir())
    conversations: list[Conversation] = []
    for pj in pj_roots:
        conversations.extend(load_perverted_justice(pj))
    for path in files:
        if path.suffix == ".jsonl":
            conversations.extend(load_jsonl(path))
        elif path.suffix == ".xml":
            conversations.extend(_load_xml(path))
    if not conversations:
        raise NoTrainingData(
            f"{root}: no chat files found (Perverted-Justice, NPS Chat, PAN 2012, JSON Lines)"
        )
    _merge_groups(conversations)
    return conversations


def _load_xml(path: Path) -> list[Conversation]:
    try:
        with path.open("rb") as handle:
            head = handle.read(4096).decode("utf-8", errors="replace")
    except OSError as exc:
        raise DatasetError(str(path), None, f"cannot read: {exc.strerror}") from exc
    if "<Session" in head:
        return [load_nps_session(path)]
    if "<conversations" in head:
        ids: set[str] = set()
        for candidate in sorted(path.parent.glob("*.txt")):
            if _is_id_list(candidate):
                ids |= read_author_ids(candidate)
        return list(load_pan12(path, ids))
    return []


def _merge_groups(conversations: list[Conversation]) -> None:
    """Conversations that share an author share a group (union-find over author ids)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for conv in conversations:
        for author in conv.roles:
            parent[find("a:" + author)] = find("g:" + conv.group)
    for conv in conversations:
        conv.group = find("g:" + conv.group).removeprefix("g:")
