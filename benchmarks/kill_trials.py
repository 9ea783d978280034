"""Crash safety by force: SIGKILL a backfill at random moments, then check what is left.

Serves a generated 24-page blog (fixture markup, 8 cards a page, 192 posts) on 127.0.0.1, runs
one uninterrupted ``archiver backfill`` as the reference, then for every trial:

1. starts ``archiver backfill URL --all --concurrency N --delay 0 --db NEW`` in a subprocess,
2. kills it with SIGKILL after a random time (uniform over the reference run's duration; with a
   small chance, the carried-on run is killed once more),
3. checks ``PRAGMA integrity_check`` is ``ok`` and that every capture in the file is complete
   (its cards counted, its blob stored, its backfill progress row written),
4. runs the same command again to the end (it carries on where the killed run stopped) and
   checks the archive holds exactly the entries and versions of the uninterrupted run,
   sightings included (no page applied twice, none lost).

    python benchmarks/kill_trials.py --trials 50          # the figures in RELIABILITY.md
    python benchmarks/kill_trials.py --trials 5 --json    # what tests/test_kill.py runs

Exit status 0 when every trial passed. Needs only the standard library, archiver and
tests/sitehttp.py.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from sitehttp import SiteServer  # noqa: E402

PROFILE = ROOT / "fixtures" / "site" / "profile.toml"
PAGES = 24
CARDS_PER_PAGE = 8
CATEGORIES = ["Deep Learning", "NLP", "Python", "3D Model", "Large Model"]


def make_site(root: Path, pages: int = PAGES, per_page: int = CARDS_PER_PAGE) -> int:
    """Write a paginated blog in the fixture site's markup; returns how many posts it lists."""
    posts = json.loads((ROOT / "fixtures" / "site" / "posts.json").read_text(encoding="utf-8"))
    total = pages * per_page
    for page in range(1, pages + 1):
        cards = []
        for slot in range(per_page):
            n = (page - 1) * per_page + slot
            seed = posts[n % len(posts)]
            title = f"{seed['title']} ({n + 1})"
            excerpt = f"#{n + 1} {seed['excerpt']}"
            meta = ""
            if n % 3:
                meta += f'<time datetime="2025-{1 + n % 12:02d}-{1 + n % 28:02d}">x</time>'
            if n % 4:
                category = CATEGORIES[n % len(CATEGORIES)]
                meta += f'<span class="post-category"><a href="/categories/{n % 5}/">{category}</a></span>'
            cards.append(
                f'<article class="post-card"><header><h2 class="post-title">'
                f'<a href="/posts/post-{n + 1}/">{html.escape(title)}</a></h2>'
                f'<div class="post-meta">{meta}</div></header>'
                f'<div class="post-excerpt"><p>{html.escape(excerpt)}</p></div></article>'
            )
        nav = f'<a class="next" rel="next" href="/page/{page + 1}/">下一页 »</a>' if page < pages else ""
        body = (
            '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>Kill test blog'
            f'</title></head><body><main class="content">{"".join(cards)}'
            f'<nav class="pagination">{nav}</nav></main></body></html>'
        )
        target = root / "index.html" if page == 1 else root / "page" / str(page) / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
    return total


def backfill_command(url: str, db: Path, concurrency: int) -> list[str]:
    return [
        sys.executable, "-m", "archiver", "backfill", url, "--all", "--concurrency", str(concurrency),
        "--delay", "0", "--retries", "0", "--timeout", "10", "--profile", str(PROFILE), "--db", str(db),
        "--quiet",
    ]  # fmt: skip


def snapshot(db: Path) -> list[tuple[object, ...]]:
    """Entries and versions by content (ids and times differ between runs, nothing else may)."""
    with closing(sqlite3.connect(db)) as conn:
        return sorted(
            conn.execute(
                "SELECT e.site, e.key_kind, e.key, v.version, v.title, v.url, v.category, v.tags,"
                " v.date, v.excerpt, v.changed, v.seen_count"
                " FROM entry e JOIN entry_version v ON v.entry_id = e.id"
            ).fetchall(),
            key=repr,
        )


