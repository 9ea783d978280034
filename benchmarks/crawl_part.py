"""benchmarks/run.py's crawl part: archiver's backfill and crawl on a local server, and Scrapy's.

benchmarks/server.py serves a blog on 127.0.0.1 (each response 20 ms late) in its own process.
On it, one after the other: a plain httpx loop, archiver's backfill at concurrency 1 and 8
(zero-config, in this process, with its CPU per page), the incremental crawl of the unchanged
site (the real command), then `archiver backfill --profile --concurrency 8 --delay 0` (the real
command) and benchmarks/scrapy_peer.py (a Scrapy spider with the same selectors) in turns. The
pages/s of both are the server's: listing pages answered over the seconds from the first request
to the last answer, so neither's start-up counts; their process wall times are printed too.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import pages  # noqa: E402
from report import figure, out, target, timed  # noqa: E402

from archiver.store import Store  # noqa: E402

#: `archiver backfill --concurrency 8` must fetch at least this many times Scrapy's pages/s
MIN_SCRAPY_RATIO = 1.5
#: Turns each of archiver and Scrapy takes on the server (their seconds are summed): one turn
#: each is at the mercy of a burst of load from the machine's other work
SCRAPY_TURNS = 2
#: The latency the server adds to every response (a real server's think time and round trip)
LATENCY = 0.02
ENV = {**os.environ, "PYTHONPATH": str(HERE.parent)}


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


def server_ask(base: str, what: str) -> dict[str, float]:
    """The server's ``/_bench/stats`` (request counts), ``span`` (seconds) or ``reset``."""
    with urllib.request.urlopen(f"{base}_bench/{what}") as response:
        return dict(json.loads(response.read()))


def part_crawl(n: int, tmp: Path) -> None:
    out(f"== 3. crawl: local HTTP server on 127.0.0.1, +20 ms per response, {n} pages")
    with blog_server(n, LATENCY) as base:
        _archiver_alone(n, base, tmp)
        _against_scrapy(n, base, tmp)


def _archiver_alone(n: int, base: str, tmp: Path) -> None:
    """archiver's zero-config backfills in this process, and the incremental crawl of the site."""
    import httpx

    from archiver.crawl import Crawler, Target, fetcher_for
    from archiver.fetcher import FetchOptions

    cpu: dict[int, float] = {}

    def backfill(db: Path, concurrency: int) -> tuple[float, int]:
        cpu_start = time.process_time()
        with Store(db) as store, fetcher_for(store, FetchOptions(delay=0)) as fetcher, timed() as elapsed:
            summary = Crawler(store, fetcher, Target(base)).backfill(concurrency=concurrency)
        cpu[concurrency] = (time.process_time() - cpu_start) / max(1, summary.pages)
        return elapsed(), summary.pages

    with httpx.Client() as client, timed() as elapsed:
        for p in range(1, n + 1):
            client.get(pages.site_page_url(p, base)).raise_for_status()
    bare_s = elapsed()
    seq_s, seq_pages = backfill(tmp / "crawl-seq.db", 1)
    server_ask(base, "reset")
    par_s, par_pages = backfill(tmp / "crawl-par.db", 8)
    par_requests = sum(server_ask(base, "stats").values())
    server_ask(base, "reset")
    # the scheduled run, as cron starts it: the real command in its own process
    with timed() as crawl_time:
        done = _archiver("crawl", base, "--delay", "0", "--quiet", "--db", tmp / "crawl-par.db")
    counts = server_ask(base, "stats")
    if done.returncode != 0:
        out(f"  incremental crawl failed ({done.returncode}): {done.stderr.strip()[:300]}")
    requests = int(sum(counts.values()))
    out(f"  plain sequential fetch (httpx GET loop, no processing): {n / bare_s:6.1f} pages/s")
    out(
        f"  archiver backfill, zero-config, concurrency 1: {seq_pages / seq_s:6.1f} pages/s"
        f" ({seq_pages} pages)"
    )
    out(
        f"  archiver backfill, zero-config, concurrency 8: {par_pages / par_s:6.1f} pages/s"
        f" ({par_pages} pages, {par_requests:.0f} requests); {seq_s / par_s:.1f}x the sequential backfill"
    )
    out(
        f"  crawler CPU per page (fetch + parse + store, all threads): {1000 * cpu[1]:.1f} ms sequential,"
        f" {1000 * cpu[8]:.1f} ms at concurrency 8; with 20 ms latency and one thread storing, the"
        f" speed-up cannot exceed about {(LATENCY + 0.0005 + cpu[1]) / cpu[8]:.1f}x on this machine"
    )
    out(
        f"  incremental `archiver crawl` of the unchanged site: {requests} request(s)"
        f" ({counts.get('pages_304', 0):.0f} x 304, {counts.get('pages_200', 0):.0f} x 200,"
        f" {counts.get('robots', 0):.0f} robots.txt), {crawl_time():.2f} s including start-up"
    )
    target("1 request for an unchanged site", requests == 1, f"{requests}")


