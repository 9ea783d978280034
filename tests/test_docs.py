"""The README documents every command, and its example SQL runs against a real archive."""

from __future__ import annotations

import re
import shlex
import sqlite3
from pathlib import Path

import pytest
import typer.main

from archiver.cli import app

from conftest import ROOT, SEEDS, SITE, SITE_URL, Runner

README = (ROOT / "README.md").read_text(encoding="utf-8")
SQL_BLOCKS = re.findall(r"```sql\n(.*?)```", README, re.DOTALL)


def test_every_command_is_in_the_readme() -> None:
    names = typer.main.get_command(app).list_commands(None)  # type: ignore[attr-defined, arg-type]
    assert names
    for name in names:
        assert f"archiver {name}" in README, f"README does not show `archiver {name}`"


def test_quick_start_has_exactly_two_commands() -> None:
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.*?)```", quick, re.DOTALL)
    assert len(commands) == 2
    assert "pytest" in commands[1]
    assert "pytest" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_readme_has_three_example_queries() -> None:
    assert len(SQL_BLOCKS) >= 3


@pytest.mark.parametrize("query", SQL_BLOCKS)
def test_readme_sql_runs(run: Runner, tmp_path: Path, query: str) -> None:
    db = tmp_path / "archive.db"
    run("import", SEEDS, "--db", db)
    run("import", SITE, "--db", db, "--base-url", SITE_URL, "--profile", SITE / "profile.toml")
    edited = tmp_path / "index.html"  # one post's excerpt edited, so there is history to show
    html = (SITE / "index.html").read_text(encoding="utf-8")
    edited.write_text(html.replace("<p>", "<p>Updated: ", 1), encoding="utf-8")
    run("import", edited, "--db", db, "--base-url", SITE_URL, "--profile", SITE / "profile.toml")
    with sqlite3.connect(db) as conn:
        rows = conn.execute(query).fetchall()
    assert rows


def _readme_examples() -> list[str]:
    """The `archiver ...` lines of the README's first example block (under "## Commands")."""
    commands = README.split("## Commands", 1)[1].split("\n## ", 1)[0]
    block = re.findall(r"```sh\n(.*?)```", commands, re.DOTALL)[0]
    return [line for line in block.splitlines() if line.startswith("archiver ")]


def test_readme_examples_that_need_only_the_fixtures_run(
    run: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # archive.db and entries.csv land here
    monkeypatch.delenv("ARCHIVER_DB", raising=False)
    assert run("import", SITE, "--base-url", SITE_URL).exit_code == 0  # the quick start's import
    ran = []
    for line in _readme_examples():
        if "saved" in line or "blog.toml" in line:  # need the reader's own site
            continue
        args = [arg.replace("fixtures/", f"{ROOT / 'fixtures'}/") for arg in shlex.split(line)[1:]]
        result = run(*args)
        assert result.exit_code == 0, (line, result.stderr)
        assert result.stdout or args[0] == "export", line
        ran.append(args[0])
    assert ran == ["import", "parse", "history", "search", "export"]
    assert (tmp_path / "entries.csv").read_text(encoding="utf-8").startswith("entry_id,")
