"""The ledger (table ``event``): what happened to each post, written with the capture that showed
it, and read by `archiver changes`, the feeds and the notifications."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from archiver.ledger import Gone
from archiver.store._entries import Entries

#: An event as written: entry id, site, kind, at, capture id, fields (JSON, for 'changed').
EventRow = tuple[int, str, str, str, int, str | None]

#: The posts a capture showed, in page order (the first card of a post that is shown twice).
_SHOWN = (
    "SELECT v.entry_id FROM sighting s JOIN entry_version v ON v.id = s.version_id"
    " WHERE s.capture_id = ? ORDER BY s.position"
)


@dataclass(frozen=True, slots=True)
class Event:
    """One row of the ledger, with its post's permalink and current title."""

    id: int
    kind: str
    at: str
    site: str
    entry_id: int
    url: str | None
    title: str | None
    #: for 'changed': {"title": ["old", "new"]}
    fields: dict[str, list[Any]] | None
    #: for 'gone': 'dropped' or 'missing', and 'deleted' / 'unlisted' once verified
    how: str | None
    verified: str | None


@dataclass(frozen=True, slots=True)
class GoneEvent:
    """A post just found gone, for ``--verify-gone`` to check its permalink."""

    event_id: int
    entry_id: int
    url: str | None


@dataclass(frozen=True, slots=True)
class GoneMark:
    """A 'gone' event by its post's key, which survives the entries being rebuilt."""

    site: str
    key_kind: str
    key: str
    how: str | None
    verified: str | None


@dataclass(frozen=True, slots=True)
class Sent:
    """One notification, as the table ``notification`` keeps it."""

    target: str
    service: str
    at: str
    events: int
    after_event_id: int
    last_event_id: int
    error: str | None


