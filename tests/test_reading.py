"""The reading commands (stats, history, search, export) never create or change a file.

A missing or empty file is not an archive; an archive of an older schema is not upgraded behind
the user's back; `export --output` never writes over the archive, whatever name it is given by;
and the folder holds the same files, byte for byte, before and after a read.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from archiver.store import SCHEMA_VERSION

from conftest import ROOT, SEEDS, Runner

READERS = {
    "stats": ["stats"],
    "search": ["search", "attention"],
    "history": ["history", "1"],
    "export": ["export"],
}


def files_in(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


@pytest.fixture
def archive(run: Runner, tmp_path: Path) -> Path:
    folder = tmp_path / "archive"
    folder.mkdir()
    db = folder / "archive.db"
    assert run("import", SEEDS, "--db", db, "-q").exit_code == 0
    return db


@pytest.mark.parametrize("command", list(READERS))
def test_reading_leaves_the_folder_as_it_was(run: Runner, archive: Path, command: str) -> None:
    before = files_in(archive.parent)
    result = run(*READERS[command], "--db", archive)
    assert result.exit_code == 0, result.stderr
    assert result.stdout
    assert files_in(archive.parent) == before


@pytest.mark.parametrize("command", list(READERS))
def test_an_empty_file_is_not_an_archive_and_stays_empty(run: Runner, tmp_path: Path, command: str) -> None:
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    result = run(*READERS[command], "--db", empty)
    assert result.exit_code == 1
    assert f"archiver: error: {empty}: is empty, not an archiver archive" in result.stderr
    assert files_in(tmp_path) == {"empty.db": b""}


def test_reparse_of_an_empty_file_is_refused_too(run: Runner, tmp_path: Path) -> None:
    """reparse needs an archive as the reading commands do: it never makes one of an empty file."""
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    result = run("reparse", "--db", empty)
    assert result.exit_code == 1
    assert f"archiver: error: {empty}: is empty, not an archiver archive" in result.stderr
    assert files_in(tmp_path) == {"empty.db": b""}


def _make_older(db: Path) -> None:
    """An archive as release 0.1.0 left it (schema version 1)."""
    shutil.copy(ROOT / "tests" / "fixtures" / "archive-0.1.0.db", db)


@pytest.mark.parametrize("command", list(READERS))
def test_an_older_archive_is_not_upgraded_by_a_reading_command(
    run: Runner, archive: Path, command: str
) -> None:
    _make_older(archive)
    before = files_in(archive.parent)
    result = run(*READERS[command], "--db", archive)
    assert result.exit_code == 1
    assert f"{archive}: made by an older archiver (schema 1" in result.stderr
    assert f"archiver migrate --db {archive}" in result.stderr
    assert files_in(archive.parent) == before
    # the command the message names brings it up to date, and then it reads
    migrated = run("migrate", "--db", archive)
    assert migrated.exit_code == 0, migrated.stderr
    assert migrated.stdout == f"{archive}: from version 1 to {SCHEMA_VERSION}\n"
    assert run("migrate", "--db", archive).stdout == f"{archive}: already at version {SCHEMA_VERSION}\n"
    assert run(*READERS[command], "--db", archive).exit_code == 0


@pytest.fixture
def open_writer(archive: Path) -> Iterator[sqlite3.Connection]:
    """A connection holding the archive open, as a running crawl does: its -wal and -shm exist."""
    with closing(sqlite3.connect(archive)) as conn:
        conn.execute("SELECT count(*) FROM entry").fetchone()
        yield conn


def _other_name(archive: Path, how: str) -> Path:
    if how == "the same path":
        return archive
    if how == "a relative path":
        return Path(os.path.relpath(archive))
    other = archive.parent.parent / f"{how.replace(' ', '-')}.db"
    if how == "a symlink":
        other.symlink_to(archive)
    elif how == "a hard link":
        other.hardlink_to(archive)
    return other


@pytest.mark.parametrize("how", ["the same path", "a relative path", "a symlink", "a hard link"])
def test_export_never_writes_over_the_archive(run: Runner, archive: Path, how: str) -> None:
    before = archive.read_bytes()
    output = _other_name(archive, how)
    result = run("export", "--db", archive, "--output", output)
    assert result.exit_code == 2, result.stderr
    assert f"--output {output}: is the archive {archive} itself" in result.stderr
    assert archive.read_bytes() == before
    assert run("stats", "--db", archive, "--json").stdout.startswith('{"entries": 46,')


@pytest.mark.parametrize("suffix", ["-wal", "-shm"])
def test_export_never_writes_over_the_archives_journal(
    run: Runner, archive: Path, open_writer: sqlite3.Connection, suffix: str
) -> None:
    journal = Path(f"{archive}{suffix}")
    assert journal.exists()
    before = journal.read_bytes()
    result = run("export", "--db", archive, "--output", journal)
    assert result.exit_code == 2, result.stderr
    assert f"--output {journal}: is the archive {archive} itself" in result.stderr
    assert journal.read_bytes() == before


def test_export_to_another_file_still_works(run: Runner, archive: Path, tmp_path: Path) -> None:
    output = tmp_path / "entries.jsonl"
    output.write_text("old content\n", encoding="utf-8")
    assert run("export", "--db", archive, "--output", output).exit_code == 0
    assert len(output.read_text(encoding="utf-8").splitlines()) == 46


def test_history_shows_a_damaged_list_of_changes_as_it_is(run: Runner, archive: Path) -> None:
    with closing(sqlite3.connect(archive)) as conn, conn:
        conn.execute("UPDATE entry_version SET changed = '[\"title\", oops' WHERE id = 1")
    result = run("history", "1", "--db", archive)
    assert result.exit_code == 0, result.stderr
    assert 'version 1 (current): (damaged list of changes: ["title", oops)' in result.stdout
