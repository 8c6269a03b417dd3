"""The ``safeguard`` command. Each capability mounts its commands here, one line each.

Errors Safeguard raises on purpose (and OS errors such as a missing file) print one line on stderr and
exit non-zero; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import sys

import typer

from safeguard.cli import audit, banks, db, intake, keys, media, review, serve, stats, text, users, webhooks
from safeguard.errors import SafeguardError

app = typer.Typer(
    name="safeguard",
    help="Safeguard: find and stop child sexual abuse material and grooming.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("serve")(serve.serve)
app.command("hash")(media.hash_command)
app.add_typer(db.app, name="db")
app.add_typer(keys.app, name="keys")
app.add_typer(audit.app, name="audit")
app.add_typer(banks.app, name="banks")
app.add_typer(review.app, name="cases")
app.add_typer(webhooks.app, name="webhooks")
app.add_typer(users.app, name="users")
app.add_typer(intake.app, name="intake")
app.add_typer(stats.app, name="stats")
app.add_typer(text.app, name="text")


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
