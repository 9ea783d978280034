"""archiver's performance benchmark: ingest, storage, crawl and scale, against peers, in one run.

    python benchmarks/run.py [--quick] [--only ingest,storage,crawl,scale,sites]

Builds its own data (benchmarks/pages.py: deterministic 57-60 KB listing pages with 20 cards,
Chinese excerpts and real site chrome) in memory and in a temporary directory, never in the
repository. Whatever is compared runs in the same run, one after the other (the ingest
contenders take turns on blocks of pages), so the ratios hold on a noisy machine. The last line
is one summary, each figure followed by ``:met`` or ``:MISSED``:

    bench: ingest_cpu_ratio=... peer_ratio=... scrapy_ratio=... unchanged_growth_bytes=...
           noisy_growth_bytes=... sites_1000_s=... cron_start_ms=... search_ms_100k=... scale_ratio=...

Quick mode measures less and says so in the names (``search_ms_10k``, ``sites_100_s``,
``scale_ratio_1e5``). Targets (this 2-core machine, ratios from one run):

- ingest: CPU per page, summed over archiver's processes (the parse worker too), at most
  1.6 x the bare selectolax extraction's; wall-clock pages/s at least the competent peer's
  (selectolax and an upsert per card in WAL mode);
- crawl: `archiver backfill --concurrency 8 --delay 0` at least 1.5 x Scrapy's pages/s on the
  same local server (benchmarks/scrapy_peer.py; skipped without Scrapy), the same posts stored;
- storage: at most 2 KB of file growth per unchanged capture, byte-identical or with a nonce;
- sites: 1,000 unchanged blogs checked by `archiver run` in at most 4 s; one unchanged blog in
  at most 150 ms of process wall time;
- scale: search over 100,000 entries under 50 ms; per-capture costs within 1.5 x from 10^4 to
  10^7 versions (benchmarks/scale.py's archives and measures; 10^7 is about 7.5 GB on disk and
  5 minutes to build).

Needs the `bench` extra (Scrapy) for the Scrapy comparison only.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import shutil
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import noise  # noqa: E402
import pages  # noqa: E402
from contenders import Peer, archiver_import, archiver_import_files, bare_extract, cpu_seconds  # noqa: E402
from crawl_part import part_crawl  # noqa: E402
from memory import PeakMemory, fmt_kb, release_freed, status  # noqa: E402
from report import TARGETS, figure, out, summary_line, target, timed  # noqa: E402

from archiver.imports import ImportFile  # noqa: E402
from archiver.ingest import ingest  # noqa: E402
from archiver.store import CaptureRecord, Store  # noqa: E402

#: Targets (this 2-core machine; see the module docstring)
MAX_INGEST_CPU_RATIO = 1.6
MAX_CAPTURE_GROWTH_BYTES = 2048
MAX_SEARCH_MS = 50.0
MAX_SCALE_RATIO = 1.5

_T0 = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Config:
    quick: bool
    ingest_pages: int
    auto_pages: int
    storage_pages: int
    storage_repeats: int
    crawl_pages: int
    scale_entries: int
    scale_sample: int
    #: benchmarks/scale.py's archive sizes (versions) for the per-capture cost ratio
    scale_versions: tuple[float, float]
    sites: int

    def scale_ratio_name(self) -> str:
        """``scale_ratio`` when it spans 10^4 to 10^7 versions, else its top: ``scale_ratio_1e5``."""
        exponent = round(math.log10(self.scale_versions[1]))
        return "scale_ratio" if exponent == 7 else f"scale_ratio_1e{exponent}"

    def summary_names(self) -> list[str]:
        """The summary line's figures, named for what this configuration measures."""
        return [
            "ingest_cpu_ratio", "peer_ratio", "scrapy_ratio", "unchanged_growth_bytes", "noisy_growth_bytes",
            f"sites_{self.sites}_s", "cron_start_ms", f"search_ms_{self.scale_entries // 1000}k",
            self.scale_ratio_name(),
        ]  # fmt: skip


