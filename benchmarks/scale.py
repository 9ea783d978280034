"""What a capture and the README's queries cost as the archive grows, up to ten million versions.

    PYTHONPATH=. python benchmarks/scale.py [--sizes 1e4,1e6,1e7] [--dir /tmp] [--keep] [--repeat 7]

For each size (versions), benchmarks/scale_archive.py writes a synthetic archive with plain SQL,
then this measures, warm, the median of ``--repeat`` runs of:

- an unchanged page: a listing URL that answered 304, recorded the way the crawler does
  (:func:`archiver.ingest.ingest` with no cards and ``repeats_capture_id`` = the URL's last
  capture): its sightings copied, its versions counted as seen again;
- a page with one new card: the front page's 20 known cards (read back from the archive, so they
  are recognised by permalink) and one new post on top, with its raw bytes;
- the lookups a capture does: the last capture of a URL, an entry by permalink within its site;
- ``Store.search('注意力')`` (what `archiver search` runs);
- every ```sql block of README.md's "Querying the archive", exactly as written (extracted as
  tests/test_docs.py does), on a plain sqlite3 connection.

It prints one table (a column per size, and the ratio of the largest to the smallest) and a
verdict per measure: the cost must stay within ``MAX_RATIO`` from the smallest size to the
largest, and each README query must answer within ``README_LIMIT_MS`` at the largest size. A
measure that fails gets the EXPLAIN QUERY PLAN of its statements, so the scan is visible. The
archives are deleted at the end unless --keep.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import scale_archive as generated  # noqa: E402

from archiver.identity import canonical_url  # noqa: E402
from archiver.ingest import ingest  # noqa: E402
from archiver.models import Card, names_of  # noqa: E402
from archiver.store import CaptureRecord, Store  # noqa: E402

README = (HERE.parent / "README.md").read_text(encoding="utf-8")
#: The README's example queries, found exactly as tests/test_docs.py finds them.
SQL_BLOCKS = re.findall(r"```sql\n(.*?)```", README, re.DOTALL)
#: Allowed growth of a measure from the smallest archive to the largest (1000 x the versions).
MAX_RATIO = 1.5
#: A README example must answer "at once" on the largest archive (about 10^6 entries).
README_LIMIT_MS = 100.0
#: Bytes of archive per version (measured: 760 at 10^5), to check the disk before generating.
BYTES_PER_VERSION = 800
#: Tables a per-capture or README query must never read whole.
BIG_TABLES = ("entry", "entry_version", "capture", "sighting")


@dataclass
class Measure:
    """One measured operation: its median time per size (ms) and the SQL it ran, for EXPLAIN."""

    name: str
    readme: bool = False
    ms: dict[float, float] = field(default_factory=dict)
    statements: list[str] = field(default_factory=list)


def timed(run: Callable[[], object], repeat: int) -> float:
    """Median milliseconds of ``repeat`` runs, after one run that warms the cache."""
    run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def traced(conn: sqlite3.Connection, run: Callable[[], object]) -> list[str]:
    """The statements ``run`` executes on ``conn``, with their values (for EXPLAIN QUERY PLAN)."""
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        run()
    finally:
        conn.set_trace_callback(None)
    skip = ("--", "BEGIN", "COMMIT", "ROLLBACK", "PRAGMA", "SAVEPOINT", "RELEASE")
    return [s for s in dict.fromkeys(seen) if not s.lstrip().upper().startswith(skip)]


def readme_name(query: str) -> str:
    first = query.strip().splitlines()[0]
    return "README: " + (first[3:].strip() if first.startswith("--") else "full-text search")


def known_cards(store: Store, capture_id: int) -> list[Card]:
    """The cards a capture showed, as a page would show them again (recognised by permalink)."""
    rows = store.conn.execute(
        "SELECT v.title, v.url, v.categories, v.tags, coalesce(v.date, v.date_text), v.excerpt"
        " FROM sighting s JOIN entry_version v ON v.id = s.version_id"
        " WHERE s.capture_id = ? ORDER BY s.position",
        (capture_id,),
    ).fetchall()
    return [Card(t, u, tuple(names_of(c)), tuple(names_of(g)), d, e) for t, u, c, g, d, e in rows]


class Bench:
    """The measures of one archive, run through one open Store (and one plain connection)."""

    def __init__(self, path: Path, shape: generated.Shape, repeat: int) -> None:
        self.path, self.repeat = path, repeat
        self.site, self.url = list(generated.capture_pages(shape.sites))[shape.sites // 2]
        self.clock = 0

    def _now(self) -> str:
        """A capture time after every generated one, a minute later for every capture."""
        self.clock += 1
        end = generated._T0 + timedelta(days=7 * (generated.ROUNDS + 1), minutes=self.clock)
        return generated.stamp(end)

    def run(self, measures: dict[str, Measure], size: float) -> None:
        with Store(self.path) as store:
            last = store.last_capture_of(self.url)
            assert last is not None, self.url
            cards = known_cards(store, last.capture_id)
            key = canonical_url(cards[len(cards) // 2].url or "")
            store_measures: dict[str, Callable[[], object]] = {
                "unchanged page (304), ingest": lambda: self._unchanged(store),
                "page with 1 new card, ingest": lambda: self._one_new(store, cards),
                "last capture of a URL": lambda: store.last_capture_of(self.url),
                "entry by permalink in its site": lambda: store.url_entries(self.site, [key]),
                f"Store.search('{generated.SEARCHED}')": lambda: store.search(generated.SEARCHED),
            }
            for name, op in store_measures.items():
                measure = measures.setdefault(name, Measure(name))
                measure.statements = traced(store.conn, op)
                measure.ms[size] = timed(op, self.repeat)
        with closing(sqlite3.connect(self.path)) as conn:
            for query in SQL_BLOCKS:
                name = readme_name(query)
                measure = measures.setdefault(name, Measure(name, readme=True, statements=[query]))
                measure.ms[size] = timed(lambda q=query: conn.execute(q).fetchall(), self.repeat)

    def _unchanged(self, store: Store) -> None:
        last = store.last_capture_of(self.url)
        assert last is not None
        record = CaptureRecord(
            site=self.site,
            source=self.url,
            kind="html",
            captured_at=self._now(),
            sha256=None,
            http_status=304,
            repeats_capture_id=last.capture_id,
        )
        result = ingest(store, record, None, None)
        assert result.cards == generated.CARDS_PER_PAGE, result

    def _one_new(self, store: Store, cards: list[Card]) -> None:
        at = self._now()
        new = Card(
            title=f"A new post at {at}",
            url=f"{self.url}posts/new-{self.clock}",
            categories=("NLP",),
            tags=("attention",),
            date=at[:10],
            excerpt=f"Posted at {at}. {generated.SEARCHED}机制的直观解释，以及它的推理成本。",
        )
        page = [new, *cards]
        data = "".join(f"<article>{c.title}|{c.url}|{c.excerpt}</article>" for c in page).encode()
        sha = hashlib.sha256(data).hexdigest()
        record = CaptureRecord(
            site=self.site,
            source=self.url,
            kind="html",
            captured_at=at,
            sha256=sha,
            page_url=self.url,
            http_status=200,
            parsed_with="auto",
        )
        result = ingest(store, record, data, page)
        assert (result.new_entries, result.new_versions) == (1, 0), result


def scans(conn: sqlite3.Connection, statement: str) -> list[str]:
    """The full scans of BIG_TABLES in a statement's plan (a name in the plan may be an alias,
    of the statement or of a view it reads)."""
    views = " ".join(row[0] for row in conn.execute("SELECT sql FROM sqlite_master WHERE type = 'view'"))
    names = "|".join((*BIG_TABLES, "current_entries", "version_history"))
    alias = {a: t for t, a in re.findall(rf"\b({names})\b(?:\s+AS)?\s+(\w+)", f"{statement} {views}", re.I)}
    alias.update({t: t for t in BIG_TABLES})
    found = []
    for row in conn.execute(f"EXPLAIN QUERY PLAN {statement}"):
        hit = re.fullmatch(r"(?:SCAN|SEARCH) (\w+)", row[3])
        if hit and alias.get(hit[1], hit[1]) in (*BIG_TABLES, "current_entries", "version_history"):
            found.append(row[3])
    return found


def explain(path: Path, statements: list[str]) -> None:
    with closing(sqlite3.connect(path)) as conn:
        for statement in statements:
            print(f"  {' '.join(statement.split())[:200]}")
            for row in conn.execute(f"EXPLAIN QUERY PLAN {statement}"):
                print(f"      {row[3]}")


def report(measures: dict[str, Measure], sizes: list[float], path: Path | None) -> bool:
    """The table and a verdict per measure; EXPLAIN QUERY PLAN of the failing ones. True: all pass."""
    head = ["measure (ms, median)", *(f"{s:.0e}" for s in sizes), f"{sizes[-1]:.0e}/{sizes[0]:.0e}"]
    width = max(len(m) for m in measures) + 2
    print("".join([head[0].ljust(width), *(h.rjust(13) for h in head[1:])]))
    for m in measures.values():
        ratio = m.ms[sizes[-1]] / m.ms[sizes[0]]
        print("".join([m.name.ljust(width), *(f"{m.ms[s]:13.3f}" for s in sizes), f"{ratio:13.2f}"]))
    print()
    passed = True
    for m in measures.values():
        ratio = m.ms[sizes[-1]] / m.ms[sizes[0]]
        fails = [f"{ratio:.2f}x > {MAX_RATIO}x"] if ratio > MAX_RATIO else []
        if m.readme and m.ms[sizes[-1]] > README_LIMIT_MS:
            fails.append(f"{m.ms[sizes[-1]]:.1f} ms > {README_LIMIT_MS:.0f} ms at {sizes[-1]:.0e}")
        print(f"{'FAIL' if fails else 'ok  '} {m.name}: {'; '.join(fails) or f'{ratio:.2f}x'}")
        if fails and path is not None:
            explain(path, m.statements)
        passed = passed and not fails
    if path is not None:
        with closing(sqlite3.connect(path)) as conn:
            for m in measures.values():
                for statement in m.statements:
                    for scan in scans(conn, statement):
                        print(f"SCAN of a big table: {scan} in {' '.join(statement.split())[:160]}")
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--sizes", default="1e4,1e6,1e7", help="versions per archive, comma-separated")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()), help="where the archives go")
    parser.add_argument("--keep", action="store_true", help="keep the archives")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per measure (median)")
    args = parser.parse_args()
    try:
        sizes = sorted(float(s) for s in args.sizes.split(","))
    except ValueError:
        parser.error(f"--sizes {args.sizes!r}: give numbers of versions, e.g. 1e4,1e6")
    if len(sizes) < 2 or args.repeat < 1 or not args.dir.is_dir():
        parser.error("--sizes needs two sizes or more, --repeat 1 or more, --dir an existing folder")
    need = sum(sizes) * BYTES_PER_VERSION
    if shutil.disk_usage(args.dir).free < 1.5 * need:
        parser.error(f"--dir {args.dir}: about {need / 1e9:.1f} GB needed; free some space or choose another")
    folder = Path(tempfile.mkdtemp(prefix="archiver-scale-", dir=args.dir))
    measures: dict[str, Measure] = {}
    path = None
    try:
        for size in sizes:
            shape = generated.Shape.for_versions(int(size))
            path = folder / f"scale-{size:.0e}.db"
            start = time.perf_counter()
            counts = generated.generate(path, shape)
            took = time.perf_counter() - start
            on_disk = sum(p.stat().st_size for p in folder.glob(f"{path.name}*"))
            print(
                f"{size:.0e}: generated in {took:.1f} s, {on_disk / 1e6:.0f} MB, {shape.sites} sites, "
                + json.dumps({k: counts[k] for k in ("entries", "versions", "captures", "cards_seen")}),
                flush=True,
            )
            Bench(path, shape, args.repeat).run(measures, size)
        print()
        passed = report(measures, sizes, path)
    finally:
        if args.keep:
            print(f"archives kept in {folder}")
        else:
            shutil.rmtree(folder)
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
