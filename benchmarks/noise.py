"""What raw pages cost when only noise changes: per-site zstd dictionaries against plain zstd.

    PYTHONPATH=. python benchmarks/noise.py [--captures 200] [--pages 100] [--days 10]

Many blogs change a few bytes on every request (a CSRF token, a script nonce, "generated in
0.12 s"), so "same bytes" never holds. Three cases, each through the real import path
(:func:`archiver.imports.import_files`, what `archiver import FILE --base-url URL --captured-at
TIME` runs), each once as archiver stores pages and once with every page stored plain (the
policy forced to plain zstd, as archives were before dictionaries), in this one run:

(a) a 57 KB listing page (benchmarks/pages.py: 20 post cards in real site chrome) saved to the
    same file and imported every hour, only its nonce, token and generation time changing;
    bytes the archive file grew per capture (after a WAL checkpoint; the first one excluded);
(b) a backfill: distinct listing pages of one site, each imported once; blob bytes (with the
    dictionaries) and how many dictionaries;
(c) a page that drifts: a new post a day, captured every hour with the same noise.

Then `archiver reparse` of archive (a), which must give the same entries, versions, sightings
and captures, and every blob must read back as the bytes imported.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sqlite3
import sys
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import pages  # noqa: E402

from archiver.dictionaries import Choice, PageSizes  # noqa: E402
from archiver.imports import ImportFile, ImportOptions, import_files  # noqa: E402
from archiver.reparse import reparse  # noqa: E402
from archiver.store import Store, _blobs  # noqa: E402

_T0 = datetime(2024, 1, 1, tzinfo=UTC)
#: What reparse must leave exactly as it was.
KEPT = {
    "entries": "SELECT * FROM entry ORDER BY id",
    "versions": "SELECT * FROM entry_version ORDER BY id",
    "sightings": "SELECT * FROM sighting ORDER BY capture_id, position",
    "captures": "SELECT * FROM capture ORDER BY id",
}


def noisy(data: bytes, capture: int) -> bytes:
    """``data`` with what a dynamic blog changes on every request: a CSRF token, a script nonce
    and the time the page took to generate."""
    rng = random.Random(capture)
    token = f"{rng.getrandbits(256):064x}"
    text = data.decode("utf-8")
    text = text.replace(
        '<meta name="build"', f'<meta name="csrf-token" content="{token}"><meta name="build"', 1
    )
    text = text.replace('<script id="theme-config">', f'<script id="theme-config" nonce="{token[:24]}">', 1)
    text = text.replace("</body>", f"<!-- generated in {rng.uniform(0.05, 0.9):.3f} s -->\n</body>", 1)
    return text.encode("utf-8")


def front(day: int, hour: int) -> bytes:
    """The front page on ``day`` (one new post a day), as served at ``hour``."""
    newest, shown = pages.front_posts(day)
    page = pages.render_listing(shown, page_no=1, total_pages=newest // 20 + 1, newest=newest)
    return noisy(page, hour)


def stamp(hours: int) -> str:
    return (_T0 + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def import_one(db: Path, path: Path, data: bytes, url: str, hours: int) -> None:
    """`archiver import PATH --base-url URL --captured-at TIME` of ``data``."""
    path.write_bytes(data)
    options = ImportOptions()  # automatic detection, as `archiver import` without --profile
    files = [ImportFile(path, "html", url, captured_at=stamp(hours))]
    for _ in import_files(lambda: Store(db), files, options):
        pass


def file_bytes(db: Path) -> int:
    """The archive file's size with its write-ahead log folded in (what the user keeps)."""
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    wal = Path(f"{db}-wal")
    return db.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def blob_figures(db: Path) -> tuple[int, int]:
    """(blob bytes with the dictionaries, dictionaries)."""
    with Store(db, read_only=True) as store:
        blob_bytes = store.stats()["blob_bytes"]
        made = store.conn.execute("SELECT count(*) FROM blob_dictionary").fetchone()[0]
    return blob_bytes, made


#: How pages are stored in each run: as archiver does, and the plain zstd baseline.
MODES = ("dictionaries", "plain zstd")


