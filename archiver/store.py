"""The SQLite archive: every SQL statement of the project lives here (the schema in schema.sql).

The store knows tables, not rules: :mod:`archiver.pipeline` decides what a card means and calls
these methods inside one transaction per capture.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import sqlite_utils
import zstandard

from archiver.dbfile import explain, reading_uri, unreadable_version
from archiver.errors import InputError, StoreError
from archiver.models import CARD_FIELDS, RobotsFile

#: Bumped whenever schema.sql changes in a way an existing file must be migrated for.
SCHEMA_VERSION = 2

#: What brings an archive of version N - 1 to version N, beyond what schema.sql's IF NOT EXISTS
#: adds by itself (new tables, indexes, triggers). Run in order, with schema.sql, in one
#: transaction: an upgrade that fails or is killed leaves the archive at its old version.
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    2: (
        "ALTER TABLE capture ADD COLUMN repeats_capture_id INTEGER REFERENCES capture (id)",
        # the full-text index now follows entry.current_version_id: history may hold versions
        # placed before the current one, which the old per-insert triggers would have indexed
        "DROP TRIGGER IF EXISTS entry_version_indexed",
        "DROP TRIGGER IF EXISTS entry_version_reindexed",
    ),
}

_ZSTD_LEVEL = 3
_compressor = zstandard.ZstdCompressor(level=_ZSTD_LEVEL)
_decompressor = zstandard.ZstdDecompressor()
_VERSION_COLUMNS = ", ".join(CARD_FIELDS)
#: One more sighting at :at in capture :cid. Captures may come out of time order (old saved
#: copies imported late), so first and last seen only ever move outwards.
_SEEN_AGAIN = (
    "seen_count = seen_count + 1,"
    " last_capture_id = CASE WHEN :at >= last_seen_at THEN :cid ELSE last_capture_id END,"
    " last_seen_at = max(last_seen_at, :at),"
    " first_capture_id = CASE WHEN :at < first_seen_at THEN :cid ELSE first_capture_id END,"
    " first_seen_at = min(first_seen_at, :at)"
)


#: Sum up a version's first/last seen and count from its sightings (after they were moved).
_RECOUNT = """
UPDATE entry_version SET
    seen_count = agg.n, first_seen_at = agg.first_at, last_seen_at = agg.last_at,
    first_capture_id = agg.first_id, last_capture_id = agg.last_id
FROM (
    SELECT count(*) AS n, min(c.captured_at) AS first_at, max(c.captured_at) AS last_at,
           (SELECT c2.id FROM sighting s2 JOIN capture c2 ON c2.id = s2.capture_id
            WHERE s2.version_id = :vid ORDER BY c2.captured_at, c2.id LIMIT 1) AS first_id,
           (SELECT c2.id FROM sighting s2 JOIN capture c2 ON c2.id = s2.capture_id
            WHERE s2.version_id = :vid ORDER BY c2.captured_at DESC, c2.id DESC LIMIT 1) AS last_id
    FROM sighting s JOIN capture c ON c.id = s.capture_id WHERE s.version_id = :vid
) AS agg
WHERE entry_version.id = :vid AND agg.n > 0
"""


def schema_sql() -> str:
    """schema.sql: packaged next to the code in a wheel, at the repository root in a checkout."""
    packaged = resources.files("archiver").joinpath("schema.sql")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parent.parent / "schema.sql").read_text(encoding="utf-8")


@dataclass(frozen=True, slots=True)
class CaptureRecord:
    """The facts about one capture that are known before its cards are applied."""

    site: str
    source: str
    kind: str
    captured_at: str
    sha256: str | None
    page_url: str | None = None
    http_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    parsed_with: str | None = None
    #: how the bytes were read, so that reparse reads them the same way
    charset: str | None = None
    encoding: str | None = None
    chrome_lines: tuple[str, ...] = ()
    #: for a page not parsed (304, same bytes): the capture whose cards it shows again
    repeats_capture_id: int | None = None


@dataclass(frozen=True, slots=True)
class StoredCapture:
    """A capture as archived: its facts and how many cards it gave (for reparse)."""

    capture_id: int
    record: CaptureRecord
    cards: int


@dataclass(frozen=True, slots=True)
class PreviousCapture:
    capture_id: int
    sha256: str | None


@dataclass(slots=True)
class CurrentVersion:
    """An entry's current version, as the pipeline needs it for comparison."""

    entry_id: int
    version_id: int
    version: int
    fields: dict[str, str | None]
    digest: str
    first_seen_at: str
    last_seen_at: str


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """One version of an entry, as placing an old capture in its history needs it."""

    version_id: int
    version: int
    fields: dict[str, str | None]
    first_seen_at: str
    last_seen_at: str
    last_capture_id: int


