"""Crash safety of `archiver run`: SIGKILL it at random moments, run it again, compare.

30 blogs on 127.0.0.1 (tests/manysites.py; five of them under paths of one host:port, the others
a port each; 4-16 posts, 5 a page; 40 ms a response). One uninterrupted `archiver run
--concurrency 4` over their watch list is the reference. Each trial copies the archive as it was
after `archiver add`, starts `archiver run`, kills it with SIGKILL after a random time (uniform
over the reference run's duration), checks ``PRAGMA integrity_check``, then runs `archiver run`
once more, which must exit 0. The archive must then
hold exactly the reference's entries and versions (every field, per site), and every watched site
a finished check.

    python benchmarks/kill_run.py --trials 20       # the figures in RELIABILITY.md

It prints how many sites each killed run had checked, to show the kills fell during the work.
"""

from __future__ import annotations

import argparse
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from manysites import Blog, ManySites  # noqa: E402

from helpers import entries  # noqa: E402

ENV = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
PATHS = ["/blogs/ada", "/blogs/bo", "/u/cy", "/u/di", "/~ed"]
#: A run that has not finished after this long is stuck: the trial fails.
RUN_LIMIT_SECONDS = 120


def blogs() -> list[Blog]:
    shared = [Blog(port_slot=0, prefix=prefix, posts=6 + n) for n, prefix in enumerate(PATHS)]
    return shared + [Blog(port_slot=n, posts=4 + n % 13) for n in range(1, 26)]


def archiver(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "archiver", *map(str, args)]


def check_after_kill(db: Path) -> str:
    with closing(sqlite3.connect(db)) as conn:
        verdict = str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    return "" if verdict == "ok" else f"integrity_check: {verdict}"


def unfinished_sites(db: Path) -> int:
    with closing(sqlite3.connect(db)) as conn:
        return int(
            conn.execute(
                "SELECT count(*) FROM site WHERE last_check_at IS NULL"
                " OR last_outcome NOT IN ('updated', 'unchanged')"
            ).fetchone()[0]
        )


def checked_sites(db: Path) -> int:
    with closing(sqlite3.connect(db)) as conn:
        return int(conn.execute("SELECT count(*) FROM site WHERE last_check_at IS NOT NULL").fetchone()[0])


def trial(
    number: int,
    rng: random.Random,
    added: Path,
    work: Path,
    span: float,
    reference: list[object],
    moments: list[int],
) -> str:
    db = work / f"trial-{number}.db"
    shutil.copy(added, db)
    run = archiver("run", "--db", db, "--delay", "0", "--concurrency", "4", "--quiet")
    process = subprocess.Popen(run, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(rng.uniform(0, span))
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    problem = check_after_kill(db)
    if problem:
        return problem
    moments.append(checked_sites(db))
    again = subprocess.run(
        run, env=ENV, capture_output=True, text=True, timeout=RUN_LIMIT_SECONDS, check=False
    )
    if again.returncode != 0:
        return f"the run after the kill exited {again.returncode}: {again.stderr[-300:]}"
    if entries(db) != reference:
        return "the archive differs from the uninterrupted run's"
    if unfinished_sites(db):
        return f"{unfinished_sites(db)} sites have no finished check"
    return ""


def run_trials(trials: int, seed: int, work: Path, moments: list[int]) -> tuple[int, list[str]]:
    """Runs the trials; (how many passed, what failed). ``moments`` gets, per trial, how many
    sites the killed run had checked."""
    rng = random.Random(seed)
    with ManySites(blogs(), latency=0.04) as sites:
        listing = work / "blogs.txt"
        listing.write_text("\n".join(sites.start_urls()) + "\n", encoding="utf-8")
        added = work / "added.db"
        subprocess.run(archiver("add", "--from", listing, "--db", added, "--quiet"), env=ENV, check=True)
        reference_db = work / "reference.db"
        shutil.copy(added, reference_db)
        started = time.monotonic()
        subprocess.run(
            archiver("run", "--db", reference_db, "--delay", "0", "--concurrency", "4", "--quiet"),
            env=ENV,
            check=True,
        )
        span = time.monotonic() - started
        reference: list[object] = list(entries(reference_db))
        failures = []
        for number in range(trials):
            problem = trial(number, rng, added, work, span, reference, moments)
            if problem:
                failures.append(f"trial {number}: {problem}")
    return trials - len(failures), failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="archiver-kill-run-") as name:
        moments: list[int] = []
        passed, failures = run_trials(args.trials, args.seed, Path(name), moments)
    for failure in failures:
        print(failure)
    during = sum(0 < n < len(blogs()) for n in moments)
    print(f"sites checked when killed: {sorted(moments)} ({during} trials killed part-way through the sites)")
    print(f"archiver run killed at random moments: {passed}/{args.trials} trials passed")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
