"""What archiver prints from pages and the archive cannot take over a terminal or a spreadsheet.

A title may carry escape sequences (ESC ] 0; retitles the window, ESC [ 2J clears it, U+009B is
CSI on some terminals), BEL, other control characters or rich markup. Table and plain output show
them as visible escapes; JSON output escapes them as \\u sequences that read back exactly; CSV
cells that a spreadsheet would run as a formula get a leading single quote.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from archiver.cli._common import out

from conftest import SITE, SITE_URL, Runner

EVIL = "Evil \x1b]0;pwned\x07 title \x1b[2J\x9b31m\x7f\x01 [bold]loud[/bold] [/nope]"
#: Anything a terminal acts on: C0 (but the newline that ends a line), DEL, C1, line separators.
RAW_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")
FORMULAS = ['=HYPERLINK("http://evil.example/")', "+1 trick", "-2 ways to win", "@SUM(A1:A9)"]


def page_with_titles(tmp_path: Path, titles: list[str]) -> Path:
    """The fixture's first page with the first cards' titles replaced (HTML-escaped as needed)."""
    html = (SITE / "index.html").read_text(encoding="utf-8")
    found = list(re.finditer(r'(<h2 class="post-title"><a href="[^"]+">)([^<]+)(</a>)', html))
    assert len(found) >= len(titles)
    for match, title in reversed(list(zip(found, titles, strict=False))):
        escaped = title.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
        html = html[: match.start(2)] + escaped + html[match.end(2) :]
    page = tmp_path / "index.html"
    page.write_text(html, encoding="utf-8")
    return page


@pytest.fixture
def evil_archive(run: Runner, tmp_path: Path, db: Path) -> Path:
    page = page_with_titles(tmp_path, [EVIL, *FORMULAS])
    assert run("import", page, "--db", db, "--base-url", SITE_URL).exit_code == 0
    return page


def _no_raw_controls(text: str) -> None:
    assert not RAW_CONTROL.search(text), RAW_CONTROL.findall(text)


@pytest.mark.parametrize(
    "command",
    [["search", "Evil"], ["history", "1"], ["parse", "PAGE", "--base-url", SITE_URL], ["probe", "PAGE"]],
)
def test_table_and_plain_output_show_control_characters_escaped(
    run: Runner, db: Path, evil_archive: Path, command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # wide tables: a title is not folded across lines (set on the console itself: it read the
    # terminal's width, or COLUMNS, when it was made)
    monkeypatch.setattr(out, "_width", 400)
    args = [str(evil_archive) if arg == "PAGE" else arg for arg in command]
    result = run(*args, *(["--db", db] if args[0] in ("search", "history") else []))
    assert result.exit_code == 0, result.stderr
    _no_raw_controls(result.stdout + result.stderr)
    assert "Evil \\x1b]0;pwned\\x07 title \\x1b[2J\\x9b31m\\x7f\\x01 [bold]loud[/bold]" in result.stdout


@pytest.mark.parametrize(
    "command", [["search", "Evil", "--json"], ["history", "1", "--json"], ["export"], ["parse", "PAGE"]]
)
def test_json_output_escapes_every_control_character_and_reads_back_exactly(
    run: Runner, db: Path, evil_archive: Path, command: list[str]
) -> None:
    if command[0] == "parse":
        result = run("parse", evil_archive, "--base-url", SITE_URL, "--format", "jsonl")
    else:
        result = run(*command, "--db", db)
    assert result.exit_code == 0, result.stderr
    _no_raw_controls(result.stdout)
    titles = [json.loads(line)["title"] for line in result.stdout.splitlines()]
    assert EVIL in titles


def test_csv_cells_that_spreadsheets_run_as_formulas_get_a_leading_quote(
    run: Runner, db: Path, evil_archive: Path, tmp_path: Path
) -> None:
    output = tmp_path / "entries.csv"
    assert run("export", "--db", db, "--format", "csv", "--output", output).exit_code == 0
    with output.open(encoding="utf-8", newline="") as stream:
        titles = [row["title"] for row in csv.DictReader(stream)]
    for formula in FORMULAS:
        assert "'" + formula in titles
        assert formula not in titles
    assert EVIL in titles  # a title that is not a formula is written as it is
    exact = [json.loads(line)["title"] for line in run("export", "--db", db).stdout.splitlines()]
    assert set(FORMULAS) <= set(exact)  # JSON lines keep the exact text


def test_export_help_says_how_csv_cells_are_quoted(run: Runner) -> None:
    shown = " ".join(run("export", "--help").stdout.split())
    assert "leading single quote" in shown and "formula" in shown


def test_an_error_naming_a_capture_shows_its_name_escaped(run: Runner, db: Path, tmp_path: Path) -> None:
    evil_name = tmp_path / "evil\x1b]0;pwned\x07.txt"
    evil_name.write_bytes(b"")
    result = run("import", evil_name, "--db", db)
    assert result.exit_code == 1
    _no_raw_controls(result.stderr)
    assert "evil\\x1b]0;pwned\\x07.txt: empty capture" in result.stderr


def test_files_skipped_in_a_folder_are_named_escaped(run: Runner, db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "captures"
    folder.mkdir()
    (folder / "page.html").write_bytes((SITE / "index.html").read_bytes())
    (folder / "notes\x1b[2J.md").write_text("not a capture", encoding="utf-8")
    result = run("import", folder, "--db", db, "--base-url", SITE_URL)
    assert result.exit_code == 0, result.stderr
    _no_raw_controls(result.stderr)
    assert "notes\\x1b[2J.md" in result.stderr
