"""Every query a capture runs, and every README example, reads its rows through an index.

A query that scans entry, entry_version, capture or sighting costs nothing on a test archive and
seconds on one of ten million versions (benchmarks/scale.py measures it). SQLite plans the same
way whatever the size (archiver never runs ANALYZE), so the plans of a small archive show it:
this archive is the one tests/test_docs.py builds, and the statements are the ones a capture
really executes, traced while it runs.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest

from archiver.ingest import ingest
from archiver.models import Card, names_of
from archiver.store import CaptureRecord, PageState, Store

from conftest import ROOT, SITE_URL, Runner
from helpers import readme_archive

#: The README's example queries, found as tests/test_docs.py finds them.
SQL_BLOCKS = re.findall(r"```sql\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.DOTALL)
#: The tables that grow with the archive: reading one whole is a cost that grows with it.
BIG_TABLES = ("entry", "entry_version", "capture", "sighting")
#: The views over them (a plan names the aliases of their tables, or the view's own alias).
VIEWS = {"current_entries": "entry", "version_history": "entry_version"}
#: A time after every capture of the archive: the captures below are the newest.
LATER = "2030-01-01T00:00:00Z"


@pytest.fixture
def archive(run: Runner, tmp_path: Path) -> Path:
    """The archive tests/test_docs.py runs the README's examples on."""
    return readme_archive(run, tmp_path)


def full_scans(conn: sqlite3.Connection, statement: str) -> list[str]:
    """The steps of a statement's plan that read a big table whole: a SCAN with no index, or a
    SEARCH with none (min/max by rowid walking the table from one end until a row matches).

    A plan names a table by its alias, in the statement or in a view it reads: those are mapped
    back to tables. A SCAN through an index (an ORDER BY ... LIMIT walking it) reads only the rows
    it returns and is not counted.
    """
    views = " ".join(row[0] for row in conn.execute("SELECT sql FROM sqlite_master WHERE type = 'view'"))
    names = "|".join((*BIG_TABLES, *VIEWS))
    aliases = {
        alias: VIEWS.get(table, table)
        for table, alias in re.findall(rf"\b({names})\b(?:\s+AS)?\s+(\w+)", f"{statement} {views}", re.I)
    }
    aliases.update({table: table for table in BIG_TABLES})
    aliases.update(VIEWS)
    scans = []
    for row in conn.execute(f"EXPLAIN QUERY PLAN {statement}"):
        scan = re.fullmatch(r"(?:SCAN|SEARCH) (\w+)", row[3])
        if scan and aliases.get(scan[1]) in BIG_TABLES:
            scans.append(f"{row[3]} ({aliases[scan[1]]})")
    return scans


def traced(store: Store, action: Callable[[], object]) -> list[str]:
    """The statements ``action`` executes, with their values, as SQLite ran them."""
    seen: list[str] = []
    store.conn.set_trace_callback(seen.append)
    try:
        action()
    finally:
        store.conn.set_trace_callback(None)
    plain = ("--", "BEGIN", "COMMIT", "ROLLBACK", "PRAGMA", "SAVEPOINT", "RELEASE")
    return [s for s in dict.fromkeys(seen) if not s.lstrip().upper().startswith(plain)]


def capture_statements(db: Path) -> Iterator[str]:
    """What capturing a listing page runs: a 304, a page with a new card among known ones (and a
    card without a permalink), an old copy placed in history, the crawler's page state, search."""
    with Store(db) as store:
        site, source, last_id = store.conn.execute(
            "SELECT site, source, id FROM capture WHERE page_url = ? ORDER BY id DESC LIMIT 1", (SITE_URL,)
        ).fetchone()
        rows = store.conn.execute(
            "SELECT v.title, v.url, v.categories, v.tags, v.date, v.excerpt FROM sighting s"
            " JOIN entry_version v ON v.id = s.version_id WHERE s.capture_id = ? ORDER BY s.position",
            (last_id,),
        ).fetchall()
        known = [Card(t, u, tuple(names_of(c)), tuple(names_of(g)), d, e) for t, u, c, g, d, e in rows]
        assert len(known) > 1
        new = Card(title="A new post", url=f"{SITE_URL}posts/new", excerpt="注意力 at scale")
        unlinked = Card(title="A post shown without a link", excerpt="Its text is its key.")
        edited = Card(known[0].title, known[0].url, known[0].categories, (), known[0].date, "An old text")

        def page(at: str, cards: list[Card] | None) -> None:
            repeats = None if cards else last_id  # no cards: a 304, the page as last captured
            record = CaptureRecord(site, source, "html", at, None, repeats_capture_id=repeats)
            ingest(store, record, None, cards)

        def state() -> None:
            store.page_state(source)
            store.save_page_state(site, PageState(source, '"e"', None, None, len(known)), last_id)

        yield from traced(store, lambda: page(LATER, None))
        yield from traced(store, lambda: page(LATER, [new, *known, unlinked]))
        yield from traced(store, lambda: page("2000-01-01T00:00:00Z", [edited]))
        yield from traced(store, state)
        yield from traced(store, lambda: store.last_capture_of(source))
        yield from traced(store, lambda: store.search("注意力"))
        yield from traced(store, store.index_pending)


