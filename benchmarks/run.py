"""archiver's performance benchmark: ingest, storage, crawl and scale, in one process.

    python benchmarks/run.py [--quick] [--only ingest,storage,crawl,scale,sites]

Builds its own data (benchmarks/pages.py: deterministic 57-60 KB listing pages with 20 cards,
Chinese excerpts and real site chrome) in memory and in a temporary directory, never in the
repository. Everything that is compared runs in this one process, one after the other, so the
ratios hold on a noisy machine. The last line is one summary:

    bench: ingest_pages_s=... ceiling_ratio=... baseline_ratio=... unchanged_growth_bytes=...
           crawl_speedup=... backfill_pages_s=... unchanged_requests=... search_ms_100k=...
           sites_1000_s=... cron_start_ms=...

Targets (2-core machine): ingest >= 0.6 x the ceiling and >= 15 x the naive baseline; < 2 KB of
database growth per unchanged capture; crawl speed-up >= 6 x at concurrency 8; exactly 1 request
for an unchanged site; search over 100,000 entries < 50 ms; import cost per page at 100,000
entries within 1.5 x of its cost at 1,000; 1,000 unchanged blogs checked by `archiver run` in at
most 4 s with exactly 1,000 page requests, at least 50 x faster than a process per blog, and one
unchanged blog in at most 150 ms of process wall time. Needs the `bench` extra (beautifulsoup4).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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

SUMMARY: dict[str, str] = {}
TARGETS: list[tuple[str, bool, str]] = []
_T0 = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Config:
    quick: bool
    ingest_pages: int
    baseline_pages: int
    auto_pages: int
    storage_pages: int
    storage_repeats: int
    crawl_pages: int
    scale_entries: int
    scale_sample: int


FULL = Config(False, 2000, 150, 400, 100, 50, 200, 100_000, 200)
QUICK = Config(True, 300, 30, 60, 100, 5, 50, 10_000, 60)


def out(line: str = "") -> None:
    print(line, flush=True)


def target(name: str, ok: bool, detail: str) -> None:
    TARGETS.append((name, ok, detail))
    out(f"  target {name}: {'met' if ok else 'MISSED'} ({detail})")


def stamp(hours: float) -> str:
    return (_T0 + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- memory: peak resident set size of a phase ----------------------------------------------------


def release_freed() -> None:
    """Collect garbage and hand freed heap back to the OS, so RSS shows live memory only."""
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _status(field: str) -> int:
    with Path("/proc/self/status").open(encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class PeakMemory:
    """Peak RSS reached during a phase, above the RSS at its start (kB).

    Linux resets the high-water mark (VmHWM) when 5 is written to /proc/self/clear_refs, so the
    peak of each phase is measured on its own in one process, with no tracing overhead.
    """

    def __init__(self) -> None:
        gc.collect()
        try:
            Path("/proc/self/clear_refs").write_text("5")
            self.supported = True
        except OSError:
            self.supported = False
        self.base = _status("VmRSS")

    def peak_kb(self) -> int:
        return max(0, _status("VmHWM") - self.base) if self.supported else -1


def fmt_kb(kb: int) -> str:
    return "n/a" if kb < 0 else f"{kb / 1024:.1f} MB"


# -- the three extractors ---------------------------------------------------------------------------


def archiver_import(store: Store, data: bytes, url: str, at: str, profile: Profile | None) -> int:
    """What `archiver import`/`crawl` do with one page: parse, hash, store (imports.import_files)."""
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


def bare_extract(data: bytes, url: str, profile: Profile) -> list[tuple[object, ...]]:
    """The ceiling: selectolax parse and extraction of the same fields with the same selectors.

    No hashing, no storage, no normalisation: decode, parse, select the cards, one query per
    field selector, text/attribute of the match, permalink resolved against the page URL.
    """
    tree = LexborHTMLParser(data.decode("utf-8"))
    found = []
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
    if nxt is not None and nxt.attributes.get("href"):
        found.append((urljoin(url, nxt.attributes["href"] or ""),))
    return found


def naive_baseline(conn: sqlite3.Connection, data: bytes, url: str, at: str) -> int:
    """The naive baseline: BeautifulSoup (html.parser) and one upsert per card, commit per page."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data.decode("utf-8"), "html.parser")
    n = 0
    for card in soup.select("article.post-card"):
        link = card.select_one("h2.post-title a")
        when = card.select_one("time")
        excerpt = card.select_one(".post-excerpt")
        conn.execute(
            "INSERT INTO post (url, title, category, tags, date, excerpt, first_seen, last_seen, seen)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT (url) DO UPDATE SET title = excluded.title,"
            " category = excluded.category, tags = excluded.tags, date = excluded.date,"
            " excerpt = excluded.excerpt, last_seen = excluded.last_seen, seen = seen + 1",
            (
                urljoin(url, link["href"]) if link is not None else None,
                link.get_text(strip=True) if link is not None else None,
                ", ".join(a.get_text(strip=True) for a in card.select(".post-category a")),
                ", ".join(a.get_text(strip=True) for a in card.select(".post-tags a")),
                when.get_text(strip=True) if when is not None else None,
                excerpt.get_text(" ", strip=True) if excerpt is not None else None,
                at,
                at,
            ),
        )
        n += 1
    conn.commit()
    return n


