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

``--crawl`` kills ``archiver crawl`` instead (20 trials by default): a 10-page blog of 100 posts
(10 a page), a new archive per trial. The first crawl is killed at a random moment; the archive
must pass ``PRAGMA integrity_check``, hold whole captures only, and owe exactly the posts stored
from the top (written with the last page stored). Half the trials then publish 1-20 new posts
(they push the owed ones down the pages); some kill the next crawl too; then ``archiver crawl``
runs until it exits 0, and every post the blog lists must be archived, once, with nothing owed.

    python benchmarks/kill_trials.py --crawl --trials 20  # the crawl figures in RELIABILITY.md

``--migrate`` kills ``archiver migrate`` of the bundled old archives instead (20 trials by
default), grown first so that the upgrade lasts long enough to be killed part-way: every kill must
leave the old archive as it was or the new one as a clean upgrade makes it (benchmarks/kill_migrate.py).

    python benchmarks/kill_trials.py --migrate --trials 20  # the upgrade figures in RELIABILITY.md

Exit status 0 when every trial passed. Needs only the standard library, archiver and
tests/sitehttp.py.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import kill_migrate  # noqa: E402

from sitehttp import SiteServer, write_blog  # noqa: E402

PROFILE = ROOT / "fixtures" / "site" / "profile.toml"
PAGES = 24
CARDS_PER_PAGE = 8


def make_site(root: Path, pages: int = PAGES, per_page: int = CARDS_PER_PAGE) -> int:
    """Write a paginated blog in the fixture site's markup; returns how many posts it lists."""
    write_blog(root, pages * per_page, per_page)
    return pages * per_page


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
                "SELECT e.site, e.key_kind, e.key, v.version, v.title, v.url, v.categories, v.tags,"
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

    def count(self, trial: Trial) -> None:
        self.trials += 1
        self.kills += trial.kills
        if trial.finished_before_kill:
            self.runs_finished_before_kill += 1
        elif trial.captures_at_kill == 0:
            self.kills_before_first_page += 1
        else:
            self.kills_mid_run += 1
        if trial.problem:
            self.failures.append(asdict(trial))
        else:
            self.passed += 1


def _kill_at(command: list[str], after: float, done: Callable[[], bool]) -> bool:
    """Run ``command``, SIGKILL it after ``after`` seconds; True if the run had finished.

    A kill that lands after the run recorded itself ``done`` (while the process was exiting)
    killed a finished run.
    """
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        process.wait(timeout=after)
        return True
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
    return done()


def _backfill_done(db: Path) -> bool:
    """Whether the backfill recorded itself done: running it again would be a second backfill,
    not the rest of the first."""
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
            done_check = partial(_backfill_done, db)
            trial.finished_before_kill = finished = _kill_at(command, trial.kill_after, done_check)
            trial.kills += not finished
            trial.problem, trial.captures_at_kill = check_after_kill(db)
            if not trial.problem and not finished and rng.random() < 0.3:  # kill the next run too
                finished = _kill_at(command, rng.uniform(0.05, durations[concurrency]), done_check)
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
            figures.count(trial)
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


# -- crawl trials ---------------------------------------------------------------------------------

CRAWL_PAGES = 10
CRAWL_PER_PAGE = 10


def crawl_command(url: str, db: Path) -> list[str]:
    return [
        sys.executable, "-m", "archiver", "crawl", url, "--delay", "0", "--retries", "0",
        "--timeout", "10", "--profile", str(PROFILE), "--db", str(db), "--quiet",
    ]  # fmt: skip


def check_crawl_after_kill(db: Path, first_run: bool) -> tuple[str, int]:
    """integrity_check; every capture whole (its cards are as many sightings); and, for the
    first run on a new archive, the debt the last stored page wrote. Returns (problem, captures)."""
    if not db.exists():
        return "", 0
    with closing(sqlite3.connect(db)) as conn:
        verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            return f"integrity_check: {verdict}", -1
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "capture" not in tables:
            return "", 0
        captures, cards, bytes_missing = conn.execute(
            "SELECT count(*), coalesce(sum(cards), 0), sum(sha256 IS NOT NULL AND NOT EXISTS"
            " (SELECT 1 FROM blob b WHERE b.sha256 = c.sha256)) FROM capture c"
        ).fetchone()
        sightings = conn.execute("SELECT coalesce(sum(seen_count), 0) FROM entry_version").fetchone()[0]
        if bytes_missing or sightings != cards:
            return (
                f"{captures} captures: {cards} cards, {sightings} sightings, {bytes_missing} blobs missing",
                -1,
            )
        if not first_run or "crawl_debt" not in tables or captures == 0:
            return "", captures
        debt = conn.execute("SELECT owed_page, known_cards FROM crawl_debt").fetchall()
    owed = [] if captures == CRAWL_PAGES else [(captures + 1, captures * CRAWL_PER_PAGE)]
    if debt != owed:
        return f"after {captures} pages the archive owes {debt}, not {owed}", captures
    return "", captures