def test_the_capture_path_is_traced(archive: Path) -> None:
    """The trace holds what the checks below must see (else they would pass on nothing)."""
    statements = " ".join(capture_statements(archive))
    for wanted in ("INSERT INTO sighting", "UPDATE entry_version", "FROM capture", "MATCH", "INTO entry_fts"):
        assert wanted in statements


def test_no_statement_of_a_capture_scans_a_big_table(archive: Path) -> None:
    statements = list(capture_statements(archive))
    with closing(sqlite3.connect(archive)) as conn:
        scanning = {s: full_scans(conn, s) for s in statements if full_scans(conn, s)}
    assert not scanning, scanning


@pytest.mark.parametrize("query", SQL_BLOCKS)
def test_no_readme_query_scans_a_big_table(archive: Path, query: str) -> None:
    with closing(sqlite3.connect(archive)) as conn:
        assert conn.execute(query).fetchall()
        assert full_scans(conn, query) == []


def test_a_dropped_index_is_seen(archive: Path) -> None:
    """The check itself: without its index, finding the last capture of a URL scans capture."""
    lookup = "SELECT max(id) FROM capture WHERE source = 'http://blog.fixture.test/'"
    with closing(sqlite3.connect(archive)) as conn:
        assert full_scans(conn, lookup) == []
        conn.execute("DROP INDEX capture_source")
    with closing(sqlite3.connect(archive)) as conn:  # a plan once made is kept by the connection
        assert full_scans(conn, lookup) == ["SEARCH capture (capture)"]


def _steps_to_store_a_page(store: Store, page: bytes, at: str) -> int:
    """SQLite virtual-machine steps (in thousands) that storing one new page of the site takes."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    store.conn.set_progress_handler(count, 1000)
    try:
        record = CaptureRecord(site="s", source="https://s/", kind="html", captured_at=at, sha256=None)
        sha256 = hashlib.sha256(page).hexdigest()
        ingest(store, replace(record, sha256=sha256, page_url="https://s/"), page, [Card(url="https://s/p")])
    finally:
        store.conn.set_progress_handler(None, 0)
    return steps


def test_pages_answered_304_are_not_walked_through_to_store_the_next_page(tmp_path: Path) -> None:
    """Between two pages with a body a crawl may record thousands of 304s of the same URL: finding
    the dictionary the next page is compressed with must not read them all."""
    page = ("<html><body>" + "<p>a paragraph of the page</p>" * 200 + "</body></html>").encode()
    costs = []
    for repeats in (10, 3000):
        with Store(tmp_path / f"{repeats}.db") as store:
            _steps_to_store_a_page(store, page, "2026-01-01T00:00:00Z")
            for n in range(repeats):  # the same URL answering 304, hour after hour
                at = f"2026-01-{2 + n // 1440:02d}T{n // 60 % 24:02d}:{n % 60:02d}:00Z"
                record = CaptureRecord(
                    site="s", source="https://s/", kind="html", captured_at=at, sha256=None
                )
                ingest(store, replace(record, page_url="https://s/", http_status=304), None, None)
            costs.append(_steps_to_store_a_page(store, page.replace(b"a paragraph", b"one paragraph"), LATER))
    assert costs[1] <= 1.5 * costs[0] + 2, costs