@contextmanager
def storing(mode: str) -> Iterator[None]:
    """Pages stored as archiver does, or (``plain zstd``) each with plain zstd as before
    dictionaries: the policy is replaced by one that always answers plain."""
    if mode == "dictionaries":
        yield
        return
    chosen = _blobs.choose_dictionary

    def plain(sizes: PageSizes) -> Choice:
        return Choice.PLAIN

    _blobs.choose_dictionary = plain
    try:
        yield
    finally:
        _blobs.choose_dictionary = chosen


def hourly(db: Path, folder: Path, count: int, *, per_day: int | None) -> tuple[float, dict[str, bytes]]:
    """``count`` hourly imports of the front page saved to one file; bytes added per capture
    after the first, and the pages by sha256. ``per_day`` None: no new post (noise only)."""
    saved: dict[str, bytes] = {}
    path = folder / "index.html"
    first = 0
    for hour in range(count):
        data = front(hour // per_day if per_day else 0, hour)
        saved[hashlib.sha256(data).hexdigest()] = data
        import_one(db, path, data, pages.BASE_URL, hour)
        if hour == 0:
            first = file_bytes(db)
    return (file_bytes(db) - first) / (count - 1), saved


def backfill(db: Path, folder: Path, count: int) -> None:
    for page_no in range(1, count + 1):
        path = folder / f"page-{page_no}.html"
        import_one(db, path, noisy(pages.site_page(page_no, count), page_no), pages.site_page_url(page_no), 0)


def check_reparse(db: Path, saved: dict[str, bytes]) -> None:
    """Reparse must give the archive it had, and every blob must read back as imported."""
    with closing(sqlite3.connect(db)) as conn:
        before = {name: conn.execute(sql).fetchall() for name, sql in KEPT.items()}
    with Store(db, create=False) as store:
        reparse(store)
    with closing(sqlite3.connect(db)) as conn:
        after = {name: conn.execute(sql).fetchall() for name, sql in KEPT.items()}
    for name in KEPT:
        same = before[name] == after[name]
        print(f"  reparse: {name:9} {len(after[name]):6} rows {'identical' if same else 'DIFFERENT'}")
        if not same:
            raise SystemExit(f"reparse changed {name}")
    with Store(db, read_only=True) as store:
        for sha256, data in saved.items():
            if store.get_blob(sha256) != data:
                raise SystemExit(f"blob {sha256} does not read back as imported")
    print(f"  every blob read back bit-exact: {len(saved)} blobs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--captures", type=int, default=200, help="hourly captures in case (a)")
    parser.add_argument("--pages", type=int, default=100, help="distinct pages in case (b)")
    parser.add_argument("--days", type=int, default=10, help="days of hourly captures in case (c)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="archiver-noise-") as tmp:
        work = Path(tmp)
        size = len(front(0, 0))
        print(f"(a) a {size:,}-byte front page imported {args.captures} times an hour apart, noise only")
        figures = {}
        for name in MODES:
            folder = work / f"a-{name}"
            folder.mkdir()
            with storing(name):
                figures[name] = hourly(folder / "a.db", folder, args.captures, per_day=None)
            blob_bytes, made = blob_figures(folder / "a.db")
            print(
                f"  {name:12}: {figures[name][0]:8,.0f} bytes added per capture"
                f" (blob bytes {blob_bytes:,}, dictionaries {made})"
            )
        check_reparse(work / "a-dictionaries" / "a.db", figures["dictionaries"][1])

        print(f"(b) a backfill of {args.pages} distinct listing pages of one site, each imported once")
        for name in MODES:
            folder = work / f"b-{name}"
            folder.mkdir()
            with storing(name):
                backfill(folder / "b.db", folder, args.pages)
            blob_bytes, made = blob_figures(folder / "b.db")
            print(f"  {name:12}: blob bytes {blob_bytes:10,} ({made} dictionaries)")

        hours = args.days * 24
        print(f"(c) the front page with a new post a day, imported every hour for {args.days} days")
        for name in MODES:
            folder = work / f"c-{name}"
            folder.mkdir()
            with storing(name):
                per, _ = hourly(folder / "c.db", folder, hours, per_day=24)
            blob_bytes, made = blob_figures(folder / "c.db")
            print(
                f"  {name:12}: {per:8,.0f} bytes added per capture"
                f" (blob bytes {blob_bytes:,}, {made} dictionaries)"
            )


if __name__ == "__main__":
    main()
