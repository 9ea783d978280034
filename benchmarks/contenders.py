"""What benchmarks/run.py's ingest part compares: archiver, the bare extraction, a competent peer.

- archiver: what `archiver import FILE... --profile` does (imports.import_files: read, parse in
  a worker process, hash, store), or one page in this process (:func:`archiver_import`);
- the bare extraction (the parse ceiling): selectolax parse and the same fields with the same
  selectors, nothing stored;
- the competent peer: the bare extraction plus one upsert per card into SQLite in WAL mode, one
  commit per page: what a careful script writer would do instead of archiver.

CPU time is counted over every process a contender uses (:func:`cpu_seconds`): archiver parses
in a second process, so its wall time alone measures the load of the machine's other core.
"""

from __future__ import annotations

import hashlib
import resource
import sqlite3
import sys
from pathlib import Path
from urllib.parse import urljoin

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import pages  # noqa: E402
from selectolax.lexbor import LexborHTMLParser  # noqa: E402

from archiver.imports import ImportFile, ImportOptions, import_files  # noqa: E402
from archiver.ingest import ingest  # noqa: E402
from archiver.parse import parse_capture, require_cards  # noqa: E402
from archiver.parse.profile import Profile  # noqa: E402
from archiver.store import CaptureRecord, Store  # noqa: E402

Field = str | tuple[str, ...] | None


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of every child it has waited for.

    archiver's parse worker is a child that ends (and is waited for) with each import, so the
    difference around an import is archiver's CPU in both its processes.
    """
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def archiver_import(store: Store, data: bytes, url: str, at: str, profile: Profile | None) -> int:
    """What `archiver import`/`crawl` do with one page, in this process: parse, hash, store."""
    page = require_cards(
        parse_capture(data, kind="html", source=url, base_url=url, profile=profile), url, profile
    )
    record = CaptureRecord(
        site=pages.SITE_HOST,
        source=url,
        kind="html",
        captured_at=at,
        sha256=hashlib.sha256(data).hexdigest(),
        page_url=url,
        parsed_with="profile" if profile else "auto",
    )
    return ingest(store, record, data, page.cards).cards


def archiver_import_files(db: Path, files: list[ImportFile], profile: Profile) -> int:
    """`archiver import FILE... --profile` (imports.import_files: read, parse, hash, store)."""
    options = ImportOptions(profile=profile, site=pages.SITE_HOST)
    return sum(result.cards for result in import_files(lambda: Store(db), files, options))


def bare_extract(data: bytes, url: str, profile: Profile) -> list[tuple[Field, ...]]:
    """The ceiling: selectolax parse and extraction of the same fields with the same selectors.

    No hashing, no storage, no normalisation: decode, parse, select the cards, one query per
    field selector, text/attribute of the match, permalink resolved against the page URL. The
    last row is the next page's URL (or None).
    """
    tree = LexborHTMLParser(data.decode("utf-8"))
    found: list[tuple[Field, ...]] = []
    for node in tree.css(profile.card):
        title = node.css_first(profile.title) if profile.title else None
        link = node.css_first(profile.permalink) if profile.permalink else None
        href = link.attributes.get("href") if link is not None else None
        when = node.css_first(profile.date) if profile.date else None
        excerpt = node.css_first(profile.excerpt) if profile.excerpt else None
        found.append(
            (
                title.text(strip=True) if title is not None else None,
                urljoin(url, href) if href else None,
                tuple(n.text(strip=True) for n in node.css(profile.category)) if profile.category else (),
                tuple(n.text(strip=True) for n in node.css(profile.tags)) if profile.tags else (),
                when.text(strip=True) if when is not None else None,
                excerpt.text(deep=True, separator=" ", strip=True) if excerpt is not None else None,
            )
        )
    nxt = tree.css_first(profile.next_page) if profile.next_page else None
    href = nxt.attributes.get("href") if nxt is not None else None
    found.append((urljoin(url, href) if href else None,))
    return found


class Peer:
    """The competent peer's table: one row a post, upserted for every card, a commit per page."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = NORMAL")  # what archiver uses in WAL mode
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS post (url TEXT PRIMARY KEY, title TEXT, category TEXT, tags TEXT,"
            " date TEXT, excerpt TEXT, first_seen TEXT, last_seen TEXT, seen INTEGER)"
        )
        self.conn.commit()

    def ingest(self, path: Path, url: str, at: str, profile: Profile) -> int:
        """Read a saved page, extract it as :func:`bare_extract` does, upsert its cards, commit."""
        cards = bare_extract(path.read_bytes(), url, profile)[:-1]
        self.conn.executemany(
            "INSERT INTO post (url, title, category, tags, date, excerpt, first_seen, last_seen, seen)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT (url) DO UPDATE SET title = excluded.title,"
            " category = excluded.category, tags = excluded.tags, date = excluded.date,"
            " excerpt = excluded.excerpt, last_seen = excluded.last_seen, seen = seen + 1",
            [(u, t, ", ".join(c or ()), ", ".join(g or ()), d, e, at, at) for t, u, c, g, d, e in cards],
        )
        self.conn.commit()
        return len(cards)

    def close(self) -> None:
        self.conn.close()
