"""A small, safe XML tree with line numbers and element paths, for error messages that point somewhere.

Built directly on expat: documents with a DOCTYPE or entity declarations are refused outright (no
entity-expansion bombs, no external entities), namespaces are dropped from element names (CyberTipline
documents name their schema with ``xsi:noNamespaceSchemaLocation`` only), and each element knows its line
and its path (``/reports/report[2]/personOrUserReported/ipCaptureEvent[1]``). Documents are read streaming:
each ``<report>`` is built, handed to the importer and dropped before the next, within bounds on elements,
depth and text (a 46 MB file of many reports used to become a 4 GB tree).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.parsers import expat

from safeguard.intake.errors import ImportRejected

MAX_DEPTH = 64
# Bounds of one document: elements in all, elements in one record (a <report> and its subtree), characters
# of text in one element. Expat reads it a chunk at a time; only the record being read is kept as a tree.
MAX_ELEMENTS = 5_000_000
MAX_RECORD_ELEMENTS = 100_000
MAX_ELEMENT_TEXT = 1_000_000
CHUNK = 1 << 16


@dataclass(slots=True)
class Node:
    tag: str
    attrs: dict[str, str]
    line: int
    path: str
    children: list[Node] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    size: int = 0  # characters of text so far

    @property
    def text(self) -> str:
        return "".join(self.parts).strip()

    @property
    def where(self) -> str:
        return f"line {self.line}, element {self.path}"

    def all(self, tag: str) -> list[Node]:
        return [child for child in self.children if child.tag == tag]

    def first(self, tag: str) -> Node | None:
        return next((child for child in self.children if child.tag == tag), None)

    def text_of(self, tag: str) -> str | None:
        child = self.first(tag)
        return child.text if child is not None and child.text else None

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.walk()


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def _refuse_declarations(parser: expat.XMLParserType) -> None:
    def refuse(*_args: object) -> None:
        raise ImportRejected(
            "DOCTYPE and entity declarations are not accepted", where=f"line {parser.CurrentLineNumber}"
        )

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse


@dataclass(slots=True)
class _Builder:
    """Expat callbacks that keep only the record being read: under the wrapper root, each record is handed
    over when it ends and nothing else is kept, so memory follows the largest record, not the file."""

    parser: expat.XMLParserType
    wrapper: str
    record: str
    stack: list[Node] = field(default_factory=list)
    counts: list[dict[str, int]] = field(default_factory=lambda: [{}])
    done: list[Node] = field(default_factory=list)
    root: Node | None = None
    elements: int = 0
    in_record: int = 0

    def _bound(self, depth: int) -> None:
        where = f"line {self.parser.CurrentLineNumber}"
        if depth >= MAX_DEPTH:
            raise ImportRejected(f"elements nested deeper than {MAX_DEPTH}", where=where)
        self.elements += 1
        if self.elements > MAX_ELEMENTS:
            raise ImportRejected(f"more than {MAX_ELEMENTS:,} elements in the file", where=where)
        new_record = depth == 1 and self.root is not None and self.root.tag == self.wrapper
        self.in_record = 1 if new_record else self.in_record + 1
        if self.in_record > MAX_RECORD_ELEMENTS:
            raise ImportRejected(
                f"more than {MAX_RECORD_ELEMENTS:,} elements in one <{self.record}>", where=where
            )

    def start(self, name: str, attrs: dict[str, str]) -> None:
        stack = self.stack
        self._bound(len(stack))
        tag = _local(name)
        siblings = self.counts[-1]
        siblings[tag] = siblings.get(tag, 0) + 1
        parent_path = stack[-1].path if stack else ""
        index = f"[{siblings[tag]}]" if stack else ""
        node = Node(
            tag,
            {_local(k): v for k, v in attrs.items()},
            self.parser.CurrentLineNumber,
            f"{parent_path}/{tag}{index}",
        )
        if self.root is None:
            self.root = node
            if tag not in (self.wrapper, self.record):
                raise ImportRejected(
                    f"the root element must be <{self.record}> or <{self.wrapper}>", where=node.where
                )
        elif not (len(stack) == 1 and self.root.tag == self.wrapper):
            stack[-1].children.append(node)  # the wrapper's children are not kept in it
        stack.append(node)
        self.counts.append({})

    def end(self, _name: str) -> None:
        node = self.stack.pop()
        self.counts.pop()
        under_wrapper = len(self.stack) == 1 and self.stack[0].tag == self.wrapper
        if node.tag == self.record and (not self.stack or under_wrapper):
            self.done.append(node)

    def chars(self, text: str) -> None:
        if self.stack and not (len(self.stack) == 1 and self.stack[0].tag == self.wrapper):
            node = self.stack[-1]
            node.size += len(text)
            if node.size > MAX_ELEMENT_TEXT:
                raise ImportRejected(
                    f"more than {MAX_ELEMENT_TEXT:,} characters of text in one element",
                    where=f"line {self.parser.CurrentLineNumber}, element {node.path}",
                )
            node.parts.append(text)


def iter_records(data: bytes, *, wrapper: str, record: str) -> Iterator[Node]:
    """The ``record`` elements of a document whose root is one ``record`` or a ``wrapper`` of many, each
    complete with its subtree, in order, parsed streaming (a chunk at a time) within the bounds above.
    Raises ``ImportRejected`` for anything malformed or out of bounds, possibly after earlier records."""
    parser = expat.ParserCreate()
    builder = _Builder(parser, wrapper, record)
    _refuse_declarations(parser)
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.chars
    view = memoryview(data)
    records = 0
    try:
        for offset in range(0, max(len(data), 1), CHUNK):
            chunk = view[offset : offset + CHUNK]
            parser.Parse(bytes(chunk), offset + CHUNK >= len(data))
            records += len(builder.done)
            yield from builder.done
            builder.done.clear()
    except expat.ExpatError as exc:
        raise ImportRejected(
            f"not well-formed XML: {expat.ErrorString(exc.code)}",
            where=f"line {exc.lineno}, column {exc.offset + 1}",
        ) from None
    if builder.root is None:
        raise ImportRejected("the document has no root element", where="line 1")
    if not records:
        raise ImportRejected(f"no <{record}> elements", where=builder.root.where)