def check_after_kill(db: Path) -> tuple[str, int]:
    """integrity_check, then that every stored capture is whole; returns (problem, captures)."""
    if not db.exists():
        return "", 0
    with closing(sqlite3.connect(db)) as conn:
        verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            return f"integrity_check: {verdict}", -1
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "capture" not in tables:
            return "", 0
        captures = conn.execute("SELECT count(*) FROM capture").fetchone()[0]
        half = conn.execute(
            "SELECT count(*) FROM capture c WHERE c.cards IS NULL OR c.cards != ? OR NOT EXISTS"
            " (SELECT 1 FROM blob b WHERE b.sha256 = c.sha256)",
            (CARDS_PER_PAGE,),
        ).fetchone()[0]
        if half:
            return f"{half} capture(s) stored without their cards or bytes", captures
        progress = conn.execute("SELECT count(*) FROM backfill_page").fetchone()[0]
        if progress != captures:
            return f"{captures} captures but {progress} backfill progress rows", captures
        sightings = conn.execute("SELECT coalesce(sum(seen_count), 0) FROM entry_version").fetchone()[0]
        if sightings != captures * CARDS_PER_PAGE:
            return f"{sightings} sightings for {captures} captures", captures
        return "", captures


@dataclass
class Trial:
    number: int
    concurrency: int
    kill_after: float
    kills: int = 0
    #: captures in the file when the (first) kill landed: 0 = before the first page committed
    captures_at_kill: int = 0
    finished_before_kill: bool = False
    problem: str = ""
    seconds: float = 0.0


@dataclass
class Figures:
    trials: int = 0
    passed: int = 0
    kills: int = 0
    #: kills that landed after the first page was stored and before the run was done
    kills_mid_run: int = 0
    kills_before_first_page: int = 0
    runs_finished_before_kill: int = 0
    pages: int = PAGES
    posts: int = 0
    entries_expected: int = 0
    entries_lost: int = 0
    reference_seconds: float = 0.0
    seconds: float = 0.0
    failures: list[dict[str, object]] = field(default_factory=list)


def _kill_at(command: list[str], after: float, db: Path) -> bool:
    """Run ``command``, SIGKILL it after ``after`` seconds; True if the backfill had finished.

    A kill that lands after the run recorded itself done (while the process was exiting) killed
    a finished run: running it again would be a second backfill, not the rest of the first.
    """
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        process.wait(timeout=after)
        return True
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
    try:
        with closing(sqlite3.connect(db)) as conn:
            return bool(conn.execute("SELECT 1 FROM backfill_run WHERE outcome = 'done'").fetchone())
    except sqlite3.Error:
        return False


