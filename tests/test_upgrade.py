"""Archives written by earlier releases open and upgrade in this one, losing nothing."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
import zstandard

from archiver.store import SCHEMA_VERSION, Store

from conftest import FIXTURES, ROOT, SITE, SITE_URL, Runner, posts

#: release 0.1.0 (schema 1), and schema 2 (sightings, a crawl with a 304)
OLD_ARCHIVES = [
    ROOT / "tests" / "fixtures" / "archive-0.1.0.db",
    ROOT / "tests" / "fixtures" / "archive-schema2.db",
]
#: schema 3 (categories as JSON, dictionaries, profiles; imports, a crawl with a 304)
SCHEMA3_ARCHIVE = ROOT / "tests" / "fixtures" / "archive-schema3.db"
#: schema 4 (schema 3's archive upgraded, then a watched site: a run, a crawl that changed a
#: title, an unchanged run and a failed one)
SCHEMA4_ARCHIVE = ROOT / "tests" / "fixtures" / "archive-schema4.db"
Rows = list[tuple[object, ...]]


def _old_names(joined: object) -> list[str]:
    return str(joined).split(", ") if joined is not None else []


def _read_old(db: Path) -> dict[str, Rows]:
    """What an archive of schema 1 or 2 holds, in the form schema 3 stores it."""
    with sqlite3.connect(db) as conn:
        versions = [
            (
                *row[:5],
                _old_names(row[5]),
                _old_names(row[6]),
                *row[7:9],
                json.loads(row[9].replace('"category"', '"categories"')) if row[9] else None,
                *row[10:],
            )
            for row in conn.execute(
                "SELECT id, entry_id, version, title, url, category, tags, date, excerpt, changed,"
                " first_seen_at, first_capture_id, last_seen_at, last_capture_id, seen_count"
                " FROM entry_version ORDER BY id"
            )
        ]
        search = conn.execute(
            "SELECT v.entry_id FROM entry_fts f JOIN entry_version v ON v.id = f.rowid"
            " WHERE entry_fts MATCH '\"注意力\"' ORDER BY v.entry_id"
        ).fetchall()
        return {**_read_common(conn), "versions": versions, "search": search}


def _read_new(db: Path) -> dict[str, Rows]:
    with sqlite3.connect(db) as conn:
        versions = [
            (
                *row[:5],
                json.loads(row[5] or "[]"),
                json.loads(row[6] or "[]"),
                *row[7:9],
                json.loads(row[9]) if row[9] else None,
                *row[10:],
            )
            for row in conn.execute(
                "SELECT id, entry_id, version, title, url, categories, tags, coalesce(date, date_text),"
                " excerpt, changed, first_seen_at, first_capture_id, last_seen_at, last_capture_id,"
                " seen_count FROM entry_version ORDER BY id"
            )
        ]
        search = conn.execute(
            "SELECT rowid FROM entry_fts WHERE entry_fts MATCH '\"注意力\"' ORDER BY rowid"
        ).fetchall()
        return {**_read_common(conn), "versions": versions, "search": search}


def _read_common(conn: sqlite3.Connection) -> dict[str, Rows]:
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    return {
        "entries": conn.execute(
            "SELECT id, site, key_kind, key, current_version_id FROM entry ORDER BY id"
        ).fetchall(),
        "captures": conn.execute(
            "SELECT id, site, source, captured_at, sha256, cards FROM capture ORDER BY id"
        ).fetchall(),
        "blobs": conn.execute("SELECT sha256, size, data FROM blob ORDER BY sha256").fetchall(),
        "sightings": conn.execute("SELECT * FROM sighting ORDER BY capture_id, position").fetchall()
        if "sighting" in tables
        else [],
    }


@pytest.mark.parametrize("old", OLD_ARCHIVES, ids=lambda path: path.stem)
def test_an_old_archive_upgrades_with_everything_in_it(tmp_path: Path, old: Path) -> None:
    db = tmp_path / "old.db"
    shutil.copy(old, db)
    before = _read_old(db)
    assert before["search"], "the fixture must hold posts that a search finds"
    with Store(db) as store:
        assert store.found_version < SCHEMA_VERSION
        found = sorted(row["entry_id"] for row in store.search("注意力", limit=1000))
    assert [(entry_id,) for entry_id in found] == before["search"]
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.execute("INSERT INTO entry_fts (entry_fts) VALUES ('integrity-check')")  # raises if not
        assert conn.execute("SELECT count(*) FROM entry_fts_pending").fetchone()[0] == 0
        # a date that is not a day is kept as shown, in date_text; date holds days only
        assert (
            conn.execute(
                "SELECT count(*) FROM entry_version"
                " WHERE date NOT GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'"
            ).fetchone()[0]
            == 0
        )
        # the post's current fields and first sighting, on the post
        assert (
            conn.execute(
                "SELECT count(*) FROM entry e JOIN entry_version v ON v.id = e.current_version_id"
                " WHERE e.title IS NOT v.title OR e.excerpt IS NOT v.excerpt"
                " OR e.categories IS NOT v.categories OR e.first_seen_at IS NOT"
                " (SELECT min(first_seen_at) FROM entry_version WHERE entry_id = e.id)"
            ).fetchone()[0]
            == 0
        )
    assert _read_new(db) == before


def _every_row(db: Path) -> dict[str, Rows]:
    """Every row of every table and view but the search index's own, in a stable order."""
    with closing(sqlite3.connect(db)) as conn:
        names = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"
                " AND name NOT LIKE 'entry_fts%' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        return {name: sorted(conn.execute(f"SELECT * FROM [{name}]"), key=repr) for name in names}


