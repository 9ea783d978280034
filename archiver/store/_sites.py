"""The watch list (table ``site``) and what each check of a site did (table ``site_check``)."""

from __future__ import annotations

from dataclasses import dataclass

from archiver.errors import InputError
from archiver.models import ProfileText
from archiver.store._profiles import Profiles

_SITE_COLUMNS = (
    "name, start_url, profile_sha256, every_seconds, enabled, next_check_at, failures,"
    " last_check_at, last_outcome, last_success_at, last_error"
)
_FIELDS = [name.strip() for name in _SITE_COLUMNS.split(",")]
#: Past every character a URL may hold: the upper bound of a range of keys sharing a prefix.
_AFTER_EVERY_KEY = "\U0010ffff"


@dataclass(frozen=True, slots=True)
class WatchedSite:
    """A row of the watch list."""

    name: str
    start_url: str
    profile_sha256: str | None
    every_seconds: int
    enabled: bool
    next_check_at: str | None
    failures: int
    last_check_at: str | None
    last_outcome: str | None
    last_success_at: str | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class CheckRecord:
    """What one check of a site did, written when it ends."""

    outcome: str
    started_at: str
    finished_at: str
    pages: int = 0
    requests: int = 0
    new_entries: int = 0
    new_versions: int = 0
    error: str | None = None


class Sites(Profiles):
    """The blogs `archiver run` checks, and the record of every check."""

    def add_site(
        self, name: str, start_url: str, profile: ProfileText | None, every_seconds: int, now: str
    ) -> bool:
        """Add a site, or update the one with this start URL (enabling it again); True if new."""
        with self.transaction():
            if profile is not None:
                self.put_profile(profile)
            known = self.conn.execute("SELECT name FROM site WHERE start_url = ?", (start_url,)).fetchone()
            taken = self.conn.execute("SELECT start_url FROM site WHERE name = ?", (name,)).fetchone()
            if taken and (not known or known[0] != name):
                raise InputError(
                    f"{start_url}: the site name {name!r} is taken by {taken[0]}; give another name"
                )
            sha = profile.sha256 if profile else None
            if known:
                self.conn.execute(
                    "UPDATE site SET name = ?, profile_sha256 = ?, every_seconds = ?, enabled = 1"
                    " WHERE start_url = ?",
                    (name, sha, every_seconds, start_url),
                )
                return False
            self.conn.execute(
                "INSERT INTO site (name, start_url, profile_sha256, every_seconds, added_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (name, start_url, sha, every_seconds, now),
            )
            return True

    def remove_site(self, name: str) -> bool:
        """Stop checking a site (its entries and checks stay); False if no such site is watched."""
        with self.transaction():
            changed = self.conn.execute("UPDATE site SET enabled = 0 WHERE name = ? AND enabled", (name,))
            return changed.rowcount > 0

    def watched_sites(self, *, enabled_only: bool = True) -> list[WatchedSite]:
        where = " WHERE enabled" if enabled_only else ""
        rows = self.conn.execute(f"SELECT {_SITE_COLUMNS} FROM site{where} ORDER BY name").fetchall()
        return [
            WatchedSite(**{**dict(zip(_FIELDS, row, strict=True)), "enabled": bool(row[4])}) for row in rows
        ]

    def site_posts(
        self, scope: str, under: str | None, since: str | None = None, *, dated_since: str | None = None
    ) -> int:
        """The posts archived from a site: those of its identity scope (capture.site), and for a
        blog under a path only the posts whose permalink starts with ``under``; with ``since``
        only those first seen then or later, with ``dated_since`` (a day) only those whose
        date is that day or later."""
        since_sql, args = ("", [])
        if since:
            since_sql, args = " AND first_seen_at >= ?", [since]
        elif dated_since:
            since_sql, args = " AND date >= ?", [dated_since]
        if under is None:
            query = f"SELECT count(*) FROM entry WHERE site = ?{since_sql}"
            return int(self.conn.execute(query, [scope, *args]).fetchone()[0])
        query = (
            "SELECT count(*) FROM entry WHERE key >= ? AND key < ? AND site = ?"
            f" AND key_kind = 'url'{since_sql}"
        )
        bounds = [under, under + _AFTER_EVERY_KEY]
        return int(self.conn.execute(query, [*bounds, scope, *args]).fetchone()[0])

    def record_check(self, site: str, record: CheckRecord, next_check_at: str) -> None:
        """A finished check of ``site`` and the site's health after it, in one transaction (a
        check cut short by a kill leaves no row, and the site stays due)."""
        failed = record.outcome in ("failed", "layout_broken")
        with self.transaction():
            self.conn.execute(
                "INSERT INTO site_check (site, started_at, finished_at, outcome, pages, requests,"
                " new_entries, new_versions, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    site,
                    record.started_at,
                    record.finished_at,
                    record.outcome,
                    record.pages,
                    record.requests,
                    record.new_entries,
                    record.new_versions,
                    record.error,
                ),
            )
            self.conn.execute(
                "UPDATE site SET last_check_at = ?, last_outcome = ?, next_check_at = ?,"
                " failures = CASE WHEN ? THEN failures + 1 ELSE 0 END,"
                " last_success_at = CASE WHEN ? THEN last_success_at ELSE ? END,"
                " last_error = CASE WHEN ? THEN ? ELSE last_error END WHERE name = ?",
                (
                    record.finished_at,
                    record.outcome,
                    next_check_at,
                    failed,
                    failed,
                    record.finished_at,
                    failed,
                    record.error,
                    site,
                ),
            )
