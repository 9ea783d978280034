"""What the feeds read: each site's newest posts as they are now, gone ones included, so that a
feed can say a post went (:mod:`archiver.feeds` renders them)."""

from __future__ import annotations

from dataclasses import dataclass

from archiver.models import names_of
from archiver.store._connection import Connection

#: A post's last change: its current version's first sighting, or its coming back after it was
#: found gone, whichever is later (``event_entry`` finds its events).
_UPDATED = (
    "max(v.first_seen_at, coalesce((SELECT max(ev.at) FROM event ev"
    " WHERE ev.entry_id = e.id AND ev.kind = 'reappeared'), ''))"
)
#: A post as a feed shows it. Newest first by first seen: ``entry_site_first_seen`` serves one
#: site, ``entry_first_seen`` all of them, each walked from its end for the LIMIT only (both
#: indexes end in the rowid, so ``e.id DESC`` breaks ties without a sort).
_POSTS = (
    "SELECT e.id, e.site, e.key_kind, e.key, e.title, e.url, e.categories, e.tags, e.date, e.excerpt,"
    f" e.first_seen_at, {_UPDATED}, e.gone_at"
    " FROM entry e JOIN entry_version v ON v.id = e.current_version_id"
    " {where} ORDER BY e.first_seen_at DESC, e.id DESC LIMIT ?"
)
#: The posts found gone last (``entry_gone``), for the tombstones of those older than the newest.
_GONE = (
    "SELECT e.id, e.site, e.key_kind, e.key, e.title, e.url, e.categories, e.tags, e.date, e.excerpt,"
    f" e.first_seen_at, {_UPDATED}, e.gone_at"
    " FROM entry e JOIN entry_version v ON v.id = e.current_version_id"
    " WHERE e.gone_at IS NOT NULL {where} ORDER BY e.gone_at DESC LIMIT ?"
)

#: The distinct sites of entry, one index seek per site (a plain DISTINCT would read every row of
#: the index, a cost that grows with the posts rather than with the sites).
_SITES = (
    "WITH RECURSIVE s (site) AS ("
    " SELECT min(site) FROM entry"
    " UNION ALL SELECT (SELECT min(site) FROM entry WHERE site > s.site) FROM s WHERE s.site IS NOT NULL"
    ") SELECT site FROM s WHERE site IS NOT NULL"
)


@dataclass(frozen=True, slots=True)
class FeedPost:
    """One post of a feed: its identity (site, key), its current fields, and its times."""

    entry_id: int
    site: str
    #: 'url' (``key`` is the canonical permalink) or 'text' (no permalink shown)
    key_kind: str
    key: str
    title: str | None
    url: str | None
    categories: list[str]
    tags: list[str]
    #: the day the post shows, 'YYYY-MM-DD'; None when not shown or not a day
    date: str | None
    excerpt: str | None
    first_seen_at: str
    #: its last change: when its current version was first seen, or when it came back after it
    #: was found gone, whichever is later
    updated_at: str
    #: when it was found gone from its listing; None while it is listed
    gone_at: str | None


class Feeds(Connection):
    """The queries of `archiver feed` and of ``--feeds DIR``."""

    def feed_posts(self, site: str | None, limit: int) -> list[FeedPost]:
        """The ``limit`` posts of ``site`` (of every site when None) first seen last, and the
        ``limit`` found gone last (a post gone from far down the listing still gets its
        tombstone), newest first by first seen."""
        params = [site] if site is not None else []
        newest = self.conn.execute(
            _POSTS.format(where="WHERE e.site = ?" if site is not None else ""), [*params, limit]
        ).fetchall()
        gone = self.conn.execute(
            _GONE.format(where="AND e.site = ?" if site is not None else ""), [*params, limit]
        ).fetchall()
        rows = sorted(
            {row[0]: row for row in [*newest, *gone]}.values(), key=lambda r: (r[10], r[0]), reverse=True
        )
        posts = []
        for entry_id, name, key_kind, key, title, url, categories, tags, *rest in rows:
            with self._errors(f"entry {entry_id}"):
                listed = names_of(categories), names_of(tags)
            date, excerpt, first_seen_at, updated_at, gone_at = rest
            fields = (title, url, *listed, date, excerpt, first_seen_at, updated_at, gone_at)
            posts.append(FeedPost(entry_id, name, key_kind, key, *fields))
        return posts

    def feed_sites(self) -> list[str]:
        """The sites that have posts, in order."""
        return [row[0] for row in self.conn.execute(_SITES)]

    def feed_home(self, site: str) -> str | None:
        """Where a site's posts are listed: its start URL when it is on the watch list by that
        name, else None (a site only crawled or imported has no home page on record)."""
        row = self.conn.execute("SELECT start_url FROM site WHERE name = ?", (site,)).fetchone()
        return str(row[0]) if row else None
