"""History follows the time captures were taken, not the order they arrive (SPEC 4).

Captures are cards with permalinks stored through the library (`ingest`) into a real archive
file; each test states the true timeline and checks the archive tells it, whatever the order
the captures were imported in.
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.ingest import ingest
from archiver.models import Card
from archiver.store import CaptureRecord, Store

SITE = "blog.example"
POSTS = 4


def _url(post: int) -> str:
    return f"https://{SITE}/posts/{post}/"


def _cards(states: dict[int, str]) -> list[Card]:
    return [Card(title=f"Post: {title}", url=_url(post)) for post, title in sorted(states.items())]


def _at(hour: int) -> str:
    return f"2026-01-{1 + hour // 24:02d}T{hour % 24:02d}:00:00Z"


def _store(store: Store, hour: int, cards: list[Card], source: str = "page") -> None:
    data = f"{hour}:{cards!r}".encode()
    record = CaptureRecord(
        site=SITE, source=source, kind="html", captured_at=_at(hour), sha256=hashlib.sha256(data).hexdigest()
    )
    ingest(store, record, data, cards)


def _timelines(db: Path) -> dict[str, list[tuple[str, str, str]]]:
    """Every entry's versions, oldest first: (title, first seen, last seen)."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT url, title, first_seen_at, last_seen_at FROM version_history ORDER BY entry_id, version"
        ).fetchall()
    found: dict[str, list[tuple[str, str, str]]] = {}
    for url, title, first, last in rows:
        found.setdefault(url, []).append((title, first, last))
    return found


def _current(db: Path) -> dict[str, str]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT url, title FROM current_entries").fetchall())


def _check_consistent(db: Path) -> None:
    """Versions numbered 1..n, the newest current, the search index on current titles only."""
    with sqlite3.connect(db) as conn:
        for entry_id, current in conn.execute("SELECT id, current_version_id FROM entry"):
            numbers = [
                row[0]
                for row in conn.execute(
                    "SELECT version FROM entry_version WHERE entry_id = ? ORDER BY version", (entry_id,)
                )
            ]
            assert numbers == list(range(1, len(numbers) + 1))
            newest = conn.execute(
                "SELECT id FROM entry_version WHERE entry_id = ? AND version = ?", (entry_id, numbers[-1])
            ).fetchone()[0]
            assert current == newest
        conn.execute("INSERT INTO entry_fts (entry_fts) VALUES ('integrity-check')")
        # every title holds "ost" ("post", "Post"): what the index holds, not the content table
        indexed = {row[0] for row in conn.execute("SELECT rowid FROM entry_fts WHERE entry_fts MATCH 'ost'")}
        assert indexed == {row[0] for row in conn.execute("SELECT id FROM entry")}
        for entry_id, title in conn.execute("SELECT id, title FROM entry").fetchall():
            phrase = '"' + title.replace('"', '""') + '"'
            hits = {
                row[0]
                for row in conn.execute("SELECT rowid FROM entry_fts WHERE entry_fts MATCH ?", (phrase,))
            }
            assert entry_id in hits


def test_an_old_copy_imported_late_is_history_not_the_present(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    with Store(db) as store:
        _store(store, 10, _cards({1: "Renamed"}))
        _store(store, 2, _cards({1: "Original"}))  # an old saved copy, imported afterwards
        _store(store, 11, _cards({1: "Renamed"}))  # the next crawl: no revert happened
    assert _timelines(db)[_url(1)] == [
        ("Post: Original", _at(2), _at(2)),
        ("Post: Renamed", _at(10), _at(11)),
    ]
    assert _current(db) == {_url(1): "Post: Renamed"}
    _check_consistent(db)


def test_an_old_copy_between_two_sightings_splits_the_state_around_it(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    with Store(db) as store:
        for hour in (1, 2, 8, 9):
            _store(store, hour, _cards({1: "A"}))
        _store(store, 5, _cards({1: "B"}))  # the post was B for a while; this copy shows it
    assert _timelines(db)[_url(1)] == [
        ("Post: A", _at(1), _at(2)),
        ("Post: B", _at(5), _at(5)),
        ("Post: A", _at(8), _at(9)),
    ]
    with sqlite3.connect(db) as conn:
        changed = [row[0] for row in conn.execute("SELECT changed FROM version_history ORDER BY version")]
    assert changed == [None, '["title"]', '["title"]']
    _check_consistent(db)


def _history(changes: list[tuple[int, int, str]], hours: int) -> list[tuple[int, list[Card]]]:
    """Hourly captures of one page of POSTS posts whose titles change at the given hours."""
    titles = {post: f"post {post} v0" for post in range(POSTS)}
    captures = []
    for hour in range(hours):
        for at, post, title in changes:
            if at == hour:
                titles[post] = title
        captures.append((hour, _cards(titles)))
    return captures


def _expected(captures: list[tuple[int, list[Card]]]) -> dict[str, list[tuple[str, str, str]]]:
    """Each post's states in time order, consecutive equal states merged, with their span."""
    found: dict[str, list[tuple[str, str, str]]] = {}
    for hour, cards in captures:
        for card in cards:
            assert card.url is not None and card.title is not None
            states = found.setdefault(card.url, [])
            if states and states[-1][0] == card.title:
                states[-1] = (card.title, states[-1][1], _at(hour))
            else:
                states.append((card.title, _at(hour), _at(hour)))
    return found


@settings(max_examples=40, deadline=None)
@given(
    changes=st.lists(
        st.tuples(st.integers(1, 30), st.integers(0, POSTS - 1), st.sampled_from(["A", "B", "C"])),
        max_size=8,
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_import_order_tells_the_same_history(
    tmp_path_factory: object, changes: list[tuple[int, int, str]], seed: int
) -> None:
    captures = _history(changes, 32)
    order = list(captures)
    random.Random(seed).shuffle(order)
    db = Path(str(tmp_path_factory.mktemp("order"))) / "a.db"  # type: ignore[attr-defined]
    with Store(db) as store:
        for hour, cards in order:
            _store(store, hour, cards, source=f"copy-{hour}")
    assert _timelines(db) == _expected(captures)
    _check_consistent(db)


def test_newest_first_import_of_many_captures_gives_the_true_current_versions(tmp_path: Path) -> None:
    rng = random.Random(20261201)
    changes = [(rng.randrange(1, 150), rng.randrange(POSTS), rng.choice("ABCD")) for _ in range(60)]
    captures = _history(changes, 150)
    db = tmp_path / "a.db"
    with Store(db) as store:
        for hour, cards in reversed(captures):
            _store(store, hour, cards, source=f"copy-{hour}")
    expected = _expected(captures)
    assert _timelines(db) == expected
    assert _current(db) == {url: states[-1][0] for url, states in expected.items()}
    _check_consistent(db)


def test_a_later_sighting_that_did_not_show_the_changed_field_is_the_new_states(tmp_path: Path) -> None:
    """Found by fuzzing: a card that does not show the date says nothing about it, so a state
    with another date placed before it does not make the old date current again."""
    db = tmp_path / "a.db"
    url = _url(1)
    with Store(db) as store:
        _store(store, 0, [Card(title="Post: A", url=url, date="2025-12-01")])
        _store(store, 30, [Card(title="Post: A", url=url)])  # no date shown
        _store(store, 20, [Card(title="Post: A", url=url, date="2025-12-03")])  # an old copy
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT version, date, first_seen_at, last_seen_at, is_current FROM version_history"
        ).fetchall()
    assert rows == [
        (1, "2025-12-01", _at(0), _at(0), 0),
        (2, "2025-12-03", _at(20), _at(30), 1),
    ]
    _check_consistent(db)