FULL = Config(False, 2000, 400, 100, 50, 200, 100_000, 200, (1e4, 1e7), 1000)
# quick: fewer pages captured more often, so that pages with a nonce reach the steady state of their
# dictionaries (a page's own dictionary is bought after a few captures, see archiver.dictionaries)
QUICK = Config(True, 300, 60, 20, 40, 50, 10_000, 60, (1e4, 1e5), 100)


def stamp(hours: float) -> str:
    return (_T0 + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def db_bytes(store: Store) -> int:
    """Size of the archive file with its write-ahead log folded in (what the user keeps), once the
    search index is up to date (as every run leaves it, where the archive indexes in batches)."""
    store.index_pending()
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = store.path.stat().st_size
    wal = Path(str(store.path) + "-wal")
    return size + (wal.stat().st_size if wal.exists() else 0)


# -- 1. ingest -------------------------------------------------------------------------------------


def part_ingest(cfg: Config, tmp: Path) -> None:
    n = cfg.ingest_pages
    out(f"== 1. ingest: {n} hourly captures of a front page, 20 cards each, 95% already known")
    url = pages.BASE_URL
    profile = pages.PROFILE
    # Every contender reads the captures from files, as `archiver import` does (each with its own
    # time); none are held in memory, which would make every fork of archiver's worker dearer.
    folder = tmp / "captures"
    folder.mkdir()
    files = []
    sizes = []
    with timed() as gen_time:
        for i in range(n):
            path = folder / f"{i:05d}.html"
            sizes.append(path.write_bytes(pages.front_page(i)[1]))
            files.append(ImportFile(path, "html", url, captured_at=stamp(i)))
    out(
        f"  pages: {min(sizes) / 1024:.1f}-{max(sizes) / 1024:.1f} KB"
        f" (mean {statistics.mean(sizes) / 1024:.1f}),"
        f" built in {gen_time():.1f} s; 1 new post per capture, every 97th post edited once"
    )

    # The three contenders take turns on each block of pages, so that a burst of load from other
    # processes hits all of them alike. CPU time is summed over all of a contender's processes
    # (archiver parses in a second one): on a machine whose other core is busy, wall-clock
    # ratios measure the load, CPU ratios measure the code.
    db = tmp / "ingest.db"
    peer = Peer(tmp / "peer.db")
    blocks = 10
    size = -(-n // blocks)
    wall = dict.fromkeys(("archiver", "ceiling", "peer"), 0.0)
    cpu = dict.fromkeys(wall, 0.0)
    cards = peer_cards = 0

    @contextmanager
    def turn(name: str) -> Iterator[None]:
        cpu_start, wall_start = cpu_seconds(), time.perf_counter()
        yield
        wall[name] += time.perf_counter() - wall_start
        cpu[name] += cpu_seconds() - cpu_start

    for b in range(blocks):
        block = range(b * size, min(n, (b + 1) * size))
        with turn("ceiling"):
            for i in block:
                bare_extract(files[i].path.read_bytes(), url, profile)
        with turn("archiver"):
            cards += archiver_import_files(db, files[block.start : block.stop], profile)
        with turn("peer"):
            for i in block:
                peer_cards += peer.ingest(files[i].path, url, stamp(i), profile)
    peer.close()
    with Store(db) as store:
        stats = store.stats()
    if peer_cards != cards:
        raise RuntimeError(f"the peer stored {peer_cards} cards, archiver {cards}")
    ms = {name: 1000 * cpu[name] / n for name in cpu}
    rate = {name: n / wall[name] for name in wall}
    out(
        f"  archiver import (profile): {ms['archiver']:5.2f} ms CPU/page (both processes),"
        f" {rate['archiver']:7.1f} pages/s wall ({stats['entries']} entries, {stats['versions']} versions,"
        f" {stats['cards_seen']} cards seen)"
    )
    out(
        f"  ceiling (bare selectolax extraction): {ms['ceiling']:5.2f} ms CPU/page,"
        f" {rate['ceiling']:7.1f} pages/s wall"
    )
    out(
        f"  competent peer (selectolax + an upsert per card, WAL, a commit per page):"
        f" {ms['peer']:5.2f} ms CPU/page, {rate['peer']:7.1f} pages/s wall"
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
        cpu_start = cpu_seconds()
        for i, item in enumerate(files[:auto_n]):
            archiver_import(store, item.path.read_bytes(), url, stamp(i), None)
        auto_cpu = cpu_seconds() - cpu_start
    store.close()
    out(
        f"  extra: zero-config import (no profile, one process): {1000 * auto_cpu / auto_n:.2f} ms CPU/page,"
        f" {auto_n / elapsed():6.1f} pages/s ({auto_n} pages)"
    )

    cpu_ratio = cpu["archiver"] / cpu["ceiling"]
    peer_ratio = rate["archiver"] / rate["peer"]
    figure(
        "ingest_cpu_ratio",
        f"{cpu_ratio:.2f}",
        cpu_ratio <= MAX_INGEST_CPU_RATIO,
        f"archiver's CPU per page / the bare extraction's, at most {MAX_INGEST_CPU_RATIO}",
    )
    figure(
        "peer_ratio",
        f"{peer_ratio:.2f}",
        peer_ratio >= 1.0,
        "archiver's pages/s / the competent peer's (wall; it parses on the second core), at least 1",
    )


# -- 2. storage ------------------------------------------------------------------------------------


def part_storage(cfg: Config, tmp: Path) -> None:
    n, repeats = cfg.storage_pages, cfg.storage_repeats
    out(
        f"== 2. storage: a {n}-page site imported once, then {repeats} more times unchanged:"
        " byte-identical, then with a nonce"
    )
    site = [(pages.site_page_url(p), pages.site_page(p, n)) for p in range(1, n + 1)]
    identical, stats = _growth(tmp / "storage.db", site, repeats, lambda data, _: data)
    out(
        f"  after 1 import: {stats['entries']} entries, {stats['versions']} versions,"
        f" {stats['blobs']} blobs = {stats['blob_bytes']:,} bytes zstd"
        f" of {sum(len(d) for _, d in site):,} raw"
    )
    # a dynamic blog changes a CSRF token, a script nonce and a generation time on every request
    noisy, _ = _growth(tmp / "noisy.db", site, repeats, noise.noisy)
    for name, growth in (("unchanged_growth_bytes", identical), ("noisy_growth_bytes", noisy)):
        figure(
            name,
            f"{growth:.0f}",
            growth <= MAX_CAPTURE_GROWTH_BYTES,
            f"file growth per capture, its cards unchanged; at most {MAX_CAPTURE_GROWTH_BYTES}",
        )


def _growth(
    db: Path, site: list[tuple[str, bytes]], repeats: int, served: Callable[[bytes, int], bytes]
) -> tuple[float, dict[str, int]]:
    """Bytes the archive file grows per capture when ``site`` is imported ``repeats`` more times
    after a first import, each page as ``served(page, capture number)``; and the first's stats."""
    store = Store(db)
    number = 0
    for url, data in site:
        archiver_import(store, served(data, number), url, stamp(0), pages.PROFILE)
        number += 1
    once, stats = db_bytes(store), store.stats()
    for r in range(1, repeats + 1):
        for url, data in site:
            archiver_import(store, served(data, number), url, stamp(r), pages.PROFILE)
            number += 1
    again, after = db_bytes(store), store.stats()
    store.close()
    if after["versions"] != stats["versions"]:
        raise RuntimeError(f"{db.name}: unchanged captures made new versions")
    return (again - once) / (repeats * len(site)), stats


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
    small_rss = status("VmRSS")
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
            f" process RSS {status('VmRSS') / 1024:.1f} MB, peak {status('VmHWM') / 1024:.1f} MB"
        )
        position = stop
    big_ms, big_mem = html_import(end_bulk)
    big_search, big_hits = search_ms(store)
    stats = store.stats()
    size = db_bytes(store)
    store.close()
    release_freed()
    big_rss = status("VmRSS")
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
    flat = big_rss - small_rss < 16 * 1024
    target("memory flat as input grows", flat, f"RSS {(big_rss - small_rss) / 1024:+.1f} MB")
    figure(f"search_ms_{target_entries // 1000}k", f"{big_search:.1f}", big_search < MAX_SEARCH_MS,
           f"median Store.search at {stats['entries']:,} entries, under {MAX_SEARCH_MS:.0f}")  # fmt: skip
    capture_cost_ratio(cfg, tmp)


def capture_cost_ratio(cfg: Config, tmp: Path) -> None:
    """benchmarks/scale.py's per-capture costs on its archives of ``sizes`` versions: their ratio."""
    import scale
    import scale_archive

    sizes = small, big = cfg.scale_versions
    need = big * scale.BYTES_PER_VERSION
    if shutil.disk_usage(tmp).free < 1.5 * need:
        out(f"  per-capture cost ratio skipped: about {need / 1e9:.1f} GB needed in {tmp}")
        return
    measures: dict[str, scale.Measure] = {}
    for size in sizes:
        shape = scale_archive.Shape.for_versions(int(size))
        path = tmp / f"scale-{size:.0e}.db"
        with timed() as took:
            counts = scale_archive.generate(path, shape)
        out(
            f"  scale.py archive of {counts['versions']:,} versions ({shape.sites} sites)"
            f" built in {took():.0f} s"
        )
        scale.Bench(path, shape, repeat=7).run(measures, size)
        for made in tmp.glob(f"{path.name}*"):
            made.unlink()
    per_capture = ("unchanged page (304), ingest", "page with 1 new card, ingest")
    for name in per_capture:
        ms = measures[name].ms
        out(f"  {name}: {ms[small]:.3f} ms at {small:.0e} versions, {ms[big]:.3f} ms at {big:.0e}")
    ratio = max(measures[name].ms[big] / measures[name].ms[small] for name in per_capture)
    exponent = round(math.log10(big))
    figure(
        cfg.scale_ratio_name(),
        f"{ratio:.2f}",
        ratio <= MAX_SCALE_RATIO,
        f"the larger per-capture cost ratio from 10^4 to 10^{exponent} versions; at most {MAX_SCALE_RATIO}",
    )


def memory_probe(n: int) -> None:
    """Child process of part 1: import ``n`` pages, print VmRSS before and VmHWM at 10% and 100%."""
    early = max(1, n // 10)
    with tempfile.TemporaryDirectory(prefix="archiver-bench-") as name:
        store = Store(Path(name) / "mem.db")
        archiver_import(store, pages.front_page(0)[1], pages.BASE_URL, stamp(0), pages.PROFILE)
        gc.collect()
        rss_start = status("VmRSS")
        hwm_early = 0
        for i in range(1, n):
            archiver_import(store, pages.front_page(i)[1], pages.BASE_URL, stamp(i), pages.PROFILE)
            if i + 1 == early:
                hwm_early = status("VmHWM")
        store.close()
    print(early, rss_start, hwm_early, status("VmHWM"))


def part_sites(cfg: Config, tmp: Path) -> None:
    """Many blogs from one cron line (benchmarks/sites.py): 1,000 blogs, 100 in quick mode."""
    import sites

    count = cfg.sites
    out(f"== 5. sites: {count} blogs on 127.0.0.1 ports, +20 ms a response, `archiver run` vs a process each")

    def report(name: str, value: str, ok: bool | None) -> None:
        if name == f"sites_{count}_s":
            figure(name, value, ok, f"seconds for `archiver run` over {count} unchanged blogs")
        elif name == "cron_start_ms":
            figure(name, value, ok, "process wall time of `archiver run` over one unchanged blog")
        elif ok is None:
            out(f"  {name} = {value}")
        else:
            target(name, ok, f"{name} = {value}")

    sites.measure(count, 0.02, 50 if not cfg.quick else 10, tmp, report)


PARTS: dict[str, Callable[[Config, Path], None]] = {
    "ingest": part_ingest,
    "storage": part_storage,
    "crawl": lambda cfg, tmp: part_crawl(cfg.crawl_pages, tmp),
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
    out(summary_line(cfg.summary_names()))


if __name__ == "__main__":
    main()
