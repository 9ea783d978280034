"""schema.sql is the one, documented definition of the archive file."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from archiver.store import SCHEMA_VERSION, Store, schema_sql

from conftest import ROOT, SEEDS, Runner

CREATE = re.compile(r"^CREATE (?:VIRTUAL )?(TABLE|VIEW) IF NOT EXISTS (\w+)", re.MULTILINE)


def test_every_table_and_view_has_a_comment_above_it() -> None:
    text = (ROOT / "schema.sql").read_text(encoding="utf-8")
    found = CREATE.findall(text)
    assert {name for _, name in found} >= {
        "capture",
        "blob",
        "entry",
        "entry_version",
        "current_entries",
        "version_history",
        "entry_fts",
        "page",
    }
    for match in CREATE.finditer(text):
        line_before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        assert line_before.startswith("--"), f"{match.group(2)} has no comment above it"


def test_the_packaged_schema_is_the_root_file() -> None:
    assert schema_sql() == (ROOT / "schema.sql").read_text(encoding="utf-8")


def test_schema_applies_idempotently_and_sets_user_version(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    Store(path).close()
    Store(path).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        conn.executescript(schema_sql())  # a second application changes nothing and does not fail


def test_newer_schema_is_refused_without_writing(run: Runner, tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    Store(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = path.read_bytes()
    result = run("import", SEEDS / "000_9b671d25390876c8.txt", "--db", path)
    assert result.exit_code == 1
    assert "made by a newer archiver" in result.stderr
    assert path.read_bytes() == before


def test_another_sqlite_database_is_not_taken_over(run: Runner, tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    result = run("import", SEEDS / "000_9b671d25390876c8.txt", "--db", path)
    assert result.exit_code == 1
    assert "not an archiver archive" in result.stderr
    with sqlite3.connect(path) as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["notes"]


@pytest.mark.parametrize(
    "query", ["注意力", "Transformer", "LoRA", '"quoted" AND OR *', "注意", "'; DROP TABLE entry; --"]
)
def test_search_takes_any_text(run: Runner, tmp_path: Path, query: str) -> None:
    db = tmp_path / "a.db"
    run("import", SEEDS, "--db", db)
    result = run("search", query, "--db", db, "--json")
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    with sqlite3.connect(db) as conn:
        expected = conn.execute(
            "SELECT count(*) FROM current_entries"
            " WHERE instr(lower(coalesce(title, '') || ' ' || excerpt), lower(?))",
            (query,),
        ).fetchone()[0]
    assert len(result.stdout.splitlines()) == min(expected, 20)


def test_search_finds_chinese_substrings(run: Runner, tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    run("import", SEEDS, "--db", db)
    result = run("search", "注意力", "--db", db)
    assert result.exit_code == 0
    assert len(result.stdout.strip().splitlines()) >= 3