def test_a_schema3_archive_upgrades_with_every_row_unchanged(tmp_path: Path) -> None:
    """Version 4 added the watch list's tables, two columns of page, and changed the views: every
    stored row stays as it was, and current_entries gains the year of each post's date."""
    db = tmp_path / "old.db"
    shutil.copy(SCHEMA3_ARCHIVE, db)
    before = _every_row(db)
    assert len(before["entry"]) > 100 and {row[6] for row in before["capture"]} >= {200, 304}
    with Store(db) as store:
        assert store.found_version == 3
        found = store.search("注意力", limit=1000)
    after = _every_row(db)
    dated = [row for row in after["current_entries"] if row[7]]
    assert dated and all(row[10] == str(row[7])[:4] for row in dated)
    # schema 5 adds gone_at last (NULL: nothing was found gone), and the ledger
    assert {row[-1] for row in after["current_entries"]} == {None}
    assert [row[:10] + row[11:-1] for row in after.pop("current_entries")] == before.pop("current_entries")
    assert {row[-1] for row in after["entry"]} == {None}
    assert [row[:-1] for row in after.pop("entry")] == before.pop("entry")
    added = {name: after.pop(name) for name in set(after) - set(before)}
    assert (added["site"], added["site_check"]) == ([], [])
    assert len(added["event"]) == len(after["entry_version"])
    # a page's next link and cards key are kept from its next parse on; NULL until then
    assert [row[-2:] for row in after["page"]] == [(None, None)] * len(before["page"])
    assert [row[:-2] for row in after.pop("page")] == before.pop("page")
    assert after == before
    assert len(found) >= 1
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_schema4_archive_upgrades_with_its_history_in_the_ledger(tmp_path: Path) -> None:
    """Version 5 added the ledger (table event, view ledger) and entry.gone_at: every stored row
    stays as it was, and the ledger starts with the history the archive holds: a 'new' event per
    post and a 'changed' event, with old and new values, per later version."""
    db = tmp_path / "old.db"
    shutil.copy(SCHEMA4_ARCHIVE, db)
    before = _every_row(db)
    assert before["site"] and len(before["site_check"]) == 3
    with Store(db) as store:
        assert store.found_version == 4
        events = store.events()
    after = _every_row(db)
    for table in ("entry", "current_entries"):
        assert {row[-1] for row in after[table]} == {None}
        assert [row[:-1] for row in after.pop(table)] == before.pop(table)
    added = {name: after.pop(name) for name in set(after) - set(before)}
    assert after == before
    assert set(added) == {"event", "ledger", "notification"} and len(added["ledger"]) == len(events)
    assert added["notification"] == []
    versions = before["entry_version"]
    assert sorted(e.kind for e in events) == sorted("new" if v[2] == 1 else "changed" for v in versions)
    [changed] = [e for e in events if e.kind == "changed"]
    assert changed.fields == {
        "title": ["OadTR:用 Transformer 做在线动作检测", "OadTR: 用 Transformer 做在线动作检测 (修订)"]
    }
    assert changed.title == "OadTR: 用 Transformer 做在线动作检测 (修订)"
    first_seen = {(v[1], v[2]): v[11] for v in versions}
    assert all(e.at == first_seen[e.entry_id, 1] for e in events if e.kind == "new")
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