def naive_db(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE post (url TEXT PRIMARY KEY, title TEXT, category TEXT, tags TEXT, date TEXT,"
        " excerpt TEXT, first_seen TEXT, last_seen TEXT, seen INTEGER)"
    )
    conn.commit()
    return conn


def db_bytes(store: Store) -> int:
    """Size of the archive file with its write-ahead log folded in (what the user keeps), once the
    search index is up to date (as every run leaves it, where the archive indexes in batches)."""
    store.index_pending()
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = store.path.stat().st_size
    wal = Path(str(store.path) + "-wal")
    return size + (wal.stat().st_size if wal.exists() else 0)


@contextmanager
def timed() -> Iterator[Callable[[], float]]:
    start = time.perf_counter()
    end: list[float] = []
    yield lambda: (end[0] if end else time.perf_counter()) - start
    end.append(time.perf_counter())


# -- 1. ingest -------------------------------------------------------------------------------------


def part_ingest(cfg: Config, tmp: Path) -> None:
    n = cfg.ingest_pages
    out(f"== 1. ingest: {n} hourly captures of a front page, 20 cards each, 95% already known")
    with timed() as gen_time:
        captures = [data for _, data in pages.hourly_front_pages(n)]
    sizes = [len(d) for d in captures]
    out(
        f"  pages: {min(sizes) / 1024:.1f}-{max(sizes) / 1024:.1f} KB"
        f" (mean {statistics.mean(sizes) / 1024:.1f}),"
        f" built in {gen_time():.1f} s; 1 new post per capture, every 97th post edited once"
    )
    url = pages.BASE_URL
    profile = pages.PROFILE
    # archiver reads the captures as `archiver import` does: from files (each with its own time)
    folder = tmp / "captures"
    folder.mkdir()
    files = []
    for i, data in enumerate(captures):
        path = folder / f"{i:05d}.html"
        path.write_bytes(data)
        files.append(ImportFile(path, "html", url, captured_at=stamp(i)))

    # The three contenders take turns on each block of pages, so that a burst of load from other
    # processes hits all of them alike: the ratios are fair even when the rates wobble.
    db = tmp / "ingest.db"
    conn = naive_db(tmp / "naive.db")
    blocks = 10
    size = -(-n // blocks)
    per_block = max(1, cfg.baseline_pages // blocks)
    t_archiver = t_ceiling = t_baseline = 0.0
    cards = baseline_n = 0
    for b in range(blocks):
        block = list(enumerate(captures))[b * size : (b + 1) * size]
        with timed() as elapsed:
            for _, data in block:
                bare_extract(data, url, profile)
        t_ceiling += elapsed()
        with timed() as elapsed:
            cards += archiver_import_files(db, files[b * size : (b + 1) * size], profile)
        t_archiver += elapsed()
        sample = block[:: max(1, len(block) // per_block)][:per_block]
        with timed() as elapsed:
            for i, data in sample:
                naive_baseline(conn, data, url, stamp(i))
        t_baseline += elapsed()
        baseline_n += len(sample)
    with Store(db) as store:
        stats = store.stats()
    conn.close()
    pages_s, ceiling, baseline = n / t_archiver, n / t_ceiling, baseline_n / t_baseline
    out(
        f"  archiver import (profile): {pages_s:8.1f} pages/s  {cards / t_archiver:9.0f} cards/s"
        f"  ({1000 / pages_s:.2f} ms/page; {stats['entries']} entries, {stats['versions']} versions,"
        f" {stats['cards_seen']} cards seen)"
    )
    out(
        f"  ceiling (bare selectolax): {ceiling:8.1f} pages/s  {20 * ceiling:9.0f} cards/s"
        f"  ({1000 / ceiling:.2f} ms/page)"
    )
    out(
        f"  naive baseline (bs4 + upsert per card): {baseline:6.1f} pages/s"
        f"  ({1000 / baseline:.1f} ms/page, {baseline_n} of the pages, spread over the run)"
    )

    # peak memory: the same import again, alone in a fresh process (pages built one at a time)
    probe = subprocess.run(
        [sys.executable, __file__, "--memory-probe", str(n)], capture_output=True, text=True, check=True
    )
    early, rss_start, hwm_early, hwm_all = (int(v) for v in probe.stdout.split())
    out(
        f"  peak memory of the import (fresh process): RSS {rss_start / 1024:.1f} MB before,"
        f" peak {hwm_early / 1024:.1f} MB after {early} pages, {hwm_all / 1024:.1f} MB after {n}"
        f" (+{(hwm_all - hwm_early) / 1024:.1f} MB for {n - early} more pages)"
    )

    # zero-config import: the same pages with no profile (detection on every page)
    auto_n = min(cfg.auto_pages, n)
    store = Store(tmp / "auto.db")
    with timed() as elapsed:
        for i, data in enumerate(captures[:auto_n]):
            archiver_import(store, data, url, stamp(i), None)
    store.close()
    auto = auto_n / elapsed()
    out(
        f"  extra: zero-config import (no profile): {auto:6.1f} pages/s"
        f" ({1000 / auto:.2f} ms/page, {auto_n} pages)"
    )

    ceiling_ratio = pages_s / ceiling
    baseline_ratio = pages_s / baseline
    out(f"  ceiling_ratio = {ceiling_ratio:.2f}   baseline_ratio = {baseline_ratio:.1f}x")
    target("ingest >= 0.6 x ceiling", ceiling_ratio >= 0.6, f"{ceiling_ratio:.2f}")
    target("ingest >= 15 x naive baseline", baseline_ratio >= 15, f"{baseline_ratio:.1f}x")
    SUMMARY["ingest_pages_s"] = f"{pages_s:.1f}"
    SUMMARY["ceiling_ratio"] = f"{ceiling_ratio:.2f}"
    SUMMARY["baseline_ratio"] = f"{baseline_ratio:.1f}"
    del captures


# -- 2. storage ------------------------------------------------------------------------------------


def part_storage(cfg: Config, tmp: Path) -> None:
    n, repeats = cfg.storage_pages, cfg.storage_repeats
    out(f"== 2. storage: a {n}-page site imported once, then {repeats} more times unchanged")
    site = [(pages.site_page_url(p), pages.site_page(p, n)) for p in range(1, n + 1)]
    store = Store(tmp / "storage.db")
    empty = db_bytes(store)
    for url, data in site:
        archiver_import(store, data, url, stamp(0), pages.PROFILE)
    once = db_bytes(store)
    stats = store.stats()
    with timed() as elapsed:
        for r in range(1, repeats + 1):
            for url, data in site:
                archiver_import(store, data, url, stamp(r), pages.PROFILE)
    again = db_bytes(store)
    after = store.stats()
    store.close()
    captures = repeats * n
    growth = (again - once) / captures
    versions = stats["versions"]
    out(
        f"  after 1 import: {once:,} bytes ({stats['entries']} entries, {versions} versions,"
        f" {stats['blobs']} blobs = {stats['blob_bytes']:,} bytes zstd"
        f" of {sum(len(d) for _, d in site):,} raw)"
    )
    out(
        f"  after {repeats} more: {again:,} bytes"
        f" ({after['captures']} captures, {after['versions']} versions)"
    )
    out(
        f"  growth per unchanged capture: {growth:.0f} bytes  (per unchanged site crawl of {n} pages:"
        f" {growth * n / 1024:.1f} KB; re-import {captures / elapsed():.0f} pages/s)"
    )
    out(
        f"  bytes per stored version: {(once - empty) / versions:.0f} (all),"
        f" {(once - empty - stats['blob_bytes']) / versions:.0f} without the raw pages"
    )
    target("< 2 KB growth per unchanged capture", growth < 2048, f"{growth:.0f} bytes")
    SUMMARY["unchanged_growth_bytes"] = f"{growth:.0f}"


# -- 3. crawl --------------------------------------------------------------------------------------


@contextmanager
def blog_server(n_pages: int, latency: float) -> Iterator[str]:
    """benchmarks/server.py in its own process (its work does not take this interpreter's lock)."""
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "server.py"), "--pages", str(n_pages), "--latency", str(latency)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"benchmark server did not start: {line!r}")
        yield f"http://127.0.0.1:{int(line.split()[1])}/"
    finally:
        proc.terminate()
        proc.wait(10)


def server_counts(base: str, *, reset: bool = False) -> dict[str, int]:
    import json
    import urllib.request

    with urllib.request.urlopen(base + ("_bench/reset" if reset else "_bench/stats")) as response:
        return dict(json.loads(response.read()))


def part_crawl(cfg: Config, tmp: Path) -> None:
    n = cfg.crawl_pages
    out(f"== 3. crawl: local HTTP server on 127.0.0.1, +20 ms per response, {n} pages, zero-config")
    try:
        from archiver.crawl import Crawler, Target, fetcher_for
        from archiver.fetcher import FetchOptions
    except ImportError as exc:
        out(f"  skipped: the crawl code is not there ({exc})")
        return
    import httpx

    options = FetchOptions(delay=0)

    cpu: dict[int, float] = {}

    def backfill(db: Path, base: str, concurrency: int) -> tuple[float, int]:
        cpu_start = time.process_time()
        with Store(db) as store, fetcher_for(store, options) as fetcher, timed() as elapsed:
            summary = Crawler(store, fetcher, Target(base)).backfill(concurrency=concurrency)
        cpu[concurrency] = (time.process_time() - cpu_start) / max(1, summary.pages)
        return elapsed(), summary.pages

    with blog_server(n, 0.02) as base:
        with httpx.Client() as client, timed() as elapsed:
            for p in range(1, n + 1):
                client.get(pages.site_page_url(p, base)).raise_for_status()
        bare_s = elapsed()
        seq_s, seq_pages = backfill(tmp / "crawl-seq.db", base, 1)
        server_counts(base, reset=True)
        par_s, par_pages = backfill(tmp / "crawl-par.db", base, 8)
        par_requests = sum(server_counts(base).values())
        server_counts(base, reset=True)
        # the scheduled run, as cron starts it: the real command in its own process
        env = {**os.environ, "ARCHIVER_DB": str(tmp / "crawl-par.db")}
        with timed() as crawl_time:
            done = subprocess.run(
                [sys.executable, "-m", "archiver", "crawl", base, "--delay", "0", "--quiet"],
                env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
        counts = server_counts(base)
    if done.returncode != 0:
        out(f"  incremental crawl failed ({done.returncode}): {done.stderr.strip()[:300]}")
    requests = sum(counts.values())
    page_requests = counts.get("pages_200", 0) + counts.get("pages_304", 0)
    speedup = seq_s / par_s
    out(f"  plain sequential fetch (httpx GET loop, no processing): {n / bare_s:6.1f} pages/s")
    out(
        f"  archiver backfill --concurrency 1 --delay 0: {seq_pages / seq_s:6.1f} pages/s ({seq_pages} pages)"
    )
    out(
        f"  archiver backfill --concurrency 8 --delay 0: {par_pages / par_s:6.1f} pages/s ({par_pages} pages,"
        f" {par_requests} requests)"
    )
    out(
        f"  speed-up at concurrency 8: {speedup:.1f}x over the sequential backfill,"
        f" {bare_s / par_s:.1f}x over the plain sequential fetch"
    )
    out(
        f"  incremental `archiver crawl` of the unchanged site: {requests} request(s)"
        f" ({page_requests} listing page: {counts.get('pages_304', 0)} x 304,"
        f" {counts.get('pages_200', 0)} x 200;"
        f" {counts.get('robots', 0)} robots.txt), {crawl_time():.2f} s including start-up"
    )
    out(
        f"  crawler CPU per page (fetch + parse + store, all threads): {1000 * cpu[1]:.1f} ms sequential,"
        f" {1000 * cpu[8]:.1f} ms at concurrency 8; with 20 ms latency and one thread storing, the"
        f" speed-up cannot exceed about {(0.0205 + cpu[1]) / cpu[8]:.1f}x on this machine"
    )
    target("crawl speed-up >= 6 x at concurrency 8", speedup >= 6, f"{speedup:.1f}x")
    target("1 request for an unchanged site", requests == 1, f"{requests}")
    SUMMARY["crawl_speedup"] = f"{speedup:.1f}"
    SUMMARY["backfill_pages_s"] = f"{par_pages / par_s:.1f}"
    SUMMARY["unchanged_requests"] = str(requests)


# -- 4. scale --------------------------------------------------------------------------------------

SEARCH_QUERIES = ("注意力机制", "流水线并行", "视线估计", "交叉熵", "梯度下降", "知识蒸馏", "马尔可夫链")


def search_ms(store: Store) -> tuple[float, list[int]]:
    """Median ms of Store.search over the queries (each run 3 times), and the hit counts."""
    times = []
    hits = []
    for q in SEARCH_QUERIES:
        hits.append(
            store.conn.execute(
                "SELECT count(*) FROM entry_fts WHERE entry_fts MATCH ?", (f'"{q}"',)
            ).fetchone()[0]
        )
        for _ in range(3):
            start = time.perf_counter()
            store.search(q)
            times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times), hits


def part_scale(cfg: Config, tmp: Path) -> None:
    target_entries = cfg.scale_entries
    new_per = 2  # 2 new posts of 20 per capture: 10 sightings per entry, 1M cards at 100k entries
    captures = (target_entries - pages.CARDS_PER_PAGE) // new_per + 1
    sample = cfg.scale_sample
    out(
        f"== 4. scale: one growing archive to {target_entries:,} entries"
        f" ({captures:,} captures x 20 cards = {captures * 20:,} cards seen)"
    )
    release_freed()
    store = Store(tmp / "scale.db")

    def entries_at(i: int) -> int:
        return pages.CARDS_PER_PAGE + i * new_per

    def bulk(first: int, last: int) -> float:
        """Captures first..last-1 through ingest.ingest with ready cards (no HTML, no blob)."""
        with timed() as elapsed:
            for i in range(first, last):
                _, shown = pages.front_posts(i, new_per_capture=new_per)
                record = CaptureRecord(
                    site=pages.SITE_HOST, source=pages.BASE_URL, kind="html", captured_at=stamp(i),
                    sha256=None, page_url=pages.BASE_URL, parsed_with="profile",
                )  # fmt: skip
                ingest(store, record, None, [p.card() for p in shown])
        return elapsed()

    def html_import(first: int) -> tuple[float, int]:
        """``sample`` real HTML imports (parse + hash + store) from capture ``first``: ms/page."""
        docs = [pages.front_page(i, new_per_capture=new_per)[1] for i in range(first, first + sample)]
        mem = PeakMemory()
        with timed() as elapsed:
            for k, data in enumerate(docs):
                archiver_import(store, data, pages.BASE_URL, stamp(first + k), pages.PROFILE)
        return 1000 * elapsed() / sample, mem.peak_kb()

    start_small = (1000 - pages.CARDS_PER_PAGE) // new_per
    bulk(0, start_small)
    small_ms, small_mem = html_import(start_small)
    small_search, small_hits = search_ms(store)
    release_freed()
    small_rss = _status("VmRSS")
    out(
        f"  at {entries_at(start_small):>7,} entries: import {small_ms:.2f} ms/page over {sample} pages"
        f" (peak +{fmt_kb(small_mem)});"
        f" search median {small_search:.2f} ms (hits {small_hits}); process RSS {small_rss / 1024:.1f} MB"
    )
    first_bulk = start_small + sample
    end_bulk = captures - sample
    checkpoints = sorted({first_bulk + (end_bulk - first_bulk) * k // 4 for k in range(1, 5)})
    position = first_bulk
    for stop in checkpoints:
        seconds = bulk(position, stop)
        out(
            f"  bulk build to {entries_at(stop):>7,} entries: {(stop - position) / seconds:6.0f} captures/s,"
            f" process RSS {_status('VmRSS') / 1024:.1f} MB, peak {_status('VmHWM') / 1024:.1f} MB"
        )
        position = stop
    big_ms, big_mem = html_import(end_bulk)
    big_search, big_hits = search_ms(store)
    stats = store.stats()
    size = db_bytes(store)
    store.close()
    release_freed()
    big_rss = _status("VmRSS")
    out(
        f"  at {entries_at(end_bulk):>7,} entries: import {big_ms:.2f} ms/page over {sample} pages"
        f" (peak +{fmt_kb(big_mem)});"
        f" search median {big_search:.2f} ms (hits {big_hits}); process RSS {big_rss / 1024:.1f} MB"
    )
    growth = big_ms / small_ms
    out(
        f"  {stats['cards_seen']:,} cards seen, {stats['versions']:,} versions, {size / 2**20:.0f} MB file;"
        f" import cost per page x{growth:.2f} from {entries_at(start_small):,}"
        f" to {entries_at(end_bulk):,} entries;"
        f" search x{big_search / small_search:.1f}; RSS {small_rss / 1024:.1f} -> {big_rss / 1024:.1f} MB"
    )
    target("search < 50 ms", big_search < 50, f"{big_search:.1f} ms at {stats['entries']:,} entries")
    target("import cost at 100k within 1.5 x of 1k", growth <= 1.5, f"{growth:.2f}x")
    flat = big_rss - small_rss < 16 * 1024
    target("memory flat as input grows", flat, f"RSS {(big_rss - small_rss) / 1024:+.1f} MB")
    SUMMARY["search_ms_100k"] = f"{big_search:.1f}"


def memory_probe(n: int) -> None:
    """Child process of part 1: import ``n`` pages, print VmRSS before and VmHWM at 10% and 100%."""
    early = max(1, n // 10)
    with tempfile.TemporaryDirectory(prefix="archiver-bench-") as name:
        store = Store(Path(name) / "mem.db")
        archiver_import(store, pages.front_page(0)[1], pages.BASE_URL, stamp(0), pages.PROFILE)
        gc.collect()
        rss_start = _status("VmRSS")
        hwm_early = 0
        for i in range(1, n):
            archiver_import(store, pages.front_page(i)[1], pages.BASE_URL, stamp(i), pages.PROFILE)
            if i + 1 == early:
                hwm_early = _status("VmHWM")
        store.close()
    print(early, rss_start, hwm_early, _status("VmHWM"))


def part_sites(cfg: Config, tmp: Path) -> None:
    """Many blogs from one cron line (benchmarks/sites.py): 1,000 blogs, 100 in quick mode."""
    import sites

    count = 100 if cfg.quick else 1000
    out(f"== 5. sites: {count} blogs on 127.0.0.1 ports, +20 ms a response, `archiver run` vs a process each")
    figures = {}

    def report(name: str, value: str, ok: bool | None) -> None:
        figures[name] = value
        detail = f"{name} = {value}"
        if ok is None:
            out(f"  {detail}")
        else:
            target(name, ok, detail)

    sites.measure(count, 0.02, 50 if not cfg.quick else 10, tmp, report)
    SUMMARY[f"sites_{count}_s"] = figures[f"sites_{count}_s"]
    SUMMARY["cron_start_ms"] = figures["cron_start_ms"]


PARTS = {
    "ingest": part_ingest,
    "storage": part_storage,
    "crawl": part_crawl,
    "scale": part_scale,
    "sites": part_sites,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs, under a minute")
    parser.add_argument("--only", default=",".join(PARTS), help="comma-separated parts to run")
    parser.add_argument("--memory-probe", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe:
        memory_probe(args.memory_probe)
        return
    cfg = QUICK if args.quick else FULL
    started = time.perf_counter()
    out(
        f"archiver benchmark ({'quick' if cfg.quick else 'full'}), python {sys.version.split()[0]},"
        f" sqlite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory(prefix="archiver-bench-") as name:
        for part in args.only.split(","):
            section_start = time.perf_counter()
            PARTS[part.strip()](cfg, Path(name))
            out(f"  ({time.perf_counter() - section_start:.1f} s)")
    missed = [name for name, ok, _ in TARGETS if not ok]
    out(
        f"== {len(TARGETS) - len(missed)}/{len(TARGETS)} targets met in {time.perf_counter() - started:.0f} s"
        + (f"; missed: {', '.join(missed)}" if missed else "")
    )
    keys = ("ingest_pages_s", "ceiling_ratio", "baseline_ratio", "unchanged_growth_bytes",
            "crawl_speedup", "backfill_pages_s", "unchanged_requests", "search_ms_100k",
            "sites_1000_s" if not cfg.quick else "sites_100_s", "cron_start_ms")  # fmt: skip
    out("bench: " + " ".join(f"{k}={SUMMARY.get(k, 'n/a')}" for k in keys))


if __name__ == "__main__":
    main()
