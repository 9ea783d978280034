"""A synthetic archive of any size, written with plain SQL: the data benchmarks/scale.py measures.

Going through :func:`archiver.ingest.ingest` costs about a millisecond per page, hours for ten
million versions; writing the rows directly takes minutes. The rows are what the pipeline would
have written for this history, so the archive is consistent with schema.sql:

- sites of ``ENTRIES_PER_SITE`` posts each (1 site per 10,000 versions, at most 1,000 sites); the
  middle site is ``blog.fixture.test`` and holds the permalink the README's example looks up;
- ``ROUNDS`` weekly crawls of every listing page of every site (20 cards a page, newest first); most
  posts exist from the first crawl, the rest are published one round at a time and push the older
  ones down the pages; a post changes (excerpt, title or tags) in 8 to 11 of the rounds, so it has
  about 10 versions;
- every capture has its raw bytes (a small stub page: the blobs' size does not enter any
  per-capture query), one sighting per card (every capture, not only a recent window), the
  versions' first/last seen and seen_count summed from those sightings, entry's current fields
  and first_seen_at, and the crawler's ``page`` row for every listing URL;
- entry_fts is rebuilt from entry at the end.

Triggers and secondary indexes are dropped while loading and made again from schema.sql at the
end (one sort each, much faster than keeping them up to date row by row); the file is then opened
once with :class:`archiver.store.Store`, as any archive is.

A version's ``digest`` is the real one (:func:`archiver.identity.digest`) for current versions,
the ones a new capture compares cards with; older versions get a same-format hash of their raw
fields, since computing the real one for ten million rows would cost minutes and no measured path
reads it.
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import zstandard

from archiver.identity import canonical_url, digest
from archiver.models import CARD_FIELDS
from archiver.store import Store, schema_sql

#: Posts per site: a blog with a thousand posts, 50 listing pages of 20.
ENTRIES_PER_SITE = 1000
#: The largest archive is spread over this many sites.
MAX_SITES = 1000
#: Crawls of every listing page; posts change in most of them (about 10 versions a post).
ROUNDS = 12
#: Cards on a listing page.
CARDS_PER_PAGE = 20
#: Share of a site's posts that exist before the first crawl (the rest appear later).
OLD_SHARE = 0.8
#: How many versions a post that exists from the first crawl has (uniform in this range).
VERSIONS = (10, 12)
#: Rows handed to executemany at a time (bounds the memory of one site's rows).
BATCH_SITES = 10
#: The site (the middle one) whose middle post has the permalink README.md's example looks up, so
#: a lookup that scans entry reads half of it, as for any post.
README_SITE = "blog.fixture.test"
README_POST = "http://blog.fixture.test/posts/flashattention-explained"
#: The text Store.search is measured with: in about 1 post in 50.
SEARCHED = "注意力"

_T0 = datetime(2024, 1, 1, tzinfo=UTC)
_ALL_FIELDS = 63  # sighting.fields: title 1, url 2, category 4, tags 8, date 16, excerpt 32
_WORD_LIST = (
    "attention transformer database index query planner sqlite kitchen garden bread preserving travel"
    " notes compiler rust python networking cache latency storage graph search ranking retrieval"
    " embedding vector shard replica consistency"
)
_WORDS = tuple(_WORD_LIST.split())
_CATEGORY_LIST = "NLP ML Systems Databases Kitchen Travel Notes Reading Rust Python Networking Garden"
_CATEGORIES = tuple(_CATEGORY_LIST.split())
_CHINESE = (
    "长上下文的推理成本与取舍",
    "数据库索引与查询计划的关系",
    "分布式系统中的一致性问题",
    "模型压缩与量化的实践经验",
    "一次线上故障的复盘记录",
)


@dataclass(frozen=True, slots=True)
class Shape:
    """How big an archive is: sites of ENTRIES_PER_SITE posts, about 10 versions each."""

    sites: int

    @staticmethod
    def for_versions(versions: int) -> Shape:
        per_site = ENTRIES_PER_SITE * 10
        return Shape(max(1, min(MAX_SITES, round(versions / per_site))))


@dataclass(slots=True)
class _Ids:
    """The next free id of each table, so rows can name each other before they are written."""

    entry: int = 1
    version: int = 1
    capture: int = 1


@dataclass(slots=True)
class _Rows:
    """Rows of a batch of sites, in the column order of :data:`_COLUMNS`."""

    compressor: zstandard.ZstdCompressor
    entries: list[tuple[object, ...]] = field(default_factory=list)
    versions: list[tuple[object, ...]] = field(default_factory=list)
    captures: list[tuple[object, ...]] = field(default_factory=list)
    blobs: list[tuple[object, ...]] = field(default_factory=list)
    sightings: list[tuple[int, int, int, int]] = field(default_factory=list)
    pages: list[tuple[object, ...]] = field(default_factory=list)


def site_name(index: int, sites: int) -> str:
    return README_SITE if index == sites // 2 else f"blog{index:04d}.example"


def page_url(site: str, page: int) -> str:
    """Listing page ``page`` (1 = the front page) of a generated site."""
    scheme = "http" if site == README_SITE else "https"
    return f"{scheme}://{site}/" if page == 1 else f"{scheme}://{site}/page/{page}/"


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _capture_time(site: int, rnd: int, page: int) -> str:
    """A weekly crawl; sites a minute apart, pages two seconds apart."""
    return stamp(_T0 + timedelta(days=7 * rnd, seconds=60 * site + 2 * page))


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words)).capitalize()


def _first_fields(rng: random.Random, site: str, index: int, vocabulary: list[str]) -> list[str | None]:
    """Version 1 of a post: title (~40 chars), url, categories, tags, date, excerpt (~150 chars)."""
    readme = site == README_SITE and index == ENTRIES_PER_SITE // 2
    url = README_POST if readme else f"{page_url(site, 1)}posts/{index}-{rng.choice(_WORDS)}"
    chinese = f"{SEARCHED}机制的直观解释" if rng.random() < 0.02 else rng.choice(_CHINESE)
    excerpt = f"{_text(rng, 8)}. {chinese}，{_text(rng, 10)}."
    return [
        f"{_text(rng, 5)} #{index}"[:48],
        url,
        json.dumps(rng.sample(vocabulary, rng.randint(1, 2)), ensure_ascii=False),
        json.dumps(sorted(rng.sample(_WORDS, 3)), ensure_ascii=False),
        (_T0 - timedelta(days=ENTRIES_PER_SITE - index)).strftime("%Y-%m-%d"),
        excerpt[:160],
    ]


def _changed(rng: random.Random, fields: list[str | None], version: int) -> tuple[list[str | None], str]:
    """The next version of a post: its excerpt edited (most often), its title or its tags."""
    new = list(fields)
    roll = rng.random()
    if roll < 0.6:
        new[5] = f"{(fields[5] or '')[:130]} 更新{version}: {_text(rng, 2)}"
        return new, '["excerpt"]'
    if roll < 0.8:
        new[0] = f"{(fields[0] or '').split(' (')[0]} (v{version})"
        return new, '["title"]'
    new[3] = json.dumps(sorted(rng.sample(_WORDS, 3)), ensure_ascii=False)
    return new, '["tags"]'


def _stand_in_digest(fields: list[str | None]) -> str:
    return hashlib.blake2b("\x1f".join(f or "" for f in fields).encode(), digest_size=12).hexdigest()


@dataclass(slots=True)
class _Post:
    """One generated post: its states in order, what each changed, and when it changes."""

    appears: int  # the round of the first crawl that lists it
    states: list[list[str | None]]
    changed: list[str | None]
    change_rounds: list[int]
    first_version: int = 0  # id of its version 1
    current: int = 0  # index of the state the crawl being generated shows


def _posts(site: str, index: int) -> list[_Post]:
    """A site's posts, oldest first, with every version they will have."""
    rng = random.Random(index)
    vocabulary = rng.sample(_CATEGORIES, 7)
    if "NLP" not in vocabulary:  # every site writes about NLP sometimes: the README's category
        vocabulary[0] = "NLP"
    n, old = ENTRIES_PER_SITE, int(ENTRIES_PER_SITE * OLD_SHARE)
    posts = []
    for i in range(n):
        appears = 1 if i < old else 2 + (i - old) * (ROUNDS - 1) // (n - old)
        count = min(ROUNDS - appears + 1, rng.randint(*VERSIONS))
        states, said = [_first_fields(rng, site, i, vocabulary)], [None]
        for v in range(2, count + 1):
            state, what = _changed(rng, states[-1], v)
            states.append(state)
            said.append(what)
        rounds = sorted(rng.sample(range(appears + 1, ROUNDS + 1), count - 1))
        posts.append(_Post(appears, states, said, rounds))
    return posts


