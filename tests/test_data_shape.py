"""The archive's data as analysts read it: JSON arrays, days, each post's current fields on entry,
and a search index that is brought up to date in batches without ever being stale to a search."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from archiver.ingest import ingest
from archiver.models import Card, json_list
from archiver.store import CaptureRecord, Store

from conftest import ROOT, SITE, SITE_PROFILE, SITE_URL, Runner

SHOWN_TWICE_URL = SITE_URL + "posts/flashattention-explained/"


@given(st.lists(st.text(), min_size=1, max_size=4))
def test_names_are_written_as_json_dumps_writes_them(names: list[str]) -> None:
    assert json_list(names) == json.dumps(names, ensure_ascii=False)
    assert json.loads(json_list(names) or "") == names


def _page(tmp_path: Path, old: str, new: str) -> Path:
    html = (SITE / "index.html").read_text(encoding="utf-8")
    assert old in html
    page = tmp_path / "index.html"
    page.write_text(html.replace(old, new, 1), encoding="utf-8")
    return page


def test_a_category_holding_a_comma_stays_one_name(run: Runner, tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    page = _page(tmp_path, ">3D Model</a>", ">Kitchen, Preserving</a><a href='/c/jam/'>Jam</a>")
    result = run("import", page, "--db", db, "--base-url", SITE_URL, "--profile", SITE_PROFILE)
    assert result.exit_code == 0, result.stderr
    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT categories FROM entry WHERE categories LIKE '%Kitchen%'").fetchall()
        names = conn.execute(
            "SELECT DISTINCT j.value FROM entry, json_each(entry.categories) j ORDER BY 1"
        ).fetchall()
    assert stored == [('["Kitchen, Preserving", "Jam"]',)]
    assert ("Kitchen, Preserving",) in names and ("Jam",) in names
    exported = run("export", "--db", db)
    rows = [json.loads(line) for line in exported.stdout.splitlines()]
    assert ["Kitchen, Preserving", "Jam"] in [row["categories"] for row in rows]


def test_a_date_an_older_release_kept_as_shown_moves_to_date_text(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    shutil.copy(ROOT / "tests" / "fixtures" / "archive-schema2.db", db)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE entry_version SET date = 'Spring 2019' WHERE id = 1")
    with Store(db):
        pass
    with sqlite3.connect(db) as conn:
        shown = conn.execute("SELECT date, date_text FROM entry_version WHERE id = 1").fetchone()
        entry = conn.execute("SELECT date, date_text FROM entry WHERE current_version_id = 1").fetchone()
        days = conn.execute("SELECT count(*) FROM entry_version WHERE date GLOB '2026-*'").fetchone()[0]
    assert shown == entry == (None, "Spring 2019")
    assert days > 10


def _capture(store: Store, at: str, title: str, source: str = "page") -> None:
    record = CaptureRecord(site="s", source=source, kind="html", captured_at=at, sha256=None)
    card = Card(title=title, url="https://s/post", excerpt="an excerpt about 注意力 and more")
    ingest(store, record, None, [card])


def test_first_seen_is_on_the_entry_and_moves_back_for_an_old_copy(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    with Store(db) as store:
        _capture(store, "2026-05-01T00:00:00Z", "Now")
        _capture(store, "2026-01-01T00:00:00Z", "Then", source="old copy")
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT title, first_seen_at FROM entry").fetchone()
    assert row == ("Now", "2026-01-01T00:00:00Z")


def _indexed(db: Path, phrase: str) -> list[int]:
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("SELECT rowid FROM entry_fts WHERE entry_fts MATCH ?", (phrase,))]


def test_search_finds_what_the_index_has_not_caught_up_with_and_nothing_stale(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    store = Store(db)
    _capture(store, "2026-05-01T00:00:00Z", "Sourdough starter")
    # the capture queued its post in its own transaction; the index is not updated yet
    assert _indexed(db, '"Sourdough"') == []
    assert [row["title"] for row in store.search("sourdough")] == ["Sourdough starter"]
    store.close()  # killed before the end of the run: the queue stays in the file
    with Store(db) as store:
        _capture(store, "2026-05-02T00:00:00Z", "Rye bread")
        assert [row["title"] for row in store.search("Rye bread")] == ["Rye bread"]
        assert store.search("Sourdough") == []
    # leaving the run brought the index up to date, the queue left by the killed run included
    assert _indexed(db, '"Sourdough"') == [] and _indexed(db, '"Rye bread"') == [1]
    with Store(db) as store:
        _capture(store, "2026-05-03T00:00:00Z", "Pumpernickel")
        assert _indexed(db, '"Rye bread"') == [1]  # the index holds the old title until the end
        assert store.search("Rye bread") == []  # ... which a search never shows
        assert [row["title"] for row in store.search("pumpernickel")] == ["Pumpernickel"]
    assert _indexed(db, '"Rye bread"') == [] and _indexed(db, '"Pumpernickel"') == [1]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM entry_fts_pending").fetchone()[0] == 0
        conn.execute("INSERT INTO entry_fts (entry_fts) VALUES ('integrity-check')")


def test_the_index_is_updated_every_few_hundred_captures_during_a_run(tmp_path: Path) -> None:
    from archiver.store._entries import INDEX_EVERY

    db = tmp_path / "a.db"
    store = Store(db)
    try:
        for n in range(INDEX_EVERY):
            _capture(store, f"2026-05-01T00:{n // 60:02d}:{n % 60:02d}Z", f"Title number {n}", f"p{n}")
        assert _indexed(db, '"Title number 499"') == [1]
    finally:
        store.close()


def test_reading_a_file_left_with_a_queue_needs_no_write(run: Runner, tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    store = Store(db)
    _capture(store, "2026-05-01T00:00:00Z", "Sourdough starter")
    store.close()
    before = db.read_bytes()
    found = run("search", "sourdough", "--db", db)
    assert found.exit_code == 0 and "Sourdough starter" in found.stdout
    assert db.read_bytes() == before
