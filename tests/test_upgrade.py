"""An archive written by release 0.1.0 opens and upgrades in this one, losing nothing."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from archiver.store import SCHEMA_VERSION, Store

from conftest import FIXTURES, ROOT, SITE, SITE_URL, Runner, posts

OLD = ROOT / "tests" / "fixtures" / "archive-0.1.0.db"
KEPT = {
    "entries": "SELECT id, site, key_kind, key, current_version_id FROM entry ORDER BY id",
    "versions": "SELECT * FROM entry_version ORDER BY id",
    "captures": "SELECT id, site, source, captured_at, sha256, cards FROM capture ORDER BY id",
    "blobs": "SELECT sha256, size, data FROM blob ORDER BY sha256",
    "search": "SELECT rowid FROM entry_fts WHERE entry_fts MATCH '\"注意力\"' ORDER BY rowid",
}


def _read(db: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(db) as conn:
        return {name: conn.execute(sql).fetchall() for name, sql in KEPT.items()}


def test_a_0_1_0_archive_upgrades_with_everything_in_it(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    shutil.copy(OLD, db)
    before = _read(db)
    assert before["search"], "the fixture must hold posts that a search finds"
    with Store(db):
        pass
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert names == {"entry_current_indexed", "entry_current_reindexed"}
    assert _read(db) == before


def test_every_command_works_on_an_upgraded_0_1_0_archive(run: Runner, tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    shutil.copy(OLD, db)
    changed = tmp_path / "index.html"
    html = (SITE / "index.html").read_text(encoding="utf-8")
    excerpt = str(next(p for p in posts() if p["page"] == 1)["excerpt"])[:40]
    assert html.count(excerpt) == 1
    changed.write_text(html.replace(excerpt, "(revised) " + excerpt), encoding="utf-8")
    result = run(
        "import", changed, "--db", db, "--base-url", SITE_URL, "--captured-at", "2026-02-01T00:00:00Z"
    )
    assert result.exit_code == 0, result.stderr
    assert "1 new versions" in result.stdout
    found = run("search", "(revised)", "--db", db)
    assert found.exit_code == 0 and "/posts/oadtr-online-action-detection/" in found.stdout
    for command in (("stats",), ("export",), ("history", "1"), ("reparse",)):
        outcome = run(*command, "--db", db)
        assert outcome.exit_code == 0, (command, outcome.stderr)
    assert run("import", FIXTURES / "seeds", "--db", db).exit_code == 0
