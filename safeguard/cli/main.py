"""The ``safeguard`` command. Each capability mounts its commands here, one line each, lazily.

A command's module (and the capability behind it: numba, scikit-learn, matplotlib, FastAPI...) is
imported only when that command runs or its own ``--help`` is asked for, so ``safeguard --help`` and
``safeguard hash`` start in a fraction of a second. The one-line help of each command lives in the table
below (tests check it matches the command's own).

Errors Safeguard raises on purpose (and OS errors such as a missing file) print one line on stderr and
exit non-zero; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from safeguard.errors import SafeguardError


@dataclass(frozen=True, slots=True)
class LazyCommand:
    """Where a command lives (``module:attribute``, a Typer app or a command function) and its help line."""

    target: str
    help: str

    def load(self, name: str) -> TyperCommand | TyperGroup:
        module_name, attribute = self.target.split(":")
        obj = getattr(importlib.import_module(module_name), attribute)
        # Mounted in a throwaway root, as ``add_typer`` / ``command`` on the real root would have done.
        root = typer.Typer(add_completion=False)
        if isinstance(obj, typer.Typer):
            root.add_typer(obj, name=name)
            group = typer.main.get_command(root)
            assert isinstance(group, TyperGroup)
            mounted = group.commands[name]
            assert isinstance(mounted, TyperGroup)
            return mounted
        root.command(name)(obj)
        command = typer.main.get_command(root)
        assert isinstance(command, TyperCommand)
        return command


COMMANDS: dict[str, LazyCommand] = {
    "serve": LazyCommand(
        "safeguard.cli.serve:serve",
        "Start the API server. A first run on an empty data directory creates the database and prints an "
        "admin key once.",
    ),
    "hash": LazyCommand(
        "safeguard.cli.media:hash_command", "Hash files into signals (PDQ, vPDQ, MD5, SHA-256...)."
    ),
    "db": LazyCommand("safeguard.cli.db:app", "Database schema: upgrade, status."),
    "keys": LazyCommand("safeguard.cli.keys:app", "API keys: create, list, revoke."),
    "audit": LazyCommand("safeguard.cli.audit:app", "The tamper-evident audit log."),
    "banks": LazyCommand(
        "safeguard.cli.banks:app", "Hash banks, imports, matching, URL lists and keyword lists."
    ),
    "cases": LazyCommand("safeguard.cli.review:app", "Review cases and the queue."),
    "webhooks": LazyCommand("safeguard.cli.webhooks:app", "Webhook deliveries to the platform."),
    "users": LazyCommand(
        "safeguard.cli.users:app", "Web UI user accounts: create, list, password, unlock, disable."
    ),
    "intake": LazyCommand(
        "safeguard.cli.intake:app", "Police and hotline intake: referrals, suspects, packages."
    ),
    "stats": LazyCommand(
        "safeguard.cli.stats:app", "Figures: counts per period, comparisons, the intake funnel, charts."
    ),
    "text": LazyCommand("safeguard.cli.text:app", "Grooming detection: train, evaluate, score chats."),
}


class _LazyGroup(TyperGroup):
    """The root group: lists :data:`COMMANDS` without importing them, loads one when it is invoked."""

    _listing = False  # true while the root's own help is drawn: commands show their table entry

    def list_commands(self, ctx: Any) -> list[str]:
        return [*COMMANDS, *(name for name in super().list_commands(ctx) if name not in COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in self.commands or cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        entry = COMMANDS[cmd_name]
        if self._listing:
            return TyperCommand(cmd_name, help=entry.help)
        command = entry.load(cmd_name)
        self.add_command(command, cmd_name)
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    name="safeguard",
    help="Safeguard: find and stop child sexual abuse material and grooming.",
    cls=_LazyGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
) -> None:
    """Safeguard: find and stop child sexual abuse material and grooming."""


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        # Standalone mode: Typer prints its own usage errors (exit 2) and exits with the command's code.
        app(args=args, prog_name="safeguard")
    except SafeguardError as exc:
        if debug:
            raise
        _fail(exc.detail, 2 if exc.status < 500 else 1)
    except OSError as exc:
        if debug:
            raise
        where = f": {exc.filename}" if exc.filename else ""
        _fail(f"{exc.strerror or exc}{where}", 1)
    except KeyboardInterrupt:
        _fail("interrupted", 130)


def _fail(message: str, code: int) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)


if __name__ == "__main__":
    main()