class Events(Entries):
    """Writes events with their captures, and answers what happened since a time."""

    def record_events(self, rows: Sequence[EventRow]) -> None:
        """Record events (inside the capture's transaction)."""
        if rows:
            self.conn.executemany(
                "INSERT INTO event (entry_id, site, kind, at, capture_id, fields) VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )

    def mark_reappeared(self, capture_id: int, at: str) -> int:
        """The gone posts capture ``capture_id`` (taken at ``at``) showed again are listed again:
        a 'reappeared' event each. A copy taken before a post went says nothing of it."""
        params = {"cid": capture_id, "at": at}
        found = self.conn.execute(
            "INSERT INTO event (entry_id, site, kind, at, capture_id)"
            " SELECT e.id, e.site, 'reappeared', :at, :cid FROM entry e"
            " WHERE e.id IN (SELECT v.entry_id FROM sighting s"
            "  JOIN entry_version v ON v.id = s.version_id WHERE s.capture_id = :cid)"
            " AND e.gone_at IS NOT NULL AND e.gone_at <= :at",
            params,
        ).rowcount
        if found:
            self.conn.execute(
                "UPDATE entry SET gone_at = NULL WHERE id IN"
                " (SELECT entry_id FROM event WHERE capture_id = :cid AND kind = 'reappeared')",
                params,
            )
        return found

    def entries_shown(self, capture_id: int) -> list[int]:
        """The posts a capture showed, in page order."""
        return list(dict.fromkeys(row[0] for row in self.conn.execute(_SHOWN, (capture_id,))))

    def entries_shown_by(self, capture_ids: Iterable[int]) -> set[int]:
        """The posts any of these captures showed."""
        shown: set[int] = set()
        for capture_id in dict.fromkeys(capture_ids):
            shown.update(row[0] for row in self.conn.execute(_SHOWN, (capture_id,)))
        return shown

    def entries_listed_on(self, urls: Iterable[str]) -> set[int]:
        """The posts any stored capture of these listing pages showed (a 304 repeats the
        sightings of the capture it repeats, so the captures with bytes are enough)."""
        listed: set[int] = set()
        for url in dict.fromkeys(urls):
            listed.update(
                row[0]
                for row in self.conn.execute(
                    "SELECT DISTINCT v.entry_id FROM capture c JOIN sighting s ON s.capture_id = c.id"
                    " JOIN entry_version v ON v.id = s.version_id"
                    " WHERE c.source = ? AND c.sha256 IS NOT NULL",
                    (url,),
                )
            )
        return listed

    def page_captures(self, page: str) -> list[tuple[int, str]]:
        """The captures with bytes of one page (its URL, or the file's source), oldest first:
        (capture id, captured at)."""
        return [
            (int(capture_id), at)
            for capture_id, at in self.conn.execute(
                "SELECT id, captured_at FROM capture WHERE coalesce(page_url, source) = ?"
                " AND sha256 IS NOT NULL ORDER BY captured_at, id",
                (page,),
            )
        ]

    def last_seen(self, entry_ids: Iterable[int]) -> dict[int, str]:
        """When each post was last seen, by any capture."""
        seen = {}
        for entry_id in dict.fromkeys(entry_ids):
            row = self.conn.execute(
                "SELECT max(last_seen_at) FROM entry_version WHERE entry_id = ?", (entry_id,)
            ).fetchone()
            if row[0] is not None:
                seen[entry_id] = row[0]
        return seen

    def mark_gone(self, gone: Sequence[Gone]) -> list[GoneEvent]:
        """Record posts found gone, in one transaction; those already gone are left as they are.
        Each is dated by the capture that showed it missing."""
        recorded: list[GoneEvent] = []
        with self.transaction():
            for item in gone:
                changed = self.conn.execute(
                    "UPDATE entry SET gone_at = (SELECT captured_at FROM capture WHERE id = ?)"
                    " WHERE id = ? AND gone_at IS NULL",
                    (item.capture_id, item.entry_id),
                ).rowcount
                if not changed:
                    continue
                cursor = self.conn.execute(
                    "INSERT INTO event (entry_id, site, kind, at, capture_id, how)"
                    " SELECT id, site, 'gone', gone_at, ?, ? FROM entry WHERE id = ?",
                    (item.capture_id, item.how, item.entry_id),
                )
                url = self.conn.execute("SELECT url FROM entry WHERE id = ?", (item.entry_id,)).fetchone()[0]
                recorded.append(GoneEvent(int(cursor.lastrowid or 0), item.entry_id, url))
        return recorded

    def set_verified(self, verdicts: Sequence[tuple[int, str]]) -> None:
        """What each gone post's permalink answered: (event id, 'deleted' or 'unlisted')."""
        with self.transaction():
            self.conn.executemany(
                "UPDATE event SET verified = ? WHERE id = ?", [(v, event) for event, v in verdicts]
            )

    def events(
        self,
        *,
        since: str | None = None,
        sites: Sequence[str] = (),
        kinds: Sequence[str] = (),
        after_id: int | None = None,
        limit: int | None = None,
    ) -> list[Event]:
        """Events, newest first: at or after ``since``, of ``sites`` (all when empty), of
        ``kinds`` (all when empty), recorded after event ``after_id``."""
        where: list[str] = ["1"]
        params: list[object] = []
        if since is not None:
            where.append("ev.at >= ?")
            params.append(since)
        if after_id is not None:
            where.append("ev.id > ?")
            params.append(after_id)
        for column, values in (("ev.site", sites), ("ev.kind", kinds)):
            if values:
                where.append(f"{column} IN ({', '.join('?' * len(values))})")
                params.extend(values)
        query = (
            "SELECT ev.id, ev.kind, ev.at, ev.site, ev.entry_id, e.url, e.title, ev.fields, ev.how,"
            " ev.verified FROM event ev JOIN entry e ON e.id = ev.entry_id"
            f" WHERE {' AND '.join(where)} ORDER BY ev.at DESC, ev.id DESC"
        )
        if limit is not None:
            query += f" LIMIT {int(limit)}"
        return [_event(row) for row in self.conn.execute(query, params)]

    def gone_marks(self) -> dict[int, list[GoneMark]]:
        """Every 'gone' event by the capture it is dated by, with its post's key: what a rebuild
        of the entries from the captures (`archiver reparse`) replays, since no capture shows it."""
        marks: dict[int, list[GoneMark]] = {}
        for capture_id, *mark in self.conn.execute(
            "SELECT ev.capture_id, e.site, e.key_kind, e.key, ev.how, ev.verified FROM event ev"
            " JOIN entry e ON e.id = ev.entry_id WHERE ev.kind = 'gone' ORDER BY ev.id"
        ):
            marks.setdefault(capture_id, []).append(GoneMark(*mark))
        return marks

    def replay_gone(self, capture_id: int, marks: Sequence[GoneMark]) -> None:
        """Mark again the posts found gone with capture ``capture_id`` (inside the rebuild's
        transaction); a post the rebuild no longer knows by that key is left out."""
        for mark in marks:
            cursor = self.conn.execute(
                "INSERT INTO event (entry_id, site, kind, at, capture_id, how, verified)"
                " SELECT e.id, e.site, 'gone', c.captured_at, c.id, ?, ? FROM entry e, capture c"
                " WHERE e.site = ? AND e.key_kind = ? AND e.key = ? AND e.gone_at IS NULL AND c.id = ?"
                " LIMIT 1",
                (mark.how, mark.verified, mark.site, mark.key_kind, mark.key, capture_id),
            )
            if cursor.rowcount:
                self.conn.execute(
                    "UPDATE entry SET gone_at = (SELECT at FROM event WHERE id = :event)"
                    " WHERE id = (SELECT entry_id FROM event WHERE id = :event)",
                    {"event": cursor.lastrowid},
                )

    def last_event_id(self) -> int:
        """The newest event's id (0 when there is none): a run's events are those after it."""
        return int(self.conn.execute("SELECT coalesce(max(id), 0) FROM event").fetchone()[0])

    def notified_up_to(self, target: str) -> int | None:
        """The event after which a notification service is still to be told: the newest it was
        sent successfully, else where its first failed try started; None: never tried."""
        row = self.conn.execute(
            "SELECT max(last_event_id) FILTER (WHERE error IS NULL), min(after_event_id)"
            " FROM notification WHERE target = ?",
            (target,),
        ).fetchone()
        found = row[0] if row[0] is not None else row[1]
        return None if found is None else int(found)

    def record_notification(self, sent: Sent) -> None:
        """A notification sent, or tried: what the next run of the service starts from."""
        with self.transaction():
            self.conn.execute(
                "INSERT INTO notification (target, service, sent_at, events, after_event_id,"
                " last_event_id, error) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    sent.target,
                    sent.service,
                    sent.at,
                    sent.events,
                    sent.after_event_id,
                    sent.last_event_id,
                    sent.error,
                ),
            )


def _event(row: tuple[Any, ...]) -> Event:
    event_id, kind, at, site, entry_id, url, title, fields, how, verified = row
    return Event(
        event_id, kind, at, site, entry_id, url, title, json.loads(fields) if fields else None, how, verified
    )
