"""Every ``safeguard ...`` command line in README.md and docs/*.md names a command and flags that exist.

Lines are taken from code blocks (a line that starts with ``safeguard`` or pipes into it) and from inline
code that starts with ``safeguard ``. Each command path is walked through the real command tree and its
``--help`` is run in-process with Typer's CliRunner; every ``-x`` / ``--flag`` shown must be one of that
command's options (placeholders such as ``ID...`` or ``[--enable]`` are read as the flags they show).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from safeguard.cli import main

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
_WORD = r"safeguard\s+(?:[a-z][a-z-]*|--?[a-z])"  # a command or a flag follows, not prose or figures
_INLINE = re.compile(rf"`({_WORD}[^`]*)`")
_IN_BLOCK = re.compile(rf"(?:^|\|\s*)({_WORD}.*)$")
_FLAG = re.compile(r"^-{1,2}[A-Za-z][A-Za-z0-9-]*")
_STOP = {"#", "|", ">", ">>", "&&", ";", "&"}


@dataclass(frozen=True)
class Shown:
    where: str
    line: str

    def __str__(self) -> str:
        return f"{self.where}: {self.line}"


def _command_lines() -> list[Shown]:
    found: list[Shown] = []
    for doc in DOCS:
        in_block = False
        for number, text in enumerate(doc.read_text().splitlines(), 1):
            where = f"{doc.relative_to(REPO)}:{number}"
            if text.lstrip().startswith("```"):
                in_block = not in_block
                continue
            if in_block:
                match = _IN_BLOCK.search(text.strip())
                if match:
                    found.append(Shown(where, match.group(1)))
            else:
                found.extend(Shown(where, m.group(1)) for m in _INLINE.finditer(text))
    return found


def _tokens(line: str) -> list[str]:
    tokens: list[str] = []
    for raw in line.split()[1:]:
        if raw in _STOP or raw.startswith("#"):
            break
        tokens.append(raw)
    return tokens


def _flags(token: str) -> list[str]:
    """The flags a token shows: ``[--enable]``, ``--approve|--reject``, ``--port=80``, ``-j/--workers``."""
    flags = []
    for piece in re.split(r"[|/]", token.strip("[](){}\"',")):
        match = _FLAG.match(piece.strip("[]"))
        if match:
            flags.append(match.group(0))
    return flags


def _subcommands(command: Any) -> dict[str, Any] | None:
    if command is None or not isinstance(command, TyperGroup):
        return None
    if command is ROOT:
        return {name: ROOT.get_command(None, name) for name in main.COMMANDS}
    return dict(command.commands)


def _options(command: Any) -> set[str]:
    names: set[str] = {"--help"}
    for param in command.params:
        names.update(getattr(param, "opts", []))
        names.update(getattr(param, "secondary_opts", []))
    return names


ROOT = typer.main.get_command(main.app)
LINES = _command_lines()


def test_the_docs_show_commands() -> None:
    assert len(LINES) > 40  # the parser finds them (README and docs show dozens)


@pytest.mark.parametrize("shown", LINES, ids=str)
def test_shown_command_and_flags_exist(shown: Shown) -> None:
    tokens = _tokens(shown.line)
    command: Any = ROOT
    path: list[str] = []
    rest = list(tokens)
    while rest and not rest[0].startswith("-"):
        children = _subcommands(command)
        if children is None:
            break
        word = rest.pop(0)
        assert word in children, f"{shown}: no command {' '.join(['safeguard', *path, word])!r}"
        command = children[word]
        path.append(word)
    assert path or all(t.startswith("-") for t in tokens), f"{shown}: no command named"
    known = _options(command) | (_options(ROOT) if not path else set())
    for token in rest:
        for flag in _flags(token):
            assert flag in known, f"{shown}: {' '.join(['safeguard', *path])} has no option {flag}"
    result = CliRunner().invoke(main.app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, f"{shown}: {result.output}"


def test_a_wrong_flag_or_command_is_caught() -> None:
    with pytest.raises(AssertionError, match="no option --frobnicate"):
        test_shown_command_and_flags_exist(Shown("t", "safeguard keys list --frobnicate"))
    with pytest.raises(AssertionError, match="no command 'safeguard cases frobnicate'"):
        test_shown_command_and_flags_exist(Shown("t", "safeguard cases frobnicate 12"))
