"""``safeguard --help`` and ``safeguard hash`` import only what they use (checked in a fresh interpreter)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safeguard.cli import main

HEAVY = ("numba", "sklearn", "matplotlib", "fastapi", "sqlalchemy", "scipy")
IMAGE = Path("/work/shared/data/images/img_0001.jpg")


def _modules_after(argv: list[str], tmp_path: Path) -> set[str]:
    """Run the CLI in-process in a fresh interpreter with ``argv``; the modules loaded by its end."""
    code = (
        "import json, sys\n"
        "from safeguard.cli.main import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.__stdout__.write('\\nMODULES ' + json.dumps(sorted(sys.modules)) + '\\n')\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAFEGUARD_")}
    env["SAFEGUARD_HOME"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    line = next(row for row in result.stdout.splitlines() if row.startswith("MODULES "))
    return set(json.loads(line.removeprefix("MODULES ")))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(name for name in modules if name.split(".")[0] in HEAVY)


def test_root_help_imports_no_capability(tmp_path: Path) -> None:
    modules = _modules_after(["--help"], tmp_path)
    assert _heavy(modules) == []
    assert not any(name.startswith("safeguard.cli.") for name in modules - {"safeguard.cli.main"})


def test_hash_imports_neither_the_database_nor_the_decoders_in_the_main_process(tmp_path: Path) -> None:
    modules = _modules_after(["hash", "--no-progress", str(IMAGE)], tmp_path)
    assert _heavy(modules) == []
    # Pillow and numpy load in the hashing worker, not in the process that parses the command line.
    assert "PIL" not in modules and "numpy" not in modules


def test_a_subcommand_loads_its_own_module_only(tmp_path: Path) -> None:
    modules = _modules_after(["keys", "--help"], tmp_path)
    assert "safeguard.cli.keys" in modules
    assert "safeguard.cli.text" not in modules and "safeguard.cli.banks" not in modules


@pytest.mark.parametrize("name", sorted(main.COMMANDS))
def test_root_help_line_is_the_commands_own(name: str) -> None:
    command = main.COMMANDS[name].load(name)
    assert (command.help or "").split("\n\n")[0].replace("\n", " ") == main.COMMANDS[name].help


def test_root_help_lists_every_command_and_groups_keep_their_subcommands() -> None:
    runner = CliRunner()
    result = runner.invoke(main.app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for name in main.COMMANDS:
        assert name in result.output
    result = runner.invoke(main.app, ["cases", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "stats" in result.output
