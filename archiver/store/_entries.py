"""Captures, entries, versions and sightings: what one capture writes (its raw bytes: _blobs)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from archiver.models import CARD_FIELDS, ProfileText
from archiver.store._profiles import Profiles
from archiver.store._records import (
    CaptureRecord,
    CurrentVersion,
    PreviousCapture,
    StoredCapture,
    StoredVersion,
)

#: A version's fields as stored: a date that is not a day goes to date_text, so that ``date``
#: holds only 'YYYY-MM-DD' and sorts and compares as a date.
_STORED_COLUMNS = "title, url, categories, tags, date, date_text, excerpt"
#: ... and read back as the one ``date`` field the rules compare.
_READ_COLUMNS = "v.title, v.url, v.categories, v.tags, coalesce(v.date, v.date_text), v.excerpt"
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
#: Captures stored between two updates of the full-text index: a batch this size costs a small
#: fraction of indexing each capture in its own transaction, and a crawl or import brings the
#: index up to date at its end anyway.
INDEX_EVERY = 500
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


class Entries(Profiles):
    """The tables a capture fills: capture, entry, entry_version, sighting."""

    # -- captures --------------------------------------------------------------------------

    def insert_capture(self, record: CaptureRecord) -> int:
        """Insert a capture (with the profile it was parsed with, kept once per text)."""
        if record.profile is not None:
            self.put_profile(record.profile)
        cursor = self.conn.execute(
            "INSERT INTO capture (site, source, page_url, kind, captured_at, http_status, etag,"
            " last_modified, sha256, parsed_with, charset, encoding, chrome_lines, repeats_capture_id,"
            " profile_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                record.profile.sha256 if record.profile else None,
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
        rows = self.conn.execute(
            "SELECT id, site, source, kind, captured_at, sha256, page_url, parsed_with, charset,"
            " encoding, chrome_lines, repeats_capture_id, cards, http_status, profile_sha256,"
            " etag, last_modified FROM capture ORDER BY id"
        ).fetchall()
        kept = self.profiles()
        for row in rows:
            with self._errors(f"capture {row[0]} ({row[2]})"):
                chrome_lines = _chrome_lines(row[10])
                profile = _kept_profile(kept, row[14])
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
                    http_status=row[13],
                    etag=row[15],
                    last_modified=row[16],
                    profile=profile,
                ),
                row[12],
            )

    def last_capture_of(self, source: str) -> PreviousCapture | None:
        """The newest capture of a file or URL, with the bytes it showed (a 304 shows the last body)."""
        row = self.conn.execute(
            "SELECT (SELECT max(id) FROM capture WHERE source = :s), sha256, captured_at FROM"
            " (SELECT 1) LEFT JOIN (SELECT sha256, captured_at FROM capture"
            "  WHERE source = :s AND sha256 IS NOT NULL ORDER BY id DESC LIMIT 1)",
            {"s": source},
        ).fetchone()
        if row[0] is None:
            return None
        return PreviousCapture(row[0], row[1], row[2])

    def forget_entries(self) -> None:
        """Drop every entry and version (inside a transaction) so captures can be applied anew."""
        for statement in (
            "DELETE FROM sighting",
            "DELETE FROM possible_duplicate",
            "DELETE FROM event",
            "UPDATE entry SET current_version_id = NULL",
            "INSERT INTO entry_fts (entry_fts) VALUES ('delete-all')",
            "DELETE FROM entry_fts_pending",
            "DELETE FROM entry_version",
            "DELETE FROM entry",
        ):
            self.conn.execute(statement)

    # -- the full-text index -----------------------------------------------------------------

    _captures_since_indexed = 0

    @contextmanager
    def capture_transaction(self) -> Iterator[None]:
        """The transaction of one capture: what it writes and its run's bookkeeping commit
        together, and every :data:`INDEX_EVERY` captures the search index is brought up to date."""
        with self.transaction():
            yield
        self.index_if_due()

    def index_if_due(self) -> None:
        """Count one stored capture; every :data:`INDEX_EVERY` bring the search index up to date."""
        self._captures_since_indexed += 1
        if self._captures_since_indexed >= INDEX_EVERY:
            self.index_pending()

    def index_pending(self) -> int:
        """Index the posts whose text changed since the last time (entry_fts_pending), in one
        transaction; returns how many. Cheap when nothing waits."""
        self._captures_since_indexed = 0
        if not self.conn.execute("SELECT EXISTS (SELECT 1 FROM entry_fts_pending)").fetchone()[0]:
            return 0
        with self.transaction():
            self.conn.execute(
                "INSERT INTO entry_fts (entry_fts, rowid, title, excerpt)"
                " SELECT 'delete', entry_id, title, excerpt FROM entry_fts_pending WHERE indexed"
            )
            self.conn.execute(
                "INSERT INTO entry_fts (rowid, title, excerpt) SELECT e.id, e.title, e.excerpt"
                " FROM entry_fts_pending p JOIN entry e ON e.id = p.entry_id"
            )
            return self.conn.execute("DELETE FROM entry_fts_pending").rowcount

    def __exit__(self, *exc: object) -> None:
        """Leaving the ``with`` block of a writer that did not fail brings the index up to date."""
        try:
            if exc[0] is None and not (self.read_only or self.closed):
                self.index_pending()
        finally:
            self.close()

    # -- entries and versions --------------------------------------------------------------

    def _current(self, where: str, params: Sequence[Any]) -> list[tuple[str, CurrentVersion]]:
        rows = self.conn.execute(
            f"SELECT e.key, e.id, v.id, v.version, {_READ_COLUMNS}, v.digest, v.first_seen_at,"
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
            f"SELECT v.id, v.version, {_READ_COLUMNS}, v.first_seen_at, v.last_seen_at, v.last_capture_id"
            " FROM entry_version v WHERE v.entry_id = ? ORDER BY v.version",
            (entry_id,),
        ).fetchall()
        return [
            StoredVersion(row[0], row[1], dict(zip(CARD_FIELDS, row[2:-3], strict=True)), *row[-3:])
            for row in rows
        ]

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

    def new_entry(self, site: str, key_kind: str, key: str, seen_at: str) -> int:
        """A new post, first seen at ``seen_at`` (its first version follows)."""
        cursor = self.conn.execute(
            "INSERT INTO entry (site, key_kind, key, first_seen_at) VALUES (?, ?, ?, ?)",
            (site, key_kind, key, seen_at),
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
            f"INSERT INTO entry_version (entry_id, version, {_STORED_COLUMNS}, changed, digest,"
            " first_seen_at, first_capture_id, last_seen_at, last_capture_id, seen_count)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
            (
                entry_id,
                version,
                *_stored(fields),
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

    def sightings_after(self, version_id: int, after: str) -> list[tuple[int, int, int | None]]:
        """(capture id, position, fields shown) of a version's sightings by captures taken after
        ``after``."""
        return self.conn.execute(
            "SELECT s.capture_id, s.position, s.fields FROM sighting s JOIN capture c"
            " ON c.id = s.capture_id WHERE s.version_id = ? AND c.captured_at > ?",
            (version_id, after),
        ).fetchall()

    def move_sightings(self, rows: Sequence[tuple[int, int]], to_version_id: int) -> None:
        """Hand sightings (capture id, position) to another version, counting them there.

        Splits a version when an old copy shows that the entry was in another state in between;
        the version they leave is summed up again from the sightings it keeps (:meth:`recount`).
        """
        self.conn.executemany(
            "UPDATE sighting SET version_id = ? WHERE capture_id = ? AND position = ?",
            [(to_version_id, cid, position) for cid, position in rows],
        )
        self.conn.executemany(
            f"UPDATE entry_version SET {_SEEN_AGAIN} WHERE id = :vid",
            [
                {"vid": to_version_id, "cid": cid, "at": at}
                for cid, at in self.conn.execute(
                    f"SELECT id, captured_at FROM capture WHERE id IN ({', '.join('?' * len(rows))})",
                    [cid for cid, _ in rows],
                ).fetchall()
            ]
            if rows
            else [],
        )

    def recount(self, version_id: int) -> None:
        """Sum up a version's first/last seen and count from its sightings (a version with none,
        as one of a capture archived before sightings were kept, keeps what it had)."""
        self.conn.execute(_RECOUNT, {"vid": version_id})

    def update_version(self, version_id: int, fields: dict[str, str | None], digest: str) -> None:
        """Fill in or lengthen fields of a version in place (enrichment: no new version)."""
        self.conn.execute(
            f"UPDATE entry_version SET ({_STORED_COLUMNS}, digest) = (?, ?, ?, ?, ?, ?, ?, ?) WHERE id = ?",
            (*_stored(fields), digest, version_id),
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

    def add_sightings(self, capture_id: int, shown: Sequence[tuple[int, int]]) -> None:
        """The version each card of a capture showed and which fields it showed, in page order."""
        self.conn.executemany(
            "INSERT INTO sighting (capture_id, position, version_id, fields) VALUES (?, ?, ?, ?)",
            [(capture_id, position, vid, mask) for position, (vid, mask) in enumerate(shown)],
        )

    def add_possible_duplicates(self, entry_id: int, similar: Iterable[int], capture_id: int) -> None:
        self.conn.executemany(
            "INSERT OR IGNORE INTO possible_duplicate (entry_id, similar_to_id, capture_id) VALUES (?, ?, ?)",
            [(entry_id, other, capture_id) for other in similar],
        )

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
            "INSERT INTO sighting (capture_id, position, version_id, fields)"
            " SELECT :cid, position, version_id, fields FROM sighting WHERE capture_id = :previous",
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


def _stored(fields: dict[str, str | None]) -> tuple[str | None, ...]:
    """A version's fields in the order of :data:`_STORED_COLUMNS`."""
    date = fields.get("date")
    day = date if date is None or _DAY.fullmatch(date) else None
    return (
        *(fields.get(name) for name in ("title", "url", "categories", "tags")),
        day,
        None if day is not None else date,
        fields.get("excerpt"),
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


def _kept_profile(kept: dict[str, ProfileText], sha256: str | None) -> ProfileText | None:
    """The stored profile a capture names; one it names that is not stored is damage."""
    if sha256 is None:
        return None
    if sha256 not in kept:
        raise ValueError(f"its profile {sha256} is missing")
    return kept[sha256]
