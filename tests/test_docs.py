"""The README documents every command, and its example SQL runs against a real archive."""

from __future__ import annotations

import re
import shlex
import sqlite3
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from archiver.cli import app
from archiver.cli.reference import reference

from conftest import ROOT, SITE, SITE_URL, Runner
from helpers import readme_archive

README = (ROOT / "README.md").read_text(encoding="utf-8")
SQL_BLOCKS = re.findall(r"```sql\n(.*?)```", README, re.DOTALL)


def test_every_command_is_in_the_readme() -> None:
    names = typer.main.get_command(app).list_commands(None)  # type: ignore[attr-defined]
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
    with sqlite3.connect(readme_archive(run, tmp_path)) as conn:
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
    assert ran == ["import", "parse", "history", "search", "export", "feed"]
    assert (tmp_path / "entries.csv").read_text(encoding="utf-8").startswith("entry_id,")


# -- the quick start shows what it really prints -------------------------------------------------

QUICK_START = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
#: The compressed size depends on the zstd library's version: the README's figure may be off by
#: this fraction; every other figure must be exact.
BLOB_BYTES_TOLERANCE = 0.1


@pytest.fixture(scope="module")
def quick_start_output(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Run the quick start's archiver commands as written, in an empty folder beside `fixtures`.

    Each command's stderr comes before its stdout, as a terminal shows them (the only stderr
    line, `skipped ...`, is printed before the summary).
    """
    line = re.findall(r"```sh\n(.*?)```", QUICK_START, re.DOTALL)[0]
    commands = [part.strip() for part in line.split("&&") if part.strip().startswith(".venv/bin/archiver ")]
    assert len(commands) >= 3, commands
    folder = tmp_path_factory.mktemp("quick-start")
    (folder / "fixtures").symlink_to(ROOT / "fixtures", target_is_directory=True)
    runner = CliRunner()
    shown = []
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.delenv("ARCHIVER_DB", raising=False)
        for command in commands:
            result = runner.invoke(app, shlex.split(command)[1:], catch_exceptions=False)
            assert result.exit_code == 0, (command, result.stderr)
            shown.append(result.stderr + result.stdout)
    return "".join(shown)


def _figures(text: str) -> list[tuple[str, int]]:
    """(label, number) of each `label: number` line."""
    return [(m[1], int(m[2])) for m in re.finditer(r"^ *([a-z ]+): (\d+)$", text, re.MULTILINE)]


def test_the_quick_start_prints_what_the_readme_shows(quick_start_output: str) -> None:
    shown = re.findall(r"```text\n(.*?)```", QUICK_START, re.DOTALL)[0]
    blob_bytes = dict(_figures(quick_start_output))["blob bytes"]
    readme_blob_bytes = dict(_figures(shown))["blob bytes"]
    assert abs(readme_blob_bytes - blob_bytes) <= BLOB_BYTES_TOLERANCE * blob_bytes
    same_size = re.sub(r"blob bytes: \d+", f"blob bytes: {blob_bytes}", shown)
    assert quick_start_output.splitlines() == same_size.splitlines()


def test_the_numbers_the_quick_start_explains_are_the_ones_printed(quick_start_output: str) -> None:
    """Every number in the explanation is printed, and its entries per site and in all are right."""
    after = QUICK_START.split("```text\n", 1)[1].split("```", 1)[1]
    explanation = " ".join(after.strip().split("\n\n", 1)[0].split())
    numbers = re.findall(r"\b\d+\b", explanation)
    assert numbers
    assert set(numbers) <= set(re.findall(r"\b\d+\b", quick_start_output)), explanation
    per_site = {
        m[1]: int(m[2]) for m in re.finditer(r"^(\S+) +(\d+)(?: +\d+){3}$", quick_start_output, re.MULTILINE)
    }
    claims = re.findall(r"(\d+) entries of the site `([^`]+)`", explanation)
    assert {site: int(n) for n, site in claims} == per_site
    total = re.search(r"(\d+) entries in all", explanation)
    assert total is not None
    assert int(total[1]) == dict(_figures(quick_start_output))["entries"] == sum(per_site.values())


def test_the_import_line_the_readme_quotes_is_the_one_printed(quick_start_output: str) -> None:
    commands = README.split("## Commands", 1)[1].split("\n## ", 1)[0]
    quoted = re.search(r"\(`(imported [^`]+)`\)", commands)
    assert quoted is not None
    assert " ".join(quoted[1].split()) in quick_start_output.splitlines()  # wrapped in the README


def test_the_exit_statuses_of_the_readme_are_those_of_help(run: Runner) -> None:
    table = README.split("| exit status | meaning |", 1)[1].split("\n\n", 1)[0]
    in_readme = re.findall(r"^\| (\d+) \|", table, re.MULTILINE)
    help_text = " ".join(run("--help").stdout.split())
    in_help = re.findall(r"(\d+) [a-z]", help_text.split("Exit statuses:", 1)[1].split(".", 1)[0])
    assert in_readme == in_help
    assert {"130", "143"} <= set(in_readme)


def test_the_command_reference_is_up_to_date() -> None:
    """docs/cli.md holds every command's --help as it is now (regenerate: cog -r docs/cli.md)."""
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    generated = text.split("]]] -->\n", 1)[1].split("<!-- [[[end]]] -->", 1)[0]
    assert generated == reference(), "docs/cli.md is out of date: run `cog -r docs/cli.md`"
    for name in typer.main.get_command(app).list_commands(None):  # type: ignore[attr-defined]
        command = typer.main.get_command(app).get_command(None, name)  # type: ignore[attr-defined]
        for option in (opt for param in command.params for opt in param.opts if opt.startswith("--")):
            assert option in generated.split(f"## `archiver {name}`", 1)[1].split("\n## ", 1)[0], option