@dataclass(frozen=True, slots=True)
class PageState:
    """What the last crawl learnt about one listing page URL."""

    url: str
    etag: str | None
    last_modified: str | None
    sha256: str | None
    last_cards: int | None
    #: the capture that last saved this state (a 304 re-sees what that capture saw)
    last_capture_id: int | None = None


@dataclass(frozen=True, slots=True)
class CrawlDebt:
    """What a crawl that failed or was killed part-way still owes (see :mod:`archiver.stopping`)."""

    #: the first page the cut-short crawl did not store (where the owed posts were then)
    owed_page: int
    #: known posts the next crawl must see before a page of known posts may end it
    known_cards: int
    #: when the posts first went owed
    since: str


class Store:
    """One open archive file. Use as a context manager, or call :meth:`close`.

    ``create`` makes a missing or empty file a new archive (import, crawl, backfill); without it
    the file must be an archive already (reparse). ``read_only`` (the reading commands) opens an
    archive so that nothing is created or changed, not even a schema or SQLite's -wal and -shm.
    """

    def __init__(self, path: Path | str, *, create: bool = True, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.create = create
        if (read_only or not create) and not self.path.exists():
            raise StoreError(f"{self.path}: no such archive (run `archiver import` first)")
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a directory, not a database file")
        try:
            if read_only:
                conn = sqlite3.connect(reading_uri(self.path), uri=True, isolation_level=None, timeout=30)
            else:
                conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        except sqlite3.Error as exc:
            raise self.error(exc) from None
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        try:
            with self._errors():
                self._open()
        except BaseException:
            conn.close()
            raise

    def _open(self) -> None:
        """Check the file is an archive this code knows; a writer brings an older one up to date."""
        if self.read_only:
            self.conn.execute("PRAGMA query_only = ON")
        self.conn.execute("PRAGMA foreign_keys = ON")
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        #: the schema version the file had when opened (before any upgrade; 0 for a new file)
        self.found_version = int(version)
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: made by a newer archiver (schema {version}, this one knows "
                f"{SCHEMA_VERSION}); upgrade archiver to use it"
            )
        if version < SCHEMA_VERSION:
            tables = {row[0] for row in self.conn.execute("SELECT name FROM sqlite_master")}
            if tables and "entry_version" not in tables:
                raise StoreError(f"{self.path}: is an SQLite database, but not an archiver archive")
            if self.read_only or not (tables or self.create):
                raise StoreError(
                    unreadable_version(self.path, version, SCHEMA_VERSION, has_tables=bool(tables))
                )
            self._create_schema(version, has_tables=bool(tables))
        if not self.read_only:
            self.conn.execute("PRAGMA synchronous = NORMAL")

    def _create_schema(self, version: int, *, has_tables: bool) -> None:
        """Create the schema in a new file, or upgrade an older archive, in one transaction."""
        # version 0 with tables: a 0.1.0 archive killed before it was stamped (it is version 1)
        steps = [step for v in range(max(version, 1) + 1, SCHEMA_VERSION + 1) for step in _MIGRATIONS[v]]
        script = ";\n".join(steps if has_tables else [])
        self.conn.execute("PRAGMA journal_mode = WAL")
        try:
            self.conn.executescript(
                f"BEGIN IMMEDIATE; {script}; {schema_sql()}; PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
            )
        except BaseException:
            self._roll_back()
            raise

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def error(self, exc: sqlite3.Error, where: str | None = None) -> StoreError:
        """An SQLite failure as one message naming the file (and the row, where one is given)."""
        said = explain(exc, reading=self.read_only)
        return StoreError(f"{self.path}: {where}: {said}" if where else f"{self.path}: {said}")

    @contextmanager
    def _errors(self, row: str | None = None) -> Iterator[None]:
        """Turn SQLite's failures into one clear message naming the file.

        With ``row`` (e.g. "capture 12") the block decodes what that row holds (JSON, zstd): a
        value that does not decode is a damaged archive, named with the row, not a bug.
        """
        damaged: tuple[type[Exception], ...] = (ValueError,) if row else ()
        try:
            yield
        except sqlite3.Error as exc:
            raise self.error(exc, row) from None
        except damaged as exc:
            raise StoreError(
                f"{self.path}: {row} is damaged ({exc}); restore the archive from a backup"
            ) from None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One capture, all or nothing: a crash leaves the file as after the last commit.

        On any failure the transaction is rolled back if it is still open (SQLite ends it by
        itself on some errors, such as a full disk), and a failing rollback never hides the
        error that caused it.
        """
        with self._errors():
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield
                self.conn.execute("COMMIT")
            except BaseException:
                self._roll_back()
                raise

    def _roll_back(self) -> None:
        """Undo the open transaction, if SQLite has not ended it already; never raise.

        The failure that got here is the one to report: a rollback that fails too (the disk is
        gone) must not replace it, and closing the connection discards the transaction anyway.
        """
        if self.conn.in_transaction:
            with suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")

    # -- raw bytes -------------------------------------------------------------------------

    def put_blob(self, sha256: str, data: bytes) -> bool:
        """Store bytes once per sha256; True when they were new."""
        if self.conn.execute("SELECT 1 FROM blob WHERE sha256 = ?", (sha256,)).fetchone():
            return False
        self.conn.execute(
            "INSERT INTO blob (sha256, size, compression, data) VALUES (?, ?, 'zstd', ?)",
            (sha256, len(data), _compressor.compress(data)),
        )
        return True

    def get_blob(self, sha256: str) -> bytes:
        """The bytes stored under ``sha256``; missing or damaged ones (not zstd, other bytes than
        the hash says) are a StoreError naming the captures that stored them."""
        with self._errors():
            row = self.conn.execute("SELECT data FROM blob WHERE sha256 = ?", (sha256,)).fetchone()
        try:
            if row is None:
                raise ValueError("it is missing")
            data = bytes(_decompressor.decompress(row[0]))
        except zstandard.ZstdError as exc:
            problem = f"not zstd data: {exc}"
        except ValueError as exc:
            problem = str(exc)
        else:
            if hashlib.sha256(data).hexdigest() == sha256:
                return data
            problem = "its bytes do not have that sha256"
        with self._errors():
            users = [r[0] for r in self.conn.execute("SELECT id FROM capture WHERE sha256 = ?", (sha256,))]
        raise StoreError(
            f"{self.path}: the stored page of capture {', '.join(map(str, users)) or '(none)'} "
            f"(blob {sha256}) is damaged ({problem}); restore the archive from a backup"
        )

    # -- captures --------------------------------------------------------------------------

    def insert_capture(self, record: CaptureRecord) -> int:
        cursor = self.conn.execute(
            "INSERT INTO capture (site, source, page_url, kind, captured_at, http_status, etag,"
            " last_modified, sha256, parsed_with, charset, encoding, chrome_lines, repeats_capture_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.site,
                record.source,
                record.page_url,
                record.kind,
                record.captured_at,
                record.http_status,
                record.etag,
                record.last_modified,
                record.sha256,
                record.parsed_with,
                record.charset,
                record.encoding,
                json.dumps(list(record.chrome_lines), ensure_ascii=False) if record.chrome_lines else None,
                record.repeats_capture_id,
            ),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def finish_capture(self, capture_id: int, cards: int, new_entries: int, new_versions: int) -> None:
        self.conn.execute(
            "UPDATE capture SET cards = ?, new_entries = ?, new_versions = ? WHERE id = ?",
            (cards, new_entries, new_versions, capture_id),
        )

    def captures(self) -> Iterator[StoredCapture]:
        """Every capture in the order it was archived; parsed_with is None where nothing was parsed."""
        with self._errors():
            rows = self.conn.execute(
                "SELECT id, site, source, kind, captured_at, sha256, page_url, parsed_with, charset,"
                " encoding, chrome_lines, repeats_capture_id, cards FROM capture ORDER BY id"
            ).fetchall()
        for row in rows:
            with self._errors(f"capture {row[0]} ({row[2]})"):
                chrome_lines = _chrome_lines(row[10])
            yield StoredCapture(
                row[0],
                CaptureRecord(
                    site=row[1],
                    source=row[2],
                    kind=row[3],
                    captured_at=row[4],
                    sha256=row[5],
                    page_url=row[6],
                    parsed_with=row[7],
                    charset=row[8],
                    encoding=row[9],
                    chrome_lines=chrome_lines,
                    repeats_capture_id=row[11],
                ),
                row[12],
            )

    def last_capture_of(self, source: str) -> PreviousCapture | None:
        """The newest capture of a file or URL, with the bytes it showed (a 304 shows the last body)."""
        row = self.conn.execute(
            "SELECT max(id), (SELECT sha256 FROM capture WHERE source = :s AND sha256 IS NOT NULL"
            " ORDER BY id DESC LIMIT 1) FROM capture WHERE source = :s",
            {"s": source},
        ).fetchone()
        if row[0] is None:
            return None
        return PreviousCapture(row[0], row[1])

    def set_parsed_with(self, capture_id: int, parsed_with: str) -> None:
        self.conn.execute("UPDATE capture SET parsed_with = ? WHERE id = ?", (parsed_with, capture_id))

    def forget_entries(self) -> None:
        """Drop every entry and version (inside a transaction) so captures can be applied anew."""
        for statement in (
            "DELETE FROM sighting",
            "DELETE FROM possible_duplicate",
            "UPDATE entry SET current_version_id = NULL",
            "INSERT INTO entry_fts (entry_fts) VALUES ('delete-all')",
            "DELETE FROM entry_version",
            "DELETE FROM entry",
        ):
            self.conn.execute(statement)

    # -- entries and versions --------------------------------------------------------------

    def _current(self, where: str, params: Sequence[Any]) -> list[tuple[str, CurrentVersion]]:
        rows = self.conn.execute(
            f"SELECT e.key, e.id, v.id, v.version, {_VERSION_COLUMNS}, v.digest, v.first_seen_at,"
            " v.last_seen_at"
            " FROM entry e JOIN entry_version v ON v.id = e.current_version_id"
            f" WHERE {where}",
            params,
        ).fetchall()
        found = []
        for row in rows:
            values = dict(zip(CARD_FIELDS, row[4 : 4 + len(CARD_FIELDS)], strict=True))
            found.append((row[0], CurrentVersion(row[1], row[2], row[3], values, *row[-3:])))
        return found

    def versions_of(self, entry_id: int) -> list[StoredVersion]:
        """Every version of an entry, oldest first."""
        rows = self.conn.execute(
            f"SELECT id, version, {_VERSION_COLUMNS}, first_seen_at, last_seen_at, last_capture_id"
            " FROM entry_version WHERE entry_id = ? ORDER BY version",
            (entry_id,),
        ).fetchall()
        return [
            StoredVersion(row[0], row[1], dict(zip(CARD_FIELDS, row[2:-3], strict=True)), *row[-3:])
            for row in rows
        ]

    def earlier_versions(self, entry_id: int, version: int) -> list[tuple[int, dict[str, str | None]]]:
        """(version id, fields) of an entry's versions before ``version``, newest first."""
        rows = self.conn.execute(
            f"SELECT id, {_VERSION_COLUMNS} FROM entry_version WHERE entry_id = ? AND version < ?"
            " ORDER BY version DESC",
            (entry_id, version),
        ).fetchall()
        return [(row[0], dict(zip(CARD_FIELDS, row[1:], strict=True))) for row in rows]

    def url_entries(self, site: str, keys: Sequence[str]) -> dict[str, CurrentVersion]:
        """Current versions of the url-keyed entries among ``keys``, by key."""
        found: dict[str, CurrentVersion] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            found.update(
                self._current(f"e.site = ? AND e.key_kind = 'url' AND e.key IN ({marks})", [site, *chunk])
            )
        return found

    def text_candidates(self, site: str, prefix: str) -> list[CurrentVersion]:
        """Text-keyed entries whose key prefix equals ``prefix``: the only ones a cut can match."""
        return [
            cv for _, cv in self._current("e.site = ? AND e.key_kind = 'text' AND e.key = ?", [site, prefix])
        ]

    def new_entry(self, site: str, key_kind: str, key: str) -> int:
        cursor = self.conn.execute(
            "INSERT INTO entry (site, key_kind, key) VALUES (?, ?, ?)", (site, key_kind, key)
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def add_version(
        self,
        entry_id: int,
        version: int,
        fields: dict[str, str | None],
        digest: str,
        changed: Sequence[str],
        capture_id: int,
        seen_at: str,
        *,
        current: bool = True,
    ) -> int:
        """A new version row; ``current`` False for one placed in history (see insert_version)."""
        cursor = self.conn.execute(
            f"INSERT INTO entry_version (entry_id, version, {_VERSION_COLUMNS}, changed, digest,"
            " first_seen_at, first_capture_id, last_seen_at, last_capture_id, seen_count)"
            f" VALUES (?, ?, {', '.join('?' * len(CARD_FIELDS))}, ?, ?, ?, ?, ?, ?, 1)",
            (
                entry_id,
                version,
                *(fields.get(name) for name in CARD_FIELDS),
                json.dumps(list(changed), ensure_ascii=False) if changed else None,
                digest,
                seen_at,
                capture_id,
                seen_at,
                capture_id,
            ),
        )
        version_id = cursor.lastrowid
        assert version_id is not None
        if current:
            self.set_current(entry_id, version_id)
        return version_id

    def set_current(self, entry_id: int, version_id: int) -> None:
        self.conn.execute("UPDATE entry SET current_version_id = ? WHERE id = ?", (version_id, entry_id))

    def make_room(self, entry_id: int, version: int) -> None:
        """Number the entry's versions from ``version`` on one higher, so one fits in before them.

        Two steps through negative numbers keep UNIQUE (entry_id, version) true after each.
        """
        self.conn.execute(
            "UPDATE entry_version SET version = -version WHERE entry_id = ? AND version >= ?",
            (entry_id, version),
        )
        self.conn.execute(
            "UPDATE entry_version SET version = 1 - version WHERE entry_id = ? AND version < 0", (entry_id,)
        )

    def set_changed(self, version_id: int, changed: Sequence[str]) -> None:
        """What differs from the version before, after a version was placed in between."""
        self.conn.execute(
            "UPDATE entry_version SET changed = ? WHERE id = ?",
            (json.dumps(list(changed), ensure_ascii=False) if changed else None, version_id),
        )

    def move_sightings_after(self, version_id: int, to_version_id: int, after: str) -> None:
        """Hand the sightings of ``version_id`` by captures taken after ``after`` to another version.

        Splits a version in two when an old copy shows that the entry was in another state in
        between; each version's first/last seen and count are then summed up again from its
        sightings (a version with none left, or one of a capture archived before sightings were
        kept, keeps what it had).
        """
        self.conn.execute(
            "UPDATE sighting SET version_id = :to WHERE version_id = :v"
            " AND capture_id IN (SELECT id FROM capture WHERE captured_at > :after)",
            {"to": to_version_id, "v": version_id, "after": after},
        )
        for vid in (version_id, to_version_id):
            self.conn.execute(_RECOUNT, {"vid": vid})

    def update_version(self, version_id: int, fields: dict[str, str | None], digest: str) -> None:
        """Fill in or lengthen fields of a version in place (enrichment: no new version)."""
        assignments = ", ".join(f"{name} = ?" for name in CARD_FIELDS)
        self.conn.execute(
            f"UPDATE entry_version SET {assignments}, digest = ? WHERE id = ?",
            (*(fields.get(name) for name in CARD_FIELDS), digest, version_id),
        )

    def mark_seen(self, version_ids: Iterable[int], capture_id: int, seen_at: str) -> None:
        """Bookkeeping for versions a capture showed again: the only write an unchanged card costs.

        Captures may be imported out of time order (old saved copies), so first/last seen move
        only outwards.
        """
        self.conn.executemany(
            f"UPDATE entry_version SET {_SEEN_AGAIN} WHERE id = :vid",
            [{"at": seen_at, "cid": capture_id, "vid": vid} for vid in version_ids],
        )

    def add_sightings(self, capture_id: int, shown: Sequence[int]) -> None:
        """The version each card of a capture showed, in page order."""
        self.conn.executemany(
            "INSERT INTO sighting (capture_id, position, version_id) VALUES (?, ?, ?)",
            [(capture_id, position, vid) for position, vid in enumerate(shown)],
        )

    def add_possible_duplicates(self, entry_id: int, similar: Iterable[int], capture_id: int) -> None:
        self.conn.executemany(
            "INSERT OR IGNORE INTO possible_duplicate (entry_id, similar_to_id, capture_id) VALUES (?, ?, ?)",
            [(entry_id, other, capture_id) for other in similar],
        )

    # -- crawl state -----------------------------------------------------------------------

    def page_state(self, url: str) -> PageState | None:
        row = self.conn.execute(
            "SELECT url, etag, last_modified, sha256, last_cards, last_capture_id FROM page WHERE url = ?",
            (url,),
        ).fetchone()
        return PageState(*row) if row else None

    def mark_seen_again(self, repeated_capture_id: int, capture_id: int, seen_at: str) -> int:
        """A page that answered 304, or the same bytes, shows again what ``repeated_capture_id`` showed.

        Its sightings are copied to this capture and their versions counted as seen again, so
        `last_seen_at` stays true for posts still listed on a page that never changes, whatever
        other captures saw in between. A capture archived before sightings were kept has none:
        then the versions it was the last to see stand for what it showed. Returns how many
        cards were seen again.
        """
        params = {"cid": capture_id, "at": seen_at, "previous": repeated_capture_id}
        copied = self.conn.execute(
            "INSERT INTO sighting (capture_id, position, version_id)"
            " SELECT :cid, position, version_id FROM sighting WHERE capture_id = :previous",
            params,
        ).rowcount
        if not copied:
            self.conn.execute(
                "INSERT INTO sighting (capture_id, position, version_id)"
                " SELECT :cid, row_number() OVER (ORDER BY id) - 1, id FROM entry_version"
                " WHERE last_capture_id = :previous",
                params,
            )
        cursor = self.conn.execute(
            f"UPDATE entry_version SET {_SEEN_AGAIN} WHERE id IN"
            " (SELECT version_id FROM sighting WHERE capture_id = :cid)",
            params,
        )
        return copied or cursor.rowcount

    def robots_files(self) -> list[RobotsFile]:
        """Every robots.txt kept from earlier runs (the fetcher decides which are fresh)."""
        rows = self.conn.execute("SELECT origin, body, fetched_at FROM robots_txt").fetchall()
        return [RobotsFile(*row) for row in rows]

    def keep_robots(self, files: Iterable[RobotsFile]) -> None:
        with self.transaction():
            self.conn.executemany(
                "INSERT INTO robots_txt (origin, body, fetched_at) VALUES (?, ?, ?)"
                " ON CONFLICT (origin) DO UPDATE SET body = excluded.body,"
                " fetched_at = excluded.fetched_at",
                [(f.origin, f.body, f.fetched_at) for f in files],
            )

    def site_had_cards(self, site: str) -> bool:
        """Whether any earlier capture of the site gave cards (a zero-card page is then a fault)."""
        return bool(
            self.conn.execute(
                "SELECT 1 FROM capture WHERE site = ? AND cards > 0 LIMIT 1", (site,)
            ).fetchone()
        )

    def save_page_state(self, site: str, state: PageState, capture_id: int) -> None:
        self.conn.execute(
            "INSERT INTO page (url, site, etag, last_modified, sha256, last_cards, last_capture_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET"
            " etag = excluded.etag, last_modified = excluded.last_modified,"
            " sha256 = excluded.sha256, last_cards = excluded.last_cards,"
            " last_capture_id = excluded.last_capture_id",
            (
                state.url,
                site,
                state.etag,
                state.last_modified,
                state.sha256,
                state.last_cards,
                capture_id,
            ),
        )

    def crawl_debt(self, start_url: str) -> CrawlDebt | None:
        with self._errors():
            row = self.conn.execute(
                "SELECT owed_page, known_cards, since FROM crawl_debt WHERE start_url = ?", (start_url,)
            ).fetchone()
        return CrawlDebt(*row) if row else None

    def owe_crawl(self, start_url: str, site: str, debt: CrawlDebt) -> None:
        """Inside the page's capture transaction: the page and what the crawl then owes commit together."""
        self.conn.execute(
            "INSERT INTO crawl_debt (start_url, site, owed_page, known_cards, since) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (start_url) DO UPDATE SET site = excluded.site, owed_page = excluded.owed_page,"
            " known_cards = excluded.known_cards, since = excluded.since",
            (start_url, site, debt.owed_page, debt.known_cards, debt.since),
        )

    def clear_crawl_debt(self, start_url: str) -> None:
        """Inside the capture transaction of the page a crawl ended at."""
        self.conn.execute("DELETE FROM crawl_debt WHERE start_url = ?", (start_url,))

    def open_backfill(self, start_url: str, pages: str, started_at: str, *, restart: bool) -> int:
        """The backfill run to carry on (the newest unfinished one), or a new run.

        ``restart`` closes unfinished runs of the same start URL and range first.
        """
        with self.transaction():
            if restart:
                self.conn.execute(
                    "UPDATE backfill_run SET finished_at = ?, outcome = 'restarted'"
                    " WHERE start_url = ? AND pages = ? AND finished_at IS NULL",
                    (started_at, start_url, pages),
                )
            row = self.conn.execute(
                "SELECT id FROM backfill_run WHERE start_url = ? AND pages = ?"
                " AND finished_at IS NULL ORDER BY id DESC LIMIT 1",
                (start_url, pages),
            ).fetchone()
            if row:
                return int(row[0])
            cursor = self.conn.execute(
                "INSERT INTO backfill_run (start_url, pages, started_at) VALUES (?, ?, ?)",
                (start_url, pages, started_at),
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def backfill_done(self, run_id: int) -> tuple[int, str, str | None] | None:
        """(page_no, url, next_url) of the last page the run stored, None before its first page."""
        with self._errors():
            row = self.conn.execute(
                "SELECT page_no, url, next_url FROM backfill_page WHERE run_id = ?"
                " ORDER BY page_no DESC LIMIT 1",
                (run_id,),
            ).fetchone()
        return (int(row[0]), row[1], row[2]) if row else None

    def add_backfill_page(
        self, run_id: int, page_no: int, url: str, next_url: str | None, capture_id: int
    ) -> None:
        """Inside the page's capture transaction: the page and its progress commit together."""
        self.conn.execute(
            "INSERT OR REPLACE INTO backfill_page (run_id, page_no, url, next_url, capture_id)"
            " VALUES (?, ?, ?, ?, ?)",
            (run_id, page_no, url, next_url, capture_id),
        )

    def finish_backfill(self, run_id: int, finished_at: str) -> None:
        with self._errors():
            self.conn.execute(
                "UPDATE backfill_run SET finished_at = ?, outcome = 'done' WHERE id = ?",
                (finished_at, run_id),
            )

    def unfinished_import(self, request: str) -> tuple[int | None, dict[str, str]]:
        """The unfinished import run asked for with the same ``request``, to carry on, with the
        files (source -> sha256) it stored; (None, {}) when there is none."""
        with self._errors():
            row = self.conn.execute(
                "SELECT id FROM import_run WHERE request = ? AND finished_at IS NULL"
                " ORDER BY id DESC LIMIT 1",
                (request,),
            ).fetchone()
            if row is None:
                return None, {}
            stored = self.conn.execute("SELECT source, sha256 FROM import_file WHERE run_id = ?", (row[0],))
            return int(row[0]), dict(stored.fetchall())

    def new_import(self, request: str, files: int, started_at: str) -> int:
        """Inside the first file's capture transaction: a new import run."""
        cursor = self.conn.execute(
            "INSERT INTO import_run (request, files, started_at) VALUES (?, ?, ?)",
            (request, files, started_at),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def add_import_file(self, run_id: int, source: str, sha256: str, capture_id: int) -> None:
        """Inside the file's capture transaction: the run has stored this file."""
        self.conn.execute(
            "INSERT OR REPLACE INTO import_file (run_id, source, sha256, capture_id) VALUES (?, ?, ?, ?)",
            (run_id, source, sha256, capture_id),
        )

    def finish_import(self, run_id: int, finished_at: str) -> None:
        with self.transaction():
            self.conn.execute("UPDATE import_run SET finished_at = ? WHERE id = ?", (finished_at, run_id))

    # -- reading ---------------------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        with self._errors():
            row = self.conn.execute(
                "SELECT (SELECT count(*) FROM entry), (SELECT count(*) FROM entry_version),"
                " (SELECT count(*) FROM capture), (SELECT coalesce(sum(cards), 0) FROM capture),"
                " (SELECT count(*) FROM blob), (SELECT coalesce(sum(length(data)), 0) FROM blob),"
                " (SELECT count(DISTINCT site) FROM entry),"
                " (SELECT count(*) FROM possible_duplicate)"
            ).fetchone()
        keys = (
            "entries",
            "versions",
            "captures",
            "cards_seen",
            "blobs",
            "blob_bytes",
            "sites",
            "possible_duplicates",
        )
        return dict(zip(keys, row, strict=True))

    def site_stats(self) -> list[dict[str, Any]]:
        """Entries, versions, captures and cards seen per site: identity is per site, so the same
        posts archived under two sites (text snapshots and the live site) are two sets of entries."""
        with self._errors():
            return list(
                self.db.query(
                    "SELECT c.site, (SELECT count(*) FROM entry e WHERE e.site = c.site) AS entries,"
                    " (SELECT count(*) FROM entry_version v JOIN entry e ON e.id = v.entry_id"
                    " WHERE e.site = c.site) AS versions, count(*) AS captures,"
                    " coalesce(sum(c.cards), 0) AS cards_seen FROM capture c GROUP BY c.site ORDER BY c.site"
                )
            )

    def find_entry(self, *, entry_id: int | None = None, url_key: str | None = None) -> int | None:
        """The entry with this id, or with this canonical permalink; None when there is none."""
        with self._errors():
            if entry_id is not None:
                if not 0 <= entry_id < 2**63:  # beyond an SQLite rowid: no such entry
                    return None
                row = self.conn.execute("SELECT id FROM entry WHERE id = ?", (entry_id,)).fetchone()
            else:
                _check_text(url_key or "", "entry")
                row = self.conn.execute(
                    "SELECT id FROM entry WHERE key_kind = 'url' AND key = ?", (url_key,)
                ).fetchone()
        return int(row[0]) if row else None

    def history(self, entry_id: int) -> list[dict[str, Any]]:
        with self._errors():
            return list(
                self.db.query("SELECT * FROM version_history WHERE entry_id = ? ORDER BY version", [entry_id])
            )

    def current_entries(self) -> Iterator[dict[str, Any]]:
        with self._errors():
            yield from self.db.query("SELECT * FROM current_entries ORDER BY entry_id")

    def search(self, text: str, limit: int = 20) -> list[dict[str, Any]]:
        """Current entries whose title or excerpt contains ``text`` (a plain substring, not syntax).

        The text is quoted as one FTS5 phrase, so quotes, AND/OR/NEAR or '*' in it are just
        characters. Trigrams need three characters; shorter strings fall back to a scan.
        """
        _check_text(text, "search text")
        text = text.strip()
        with self._errors():
            if len(text) >= 3:
                phrase = '"' + text.replace('"', '""') + '"'
                return list(
                    self.db.query(
                        "SELECT c.* FROM entry_fts f JOIN current_entries c"
                        " ON c.version_id = f.rowid WHERE entry_fts MATCH ?"
                        " ORDER BY f.rank LIMIT ?",
                        [phrase, limit],
                    )
                )
            pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            return list(
                self.db.query(
                    "SELECT * FROM current_entries WHERE title LIKE :p ESCAPE '\\'"
                    " OR excerpt LIKE :p ESCAPE '\\' ORDER BY entry_id LIMIT :n",
                    {"p": pattern, "n": limit},
                )
            )


def _chrome_lines(stored: str | None) -> tuple[str, ...]:
    """A capture's ``chrome_lines`` column (a JSON array of lines); ValueError when damaged."""
    try:
        lines = json.loads(stored) if stored else []
    except ValueError:
        lines = None
    if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
        raise ValueError(f"its chrome_lines {stored!r:.80} is not a JSON array of lines")
    return tuple(lines)


def _check_text(text: str, what: str) -> None:
    """Text typed by a user must be storable: undecodable bytes in an argument are not."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        shown = text.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
        raise InputError(
            f"{what} {shown!r} is not valid text (undecodable bytes; check the terminal's encoding)"
        ) from None