def check_crawl_end(db: Path, url: str, posts: int) -> tuple[str, int]:
    """Every post the blog lists archived once, with one version, and nothing owed; returns
    (problem, posts lost)."""
    expected = {f"{url}posts/post-{n}/" for n in range(1, posts + 1)}
    with closing(sqlite3.connect(db)) as conn:
        got = [r[0] for r in conn.execute("SELECT url FROM current_entries")]
        versions = conn.execute("SELECT count(*) FROM entry_version").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        owed = conn.execute("SELECT count(*) FROM crawl_debt").fetchone()[0] if "crawl_debt" in tables else 0
    lost = len(expected - set(got))
    if lost or len(got) != posts or versions != posts:
        return f"{lost} of {posts} posts never archived ({len(got)} entries, {versions} versions)", lost
    return ("", 0) if not owed else ("the archive still owes pages after a crawl that ended", 0)


@dataclass
class CrawlTrial:
    number: int
    kill_after: float
    kills: int = 0
    #: pages stored when the first kill landed: 0 = before the first page committed
    pages_at_kill: int = 0
    finished_before_kill: bool = False
    #: posts published between the kill and the next crawl (they push the owed ones down)
    published: int = 0
    #: crawls run after the first kill, until one exited 0
    runs_after: int = 0
    problem: str = ""
    seconds: float = 0.0


@dataclass
class CrawlFigures:
    trials: int = 0
    passed: int = 0
    kills: int = 0
    #: first kills that landed between the first and the last page stored
    kills_mid_run: int = 0
    kills_before_first_page: int = 0
    #: first kills that landed once every page was stored (while the crawl was exiting)
    kills_after_last_page: int = 0
    runs_finished_before_kill: int = 0
    pages: int = CRAWL_PAGES
    posts_expected: int = 0
    posts_published_between: int = 0
    posts_lost: int = 0
    reference_seconds: float = 0.0
    seconds: float = 0.0
    failures: list[dict[str, object]] = field(default_factory=list)


def _kill_crawl(command: list[str], server: SiteServer, after: float) -> bool:
    """Run ``command``, SIGKILL it ``after`` seconds after its first listing page request (the
    start of Python before it is not worth killing); True if it had finished by then."""
    requests = len(server.page_requests())
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while len(server.page_requests()) == requests and process.poll() is None:
        time.sleep(0.002)
    try:
        process.wait(timeout=after)
        return True
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
    return False


def _crawl_trial(trial: CrawlTrial, rng: random.Random, server: SiteServer, db: Path, span: float) -> int:
    """One trial: kill the first crawl, maybe publish posts, crawl again until one exits 0;
    returns the posts the blog then lists."""
    site = server.root
    write_blog(site, CRAWL_PAGES * CRAWL_PER_PAGE, CRAWL_PER_PAGE)
    command = crawl_command(server.url, db)
    trial.finished_before_kill = _kill_crawl(command, server, trial.kill_after)
    trial.kills += not trial.finished_before_kill
    trial.problem, trial.pages_at_kill = check_crawl_after_kill(db, first_run=True)
    posts = CRAWL_PAGES * CRAWL_PER_PAGE
    if rng.random() < 0.5:  # posts published in between: the owed ones move down the pages
        trial.published = rng.randint(1, 2 * CRAWL_PER_PAGE)
        posts += trial.published
        write_blog(site, posts, CRAWL_PER_PAGE)
    if not trial.problem and rng.random() < 0.3:  # kill the next crawl too
        trial.runs_after += 1
        trial.kills += not _kill_crawl(command, server, rng.uniform(0, span))
        trial.problem, _ = check_crawl_after_kill(db, first_run=False)
    for _ in range(5):
        if trial.problem:
            break
        trial.runs_after += 1
        again = subprocess.run(command, check=False, capture_output=True, text=True)
        if again.returncode == 0:
            break
        trial.problem = f"a crawl failed ({again.returncode}): {again.stderr.strip()}"
    return posts


