"""Many blogs from one cron line: `archiver run` over 1,000 sites against one process per site.

    python benchmarks/sites.py [--blogs 1000] [--latency 0.02] [--processes 50]

1,000 blogs on 127.0.0.1 ports (tests/manysites.py in its own process, each response 20 ms late,
each blog a 3-page listing). After a first `archiver run` archives them, a second run finds every
blog unchanged: its wall time, and its page requests (exactly one a blog: robots.txt is kept
from the first run). Against it, `archiver crawl` of 50 of the blogs as 50 processes in a row,
scaled to 1,000. Then 5% of the blogs publish one post: the next run's time, requests, and that
exactly those posts are new. Last, the process wall time of `archiver run` over one unchanged
blog, the cost cron pays every time. Also run by benchmarks/run.py (part ``sites``).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ENV = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}

#: Targets (this 2-core machine)
UNCHANGED_SECONDS = 4.0
SPEEDUP = 50.0
CRON_START_MS = 150.0


@contextmanager
def blogs(count: int, latency: float) -> Iterator[tuple[list[str], subprocess.Popen[str]]]:
    server = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tests" / "manysites.py"),
            "--blogs",
            str(count),
            "--latency",
            str(latency),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    urls = []
    for line in server.stdout:
        if line.strip() == "READY":
            break
        urls.append(line.strip())
    try:
        yield urls, server
    finally:
        server.terminate()
        server.wait(10)


def ask(server: subprocess.Popen[str], command: str) -> str:
    assert server.stdin is not None and server.stdout is not None
    server.stdin.write(command + "\n")
    server.stdin.flush()
    return server.stdout.readline().strip()


def archiver(*args: str | Path) -> float:
    """Run `archiver ARGS` as cron would; its wall time in seconds."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "archiver", *map(str, args)],
        capture_output=True,
        text=True,
        env=ENV,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(
            f"archiver {' '.join(map(str, args))}: exit {done.returncode}: {done.stderr[-500:]}"
        )
    return elapsed


def entries(db: Path) -> int:
    with closing(sqlite3.connect(db)) as conn:
        return int(conn.execute("SELECT count(*) FROM entry").fetchone()[0])


def page_requests(server: subprocess.Popen[str]) -> int:
    return int(ask(server, "stats").split()[1])


def measure(
    count: int, latency: float, processes: int, tmp: Path, report: Callable[[str, str, bool | None], None]
) -> None:
    with blogs(count, latency) as (urls, server):
        listing = tmp / "blogs.txt"
        listing.write_text("\n".join(urls) + "\n", encoding="utf-8")
        db = tmp / "sites.db"
        archiver("add", "--from", listing, "--db", db, "--quiet")
        first = archiver("run", "--db", db, "--delay", "0", "--quiet")
        report("first_run_s", f"{first:.2f}", None)
        ask(server, "reset")
        unchanged = archiver("run", "--db", db, "--delay", "0", "--force", "--quiet")
        requests = page_requests(server)
        report(f"sites_{count}_s", f"{unchanged:.2f}", unchanged <= UNCHANGED_SECONDS)
        report("unchanged_page_requests", str(requests), requests == count)
        separate_db = tmp / "separate.db"
        for url in urls[:processes]:  # a first crawl, so the timed ones are unchanged crawls too
            archiver("crawl", url, "--db", separate_db, "--delay", "0", "--quiet")
        started = time.perf_counter()
        for url in urls[:processes]:
            archiver("crawl", url, "--db", separate_db, "--delay", "0", "--quiet")
        scaled = (time.perf_counter() - started) * count / processes
        report("processes_scaled_s", f"{scaled:.1f}", None)
        report("sites_speedup", f"{scaled / unchanged:.1f}", scaled / unchanged >= SPEEDUP)
        before = entries(db)
        publishing = count // 20
        ask(server, f"publish {publishing}")
        ask(server, "reset")
        updated = archiver("run", "--db", db, "--delay", "0", "--force", "--quiet")
        report("five_percent_new_s", f"{updated:.2f}", None)
        report("five_percent_requests", str(page_requests(server)), None)
        report("five_percent_new_posts", str(entries(db) - before), entries(db) - before == publishing)
        single = tmp / "single.db"
        archiver("add", urls[0], "--db", single, "--quiet")
        archiver("run", "--db", single, "--delay", "0", "--quiet")
        starts = [
            archiver("run", "--db", single, "--delay", "0", "--force", "--quiet") * 1000 for _ in range(7)
        ]
        cron = statistics.median(starts)
        report("cron_start_ms", f"{cron:.0f}", cron <= CRON_START_MS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blogs", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--processes", type=int, default=50)
    args = parser.parse_args()
    import tempfile

    def report(name: str, value: str, ok: bool | None) -> None:
        verdict = "" if ok is None else ("  met" if ok else "  MISSED")
        print(f"  {name} = {value}{verdict}", flush=True)

    with tempfile.TemporaryDirectory(prefix="archiver-sites-") as name:
        measure(args.blogs, args.latency, args.processes, Path(name), report)


if __name__ == "__main__":
    main()
