"""The queries of the reading commands: counts, one entry's history, search, export."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from archiver.errors import InputError
from archiver.models import names_of
from archiver.store._connection import Connection


class Reading(Connection):
    """What `stats`, `history`, `search` and `export` ask."""

    # -- reading ---------------------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        row = self.conn.execute(
            "SELECT (SELECT count(*) FROM entry), (SELECT count(*) FROM entry_version),"
            " (SELECT count(*) FROM capture), (SELECT coalesce(sum(cards), 0) FROM capture),"
            " (SELECT count(*) FROM blob), (SELECT coalesce(sum(length(data)), 0) FROM blob)"
            " + (SELECT coalesce(sum(length(data)), 0) FROM blob_dictionary),"
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
        """Every version of an entry, oldest first; categories and tags as lists of names."""
        rows = list(
            self.db.query("SELECT * FROM version_history WHERE entry_id = ? ORDER BY version", [entry_id])
        )
        return [self._with_lists(row, f"entry {entry_id} version {row['version']}") for row in rows]

    def current_entries(self, *, lists: bool = False) -> Iterator[dict[str, Any]]:
        """Every post as it is now; with ``lists``, categories and tags as lists of names rather
        than the JSON text stored."""
        for row in self.db.query("SELECT * FROM current_entries ORDER BY entry_id"):
            yield self._with_lists(row, f"entry {row['entry_id']}") if lists else row

    def _with_lists(self, row: dict[str, Any], name: str) -> dict[str, Any]:
        """``row`` with its categories and tags decoded; a value that is not a JSON array of names
        is a damaged archive, named with the row."""
        with self._errors(name):
            return {**row, "categories": names_of(row["categories"]), "tags": names_of(row["tags"])}

    def search(self, text: str, limit: int = 20) -> list[dict[str, Any]]:
        """Current entries whose title or excerpt contains ``text`` (a plain substring, not syntax).

        The text is quoted as one FTS5 phrase, so quotes, AND/OR/NEAR or '*' in it are just
        characters. Trigrams need three characters; shorter strings fall back to a scan.
        """
        _check_text(text, "search text")
        text = text.strip()
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        contains = "(c.title LIKE :p ESCAPE '\\' OR c.excerpt LIKE :p ESCAPE '\\')"
        if len(text) < 3:
            return list(
                self.db.query(
                    f"SELECT c.* FROM current_entries c WHERE {contains} ORDER BY c.entry_id LIMIT :n",
                    {"p": pattern, "n": limit},
                )
            )
        # posts whose text changed since the index was last brought up to date are found by
        # their text, and their stale index rows are left out; ordered by the queue's key, so
        # that SQLite reads the queue and looks each post up, not every post in id order
        waiting = list(
            self.db.query(
                "SELECT c.* FROM entry_fts_pending p JOIN current_entries c ON c.entry_id = p.entry_id"
                f" WHERE {contains} ORDER BY p.entry_id LIMIT :n",
                {"p": pattern, "n": limit},
            )
        )
        indexed = self.db.query(
            "SELECT c.* FROM entry_fts f JOIN current_entries c ON c.entry_id = f.rowid"
            " WHERE entry_fts MATCH :q AND f.rowid NOT IN (SELECT entry_id FROM entry_fts_pending)"
            " ORDER BY f.rank LIMIT :n",
            {"q": '"' + text.replace('"', '""') + '"', "n": limit - len(waiting)},
        )
        return [*indexed, *waiting]


def _check_text(text: str, what: str) -> None:
    """Text typed by a user must be storable: undecodable bytes in an argument are not."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        shown = text.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
        raise InputError(
            f"{what} {shown!r} is not valid text (undecodable bytes; check the terminal's encoding)"
        ) from None
