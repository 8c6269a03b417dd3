"""A small, safe XML tree with line numbers and element paths, for error messages that point somewhere.

Built directly on expat: documents with a DOCTYPE or entity declarations are refused outright (no
entity-expansion bombs, no external entities), namespaces are dropped from element names (CyberTipline
documents name their schema with ``xsi:noNamespaceSchemaLocation`` only), and each element knows its line
and its path (``/reports/report[2]/personOrUserReported/ipCaptureEvent[1]``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.parsers import expat

from safeguard.intake.errors import ImportRejected

MAX_DEPTH = 64


@dataclass(slots=True)
class Node:
    tag: str
    attrs: dict[str, str]
    line: int
    path: str
    children: list[Node] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)

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


def parse_xml(data: bytes) -> Node:
    parser = expat.ParserCreate()
    stack: list[Node] = []
    counts: list[dict[str, int]] = [{}]
    root: list[Node] = []

    def refuse(*_args: object) -> None:
        raise ImportRejected(
            "DOCTYPE and entity declarations are not accepted", where=f"line {parser.CurrentLineNumber}"
        )

    def start(name: str, attrs: dict[str, str]) -> None:
        tag = _local(name)
        if len(stack) >= MAX_DEPTH:
            raise ImportRejected(
                f"elements nested deeper than {MAX_DEPTH}", where=f"line {parser.CurrentLineNumber}"
            )
        siblings = counts[-1]
        siblings[tag] = siblings.get(tag, 0) + 1
        parent_path = stack[-1].path if stack else ""
        index = f"[{siblings[tag]}]" if stack else ""
        node = Node(
            tag,
            {_local(k): v for k, v in attrs.items()},
            parser.CurrentLineNumber,
            f"{parent_path}/{tag}{index}",
        )
        if stack:
            stack[-1].children.append(node)
        else:
            root.append(node)
        stack.append(node)
        counts.append({})

    def end(_name: str) -> None:
        stack.pop()
        counts.pop()

    def chars(text: str) -> None:
        if stack:
            stack[-1].parts.append(text)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise ImportRejected(
            f"not well-formed XML: {expat.ErrorString(exc.code)}",
            where=f"line {exc.lineno}, column {exc.offset + 1}",
        ) from None
    if not root:
        raise ImportRejected("the document has no root element", where="line 1")
    return root[0]