def run_crawl_trials(trials: int, seed: int, work: Path, log: bool = False) -> CrawlFigures:
    """SIGKILL ``archiver crawl`` of a new archive at random moments; every post must end up archived."""
    rng = random.Random(seed)
    site = work / "crawl-site"
    write_blog(site, CRAWL_PAGES * CRAWL_PER_PAGE, CRAWL_PER_PAGE)
    figures = CrawlFigures()
    started = time.monotonic()
    with SiteServer(site) as server:
        server.delay = 0.02  # spread the run out a little, so kills land between pages too
        done = subprocess.run(
            crawl_command(server.url, work / "reference.db"), check=False, capture_output=True
        )
        if done.returncode or check_crawl_end(work / "reference.db", server.url, 100)[0]:
            raise SystemExit(f"reference crawl failed: {done.stderr!r}")
        # how long the crawl takes from its first page request on: kills are spread over that
        figures.reference_seconds = round(time.monotonic() - server.page_requests()[0].at, 2)
        for number in range(1, trials + 1):
            db = work / f"crawl-trial-{number}.db"
            trial = CrawlTrial(number, rng.uniform(0, figures.reference_seconds))
            t0 = time.monotonic()
            posts = _crawl_trial(trial, rng, server, db, figures.reference_seconds)
            lost = 0
            if not trial.problem:
                trial.problem, lost = check_crawl_end(db, server.url, posts)
                trial.problem = trial.problem or check_crawl_after_kill(db, first_run=False)[0]
            trial.seconds = round(time.monotonic() - t0, 2)
            figures.trials += 1
            figures.kills += trial.kills
            figures.posts_expected += posts
            figures.posts_published_between += trial.published
            figures.posts_lost += lost
            if trial.finished_before_kill:
                figures.runs_finished_before_kill += 1
            elif trial.pages_at_kill == 0:
                figures.kills_before_first_page += 1
            elif trial.pages_at_kill == CRAWL_PAGES:
                figures.kills_after_last_page += 1
            else:
                figures.kills_mid_run += 1
            if trial.problem:
                figures.failures.append(asdict(trial))
            else:
                figures.passed += 1
            if log:
                print(
                    f"{'FAIL' if trial.problem else 'ok  '} crawl trial {number:3d}: killed after "
                    f"{trial.kill_after:.2f}s at {trial.pages_at_kill}/{CRAWL_PAGES} pages, "
                    f"{trial.published} posts published, {trial.kills} kill(s), "
                    f"{trial.runs_after} run(s) after {trial.problem}",
                    file=sys.stderr,
                    flush=True,
                )
            for suffix in ("", "-wal", "-shm", ".lock"):
                Path(str(db) + suffix).unlink(missing_ok=True)
    figures.seconds = round(time.monotonic() - started, 1)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--crawl", action="store_true", help="kill `archiver crawl` instead of backfill")
    parser.add_argument("--migrate", action="store_true", help="kill `archiver migrate` of old archives")
    parser.add_argument("--trials", type=int, help="default: 50 backfill, 20 crawl or 20 migrate trials")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("KILL_SEED", "20260111")))
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args()
    figures: Figures | CrawlFigures | kill_migrate.MigrateFigures
    with tempfile.TemporaryDirectory(prefix="archiver-kill-") as work:
        if args.migrate:
            figures = kill_migrate.run_migrate_trials(
                args.trials or 20, args.seed, Path(work), log=not args.json
            )
        elif args.crawl:
            figures = run_crawl_trials(args.trials or 20, args.seed, Path(work), log=not args.json)
        else:
            figures = run_trials(args.trials or 50, args.seed, Path(work), log=not args.json)
    if args.json:
        print(json.dumps(asdict(figures)))
    elif isinstance(figures, kill_migrate.MigrateFigures):
        print(kill_migrate.summary(figures))
    elif isinstance(figures, CrawlFigures):
        print(
            f"{figures.passed}/{figures.trials} crawl trials passed; {figures.kills} SIGKILLs (first "
            f"kills: {figures.kills_mid_run} mid-run, {figures.kills_before_first_page} before the first "
            f"page, {figures.kills_after_last_page} after the last; "
            f"{figures.runs_finished_before_kill} runs finished first); {figures.pages} pages, "
            f"{figures.posts_expected} posts expected ({figures.posts_published_between} published "
            f"between a kill and the next crawl), {figures.posts_lost} never archived; "
            f"reference crawl {figures.reference_seconds}s, total {figures.seconds}s"
        )
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