def run_trials(trials: int, seed: int, work: Path, log: bool = False) -> Figures:
    rng = random.Random(seed)
    site_dir = work / "site"
    figures = Figures()
    figures.posts = make_site(site_dir)
    started = time.monotonic()
    with SiteServer(site_dir) as server:
        server.validators = False
        server.delay = 0.01  # spread the run out a little, so kills land between pages too
        reference = work / "reference.db"
        t0 = time.monotonic()
        done = subprocess.run(
            backfill_command(server.url, reference, 1), check=False, capture_output=True, text=True
        )
        figures.reference_seconds = round(time.monotonic() - t0, 2)
        if done.returncode:
            raise SystemExit(f"reference backfill failed: {done.stderr}")
        expected = snapshot(reference)
        figures.entries_expected = len({row[:3] for row in expected})
        # how long an uninterrupted run takes at each concurrency (kills are spread over it);
        # those runs must give the same archive too
        durations = {1: figures.reference_seconds}
        for concurrency in (2, 4):
            other = work / f"reference-{concurrency}.db"
            t0 = time.monotonic()
            done = subprocess.run(
                backfill_command(server.url, other, concurrency), check=False, capture_output=True, text=True
            )
            durations[concurrency] = time.monotonic() - t0
            if done.returncode or snapshot(other) != expected:
                raise SystemExit(
                    f"uninterrupted backfill at concurrency {concurrency} differs: {done.stderr}"
                )
        for number in range(1, trials + 1):
            db = work / f"trial-{number}.db"
            concurrency = rng.choice([1, 1, 2, 4])
            trial = Trial(number, concurrency, rng.uniform(0.05, durations[concurrency]))
            t0 = time.monotonic()
            command = backfill_command(server.url, db, trial.concurrency)
            trial.finished_before_kill = finished = _kill_at(command, trial.kill_after, db)
            trial.kills += not finished
            trial.problem, trial.captures_at_kill = check_after_kill(db)
            if not trial.problem and not finished and rng.random() < 0.3:  # kill the next run too
                finished = _kill_at(command, rng.uniform(0.05, durations[concurrency]), db)
                trial.kills += not finished
                trial.problem, _ = check_after_kill(db)
            if not trial.problem:
                if not finished:  # carry on to the end (a run that finished was the whole run)
                    again = subprocess.run(command, check=False, capture_output=True, text=True)
                    if again.returncode:
                        trial.problem = f"the next run failed ({again.returncode}): {again.stderr.strip()}"
                if trial.problem:
                    pass
                elif (got := snapshot(db)) != expected:
                    lost = len({r[:3] for r in expected} - {r[:3] for r in got})
                    figures.entries_lost += lost
                    extra = [r for r in got if r not in expected][:1]
                    missing = [r for r in expected if r not in got][:1]
                    trial.problem = (
                        f"archive differs from the uninterrupted run ({lost} entries lost; "
                        f"{len(got)} versions, {len(expected)} expected; e.g. {missing} -> {extra})"
                    )
                else:
                    problem, _ = check_after_kill(db)
                    trial.problem = problem
            trial.seconds = round(time.monotonic() - t0, 2)
            figures.trials += 1
            figures.kills += trial.kills
            if trial.finished_before_kill:
                figures.runs_finished_before_kill += 1
            elif trial.captures_at_kill == 0:
                figures.kills_before_first_page += 1
            else:
                figures.kills_mid_run += 1
            if trial.problem:
                figures.failures.append(asdict(trial))
            else:
                figures.passed += 1
            if log:
                status = "ok  " if not trial.problem else "FAIL"
                print(
                    f"{status} trial {number:3d}: concurrency {trial.concurrency}, killed after "
                    f"{trial.kill_after:.2f}s at {trial.captures_at_kill}/{PAGES} pages, "
                    f"{trial.kills} kill(s) {trial.problem}",
                    file=sys.stderr,
                    flush=True,
                )
            db.unlink(missing_ok=True)
            for suffix in ("-wal", "-shm", ".lock"):
                Path(str(db) + suffix).unlink(missing_ok=True)
    figures.seconds = round(time.monotonic() - started, 1)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--seed", type=int, default=int(os.environ.get("KILL_SEED", "20260111")))
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="archiver-kill-") as work:
        figures = run_trials(args.trials, args.seed, Path(work), log=not args.json)
    if args.json:
        print(json.dumps(asdict(figures)))
    else:
        print(
            f"{figures.passed}/{figures.trials} trials passed; {figures.kills} SIGKILLs "
            f"({figures.kills_mid_run} mid-run, {figures.kills_before_first_page} before the first page, "
            f"{figures.runs_finished_before_kill} runs finished first); {figures.pages} pages, "
            f"{figures.entries_expected} entries expected, {figures.entries_lost} lost; "
            f"reference run {figures.reference_seconds}s, total {figures.seconds}s"
        )
    return 0 if figures.passed == figures.trials else 1


if __name__ == "__main__":
    sys.exit(main())