@pytest.mark.parametrize("old", [*OLD_ARCHIVES, SCHEMA3_ARCHIVE, SCHEMA4_ARCHIVE], ids=lambda path: path.stem)
def test_every_command_works_on_an_upgraded_archive(run: Runner, tmp_path: Path, old: Path) -> None:
    db = tmp_path / "old.db"
    shutil.copy(old, db)
    changed = tmp_path / "index.html"
    html = (SITE / "index.html").read_text(encoding="utf-8")
    excerpt = str(next(p for p in posts() if p["page"] == 1)["excerpt"])[:40]
    assert html.count(excerpt) == 1
    changed.write_text(html.replace(excerpt, "(revised) " + excerpt), encoding="utf-8")
    result = run(
        "import", changed, "--db", db, "--base-url", SITE_URL, "--captured-at", "2026-12-31T00:00:00Z"
    )
    assert result.exit_code == 0, result.stderr
    assert "1 new versions" in result.stdout
    found = run("search", "(revised)", "--db", db)
    assert found.exit_code == 0 and "/posts/oadtr-online-action-detection/" in found.stdout
    for command in (("stats",), ("export",), ("history", "1"), ("reparse",)):
        outcome = run(*command, "--db", db)
        assert outcome.exit_code == 0, (command, outcome.stderr)
    assert run("import", FIXTURES / "seeds", "--db", db).exit_code == 0


@pytest.mark.parametrize("fixture", ["archive-0.1.0.db", "archive-schema2.db"])
def test_every_blob_of_an_upgraded_archive_reads_back_bit_exact(
    run: Runner, tmp_path: Path, fixture: str
) -> None:
    """Blobs stored before dictionaries existed are plain zstd; after the upgrade each still reads
    back as the bytes of its sha256, and a page archived since (with a dictionary) does too."""
    db = tmp_path / fixture
    shutil.copy(ROOT / "tests" / "fixtures" / fixture, db)
    with sqlite3.connect(db) as conn:
        before = {
            sha: zstandard.decompress(data) for sha, data in conn.execute("SELECT sha256, data FROM blob")
        }
    assert len(before) >= 3
    assert all(hashlib.sha256(data).hexdigest() == sha for sha, data in before.items())
    with Store(db) as store:
        assert {sha: store.get_blob(sha) for sha in before} == before
    changed = tmp_path / "index.html"
    html = (SITE / "index.html").read_text(encoding="utf-8")
    changed.write_text(html.replace("</body>", "<!-- generated in 0.12 s --></body>"), encoding="utf-8")
    result = run(
        "import", changed, "--db", db, "--base-url", SITE_URL, "--captured-at", "2026-03-01T00:00:00Z"
    )
    assert result.exit_code == 0, result.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM blob WHERE dictionary_id IS NOT NULL").fetchone()[0] == 1
        shas = [row[0] for row in conn.execute("SELECT sha256 FROM blob")]
    with Store(db) as store:
        assert all(hashlib.sha256(store.get_blob(sha)).hexdigest() == sha for sha in shas)
    assert run("reparse", "--db", db).exit_code == 0