@dataclass
class Turns:
    """What one contender's turns on the server added up to."""

    pages: int = 0
    span: float = 0.0
    wall: float = 0.0

    def rate(self) -> float:
        return self.pages / self.span


def _against_scrapy(n: int, base: str, tmp: Path) -> None:
    """`archiver backfill --profile --concurrency 8 --delay 0` against Scrapy, in turns."""
    if find_spec("scrapy") is None:
        out("  Scrapy comparison skipped: Scrapy is not installed (pip install '.[bench]')")
        figure("scrapy_ratio", "skipped", None, "Scrapy not installed")
        return
    profile = tmp / "bench-profile.toml"
    profile.write_text(pages.PROFILE.to_toml(), encoding="utf-8")
    archiver, scrapy = Turns(), Turns()
    stored: dict[str, set[str]] = {}
    for turn in range(SCRAPY_TURNS):
        db = tmp / f"backfill-{turn}.db"
        asked = ("--profile", profile, "--concurrency", "8", "--delay", "0", "--quiet", "--db", db)
        _take_turn(base, archiver, lambda asked=asked: _archiver("backfill", base, *asked))
        stored["archiver"] = _urls(db, "SELECT url FROM entry")
        peer = tmp / f"scrapy-{turn}.db"
        _take_turn(base, scrapy, lambda peer=peer: subprocess.run(
            [sys.executable, str(HERE / "scrapy_peer.py"), base, "--db", str(peer), "--concurrency", "8"],
            capture_output=True, text=True, check=False, env=ENV,
        ))  # fmt: skip
        stored["scrapy"] = _urls(peer, "SELECT url FROM post")
    same = stored["archiver"] == stored["scrapy"]
    for name, turns in (
        ("archiver backfill --concurrency 8", archiver),
        ("Scrapy, 8 requests at once", scrapy),
    ):
        out(
            f"  {name}: {turns.rate():6.1f} pages/s ({turns.pages} listing pages in {turns.span:.2f} s"
            f" as the server saw them; {turns.wall:.2f} s of process wall time, start-up included;"
            f" {SCRAPY_TURNS} turns)"
        )
    target(
        "the same posts stored by archiver and Scrapy",
        same,
        f"{len(stored['archiver'])} and {len(stored['scrapy'])} posts,"
        f" {n * pages.CARDS_PER_PAGE} on the site",
    )
    ratio = archiver.rate() / scrapy.rate()
    figure("scrapy_ratio", f"{ratio:.2f}", ratio >= MIN_SCRAPY_RATIO,
           f"archiver's pages/s / Scrapy's on the same server, at least {MIN_SCRAPY_RATIO}")  # fmt: skip


def _take_turn(base: str, turns: Turns, run: Callable[[], subprocess.CompletedProcess[str]]) -> None:
    """Run one contender's command (``run()``) on a reset server and add up what it did."""
    server_ask(base, "reset")
    with timed() as wall:
        done = run()
    if done.returncode != 0:
        raise RuntimeError(f"{done.args[:3]}: exit {done.returncode}: {done.stderr[-500:]}")
    turns.wall += wall()
    turns.span += server_ask(base, "span")["seconds"]
    turns.pages += int(server_ask(base, "stats").get("pages_200", 0))


def _archiver(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """`archiver ARGS` as a user runs it, in its own process."""
    return subprocess.run(
        [sys.executable, "-m", "archiver", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        env=ENV,
    )


def _urls(db: Path, query: str) -> set[str]:
    with closing(sqlite3.connect(db)) as conn:
        return {row[0] for row in conn.execute(query)}
