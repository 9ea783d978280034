"""The command reference (docs/cli.md): every command's --help, as a user's terminal shows it."""

from __future__ import annotations

import typer.main
from typer.testing import CliRunner

from archiver.cli import app

#: Wide enough for the option tables, narrow enough to read on GitHub without scrolling.
WIDTH = 100


def reference() -> str:
    """Markdown: `archiver --help`, then each command's --help in the order --help lists them."""
    group = typer.main.get_command(app)
    names = group.list_commands(None)  # type: ignore[attr-defined]
    sections = [_section("archiver", [])] + [_section(f"archiver {name}", [name]) for name in names]
    return "\n".join(sections)


def _section(title: str, args: list[str]) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], terminal_width=WIDTH, prog_name="archiver")
    text = result.stdout.rstrip()
    return f"\n## `{title}`\n\n```text\n{text}\n```\n"