def _crawl(
    site: str, index: int, rnd: int, posts: list[_Post], ids: _Ids, rows: _Rows, seen: dict[int, list[Any]]
) -> None:
    """One crawl of every listing page of a site: captures, their bytes and their sightings.

    ``seen`` sums up each version's sightings: [first_at, first_cid, last_at, last_cid, count].
    """
    for post in posts:
        if post.current < len(post.change_rounds) and post.change_rounds[post.current] == rnd:
            post.current += 1
    listing = [post for post in reversed(posts) if post.appears <= rnd]
    for page in range(1, (len(listing) - 1) // CARDS_PER_PAGE + 2):
        cards = listing[(page - 1) * CARDS_PER_PAGE : page * CARDS_PER_PAGE]
        cid, at, url = ids.capture, _capture_time(index, rnd, page), page_url(site, page)
        ids.capture += 1
        data = (
            f"<html><title>{site} page {page}</title><!-- {at} -->"
            + "".join(f"<article>{p.states[0][1]} {p.states[p.current][0]}</article>" for p in cards)
        ).encode()
        sha = hashlib.sha256(data).hexdigest()
        rows.blobs.append((sha, len(data), rows.compressor.compress(data)))
        new_entries = new_versions = 0
        for position, post in enumerate(cards):
            vid = post.first_version + post.current
            rows.sightings.append((cid, position, vid, _ALL_FIELDS))
            got = seen.get(vid)
            if got is None:
                seen[vid] = [at, cid, at, cid, 1]
                new_entries += post.current == 0
                new_versions += post.current > 0
            else:
                got[2], got[3], got[4] = at, cid, got[4] + 1
        etag = f'"{sha[:16]}"'
        rows.captures.append((cid, site, url, url, at, sha, len(cards), new_entries, new_versions, etag))
        if rnd == ROUNDS:
            rows.pages.append((url, site, etag, sha, len(cards), cid))


def _site_rows(site: str, index: int, ids: _Ids, rows: _Rows) -> None:
    """One site's history: its posts, their versions, its captures and their sightings."""
    posts = _posts(site, index)
    for post in posts:
        post.first_version = ids.version
        ids.version += len(post.states)
    seen: dict[int, list[Any]] = {}
    for rnd in range(1, ROUNDS + 1):
        _crawl(site, index, rnd, posts, ids, rows, seen)
    for post in posts:
        entry_id, last = ids.entry, len(post.states) - 1
        ids.entry += 1
        for v, state in enumerate(post.states):
            vid = post.first_version + v
            real = (
                digest(dict(zip(CARD_FIELDS, state, strict=True))) if v == last else _stand_in_digest(state)
            )
            rows.versions.append((vid, entry_id, v + 1, *state, post.changed[v], real, *seen[vid]))
        key = canonical_url(post.states[0][1] or "")
        first_at = seen[post.first_version][0]
        rows.entries.append((entry_id, site, key, post.first_version + last, *post.states[last], first_at))


_COLUMNS = {
    "entries": "entry (id, site, key, current_version_id, title, url, categories, tags, date, excerpt,"
    " first_seen_at, key_kind)",
    "versions": "entry_version (id, entry_id, version, title, url, categories, tags, date, excerpt, changed,"
    " digest, first_seen_at, first_capture_id, last_seen_at, last_capture_id, seen_count)",
    "captures": "capture (id, site, source, page_url, captured_at, sha256, cards, new_entries, new_versions,"
    " etag, kind, http_status, parsed_with)",
    "blobs": "blob (sha256, size, data, compression)",
    "sightings": "sighting (capture_id, position, version_id, fields)",
    "pages": "page (url, site, etag, sha256, last_cards, last_capture_id)",
}
#: What every row of a table has in its last columns (after the values of the row tuples).
_CONSTANTS = {"entries": ("'url'",), "captures": ("'html'", "200", "'auto'"), "blobs": ("'zstd'",)}


def _dropped(conn: sqlite3.Connection) -> None:
    """Drop the triggers and the indexes schema.sql makes (not the tables' own keys)."""
    for kind, name in conn.execute(
        "SELECT type, name FROM sqlite_master WHERE type IN ('trigger', 'index') AND sql IS NOT NULL"
    ).fetchall():
        conn.execute(f"DROP {kind.upper()} {name}")


def generate(path: Path, shape: Shape) -> dict[str, int]:
    """Write an archive of ``shape`` to ``path`` (which must not exist); returns its row counts."""
    Store(path).close()  # a new archive: schema.sql, the current schema version, WAL
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -500000")
        _dropped(conn)
        conn.execute("BEGIN")
        ids = _Ids()
        for start in range(0, shape.sites, BATCH_SITES):
            rows = _Rows(zstandard.ZstdCompressor(level=3))
            for index in range(start, min(shape.sites, start + BATCH_SITES)):
                _site_rows(site_name(index, shape.sites), index, ids, rows)
            for name, columns in _COLUMNS.items():
                table_rows = getattr(rows, name)
                values = ["?"] * len(table_rows[0]) + list(_CONSTANTS.get(name, ()))
                conn.executemany(f"INSERT INTO {columns} VALUES ({', '.join(values)})", table_rows)
        conn.execute("COMMIT")
        conn.executescript(schema_sql())  # the indexes and triggers again, each built in one sort
        conn.execute("INSERT INTO entry_fts (entry_fts) VALUES ('rebuild')")
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()
    with Store(path) as store:  # opened as any archive is: nothing to upgrade, nothing pending
        counts = store.stats()
    return counts


def capture_pages(sites: int) -> Iterator[tuple[str, str]]:
    """(site, front page URL) of each generated site."""
    for index in range(sites):
        site = site_name(index, sites)
        yield site, page_url(site, 1)
