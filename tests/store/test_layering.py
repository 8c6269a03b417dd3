"""The store sits under every capability: it imports none of them (the Alembic aggregate of all tables is
``safeguard.schema``, above them)."""

from __future__ import annotations

import ast
from pathlib import Path

import safeguard.store

STORE = Path(safeguard.store.__file__).parent
ALLOWED = ("safeguard.store", "safeguard.errors", "safeguard.config")


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_store_imports_no_capability() -> None:
    """Only the migrations' env.py reads the aggregate (``safeguard.schema``); every other module of the
    store, the version scripts included, stays below the capabilities."""
    offenders = {}
    for path in STORE.rglob("*.py"):
        if path.name == "env.py":
            continue
        wrong = {m for m in _imports(path) if m.startswith("safeguard") and not m.startswith(ALLOWED)}
        if wrong:
            offenders[str(path.relative_to(STORE))] = sorted(wrong)
    assert offenders == {}
