"""Crash safety (see RELIABILITY.md): a backfill or crawl killed with SIGKILL at any moment loses nothing.

After every kill `PRAGMA integrity_check` is ok, every stored capture is whole, and the next run
finishes with exactly the entries and versions (sightings included) of an uninterrupted run; a
killed crawl owes the posts it did not reach, and the next crawl archives them.
An upgrade (`archiver migrate`) killed at any moment leaves the old archive as it was or the new
one as a clean upgrade makes it, and the next `archiver migrate` finishes it.
The trials themselves live in benchmarks/kill_trials.py and kill_migrate.py: the suite runs a
handful (KILL_TRIALS, default 5; KILL_CRAWL_TRIALS, default 3; KILL_MIGRATE_TRIALS, default 4),
the benchmark runs 50+ backfill, 20 crawl and 20 upgrade trials for the figures in RELIABILITY.md.
The random-moment trials are marked slow (`pytest -m slow`, which CI runs); each has a
deterministic twin in the default run that kills at one chosen moment.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from types import ModuleType

import pytest

from conftest import ROOT
from helpers import captures_in
from sitehttp import SiteServer, write_blog


def _load_trials(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


kill_migrate = _load_trials("kill_migrate")
kill_trials = _load_trials("kill_trials")
kill_run = _load_trials("kill_run")
#: Copies of the old archives' posts in the suite's upgrade trials: about 3,000 entries, an
#: upgrade of a few tenths of a second (its transaction then spills pages to the -wal file).
MIGRATE_COPIES = 25


def kill_once_stored(command: list[str], db: Path, captures: int) -> None:
    """Run ``command`` and SIGKILL it as soon as ``captures`` captures are in ``db`` (60 s at most)."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while captures_in(db) < captures and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_sigkill_at_random_moments_loses_nothing(tmp_path: Path) -> None:
    trials = int(os.environ.get("KILL_TRIALS", "5"))
    figures = kill_trials.run_trials(trials, seed=int(os.environ.get("KILL_SEED", "7")), work=tmp_path)
    assert figures.failures == []
    assert figures.passed == figures.trials == trials
    assert figures.entries_lost == 0
    assert figures.entries_expected == kill_trials.PAGES * kill_trials.CARDS_PER_PAGE


@pytest.mark.timeout(120)
@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_kill_mid_run_is_carried_on_from_the_next_page(tmp_path: Path, concurrency: int) -> None:
    """Deterministic: the kill lands after the 5th page was stored, whatever the machine's speed."""
    site = tmp_path / "site"
    kill_trials.make_site(site)
    with SiteServer(site) as server:
        server.validators = False
        reference = tmp_path / "reference.db"
        command = kill_trials.backfill_command(server.url, reference, 1)
        assert subprocess.run(command, check=False, capture_output=True).returncode == 0
        server.delay = 0.05
        db = tmp_path / "killed.db"
        command = kill_trials.backfill_command(server.url, db, concurrency)
        kill_once_stored(command, db, 5)
        problem, stored = kill_trials.check_after_kill(db)
        assert problem == ""
        assert 5 <= stored < kill_trials.PAGES
        server.delay = 0
        again = subprocess.run(
            [c for c in command if c != "--quiet"], check=False, capture_output=True, text=True
        )
        assert again.returncode == 0, again.stderr
        assert f"resumed at page {stored + 1}" in again.stdout
        assert "Traceback" not in again.stderr
        assert kill_trials.snapshot(db) == kill_trials.snapshot(reference)
        assert kill_trials.check_after_kill(db) == ("", kill_trials.PAGES)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_crawl_killed_at_random_moments_archives_every_post_in_the_end(tmp_path: Path) -> None:
    """Each trial kills the first crawl of a 10-page blog, maybe publishes posts, crawls again
    until a crawl exits 0: every post is archived once, nothing owed (20 trials: the benchmark)."""
    trials = int(os.environ.get("KILL_CRAWL_TRIALS", "3"))
    figures = kill_trials.run_crawl_trials(trials, seed=int(os.environ.get("KILL_SEED", "7")), work=tmp_path)
    assert figures.failures == []
    assert figures.passed == figures.trials == trials
    assert figures.posts_lost == 0
    assert figures.posts_expected >= trials * kill_trials.CRAWL_PAGES * kill_trials.CRAWL_PER_PAGE


@pytest.mark.timeout(120)
def test_a_crawl_killed_mid_run_is_carried_on_past_posts_published_since(tmp_path: Path) -> None:
    """Deterministic: the kill lands once four pages are stored; then a page's worth of posts is
    published, so the posts stored last time fill pages 2-5 and the owed ones start on page 6."""
    site = tmp_path / "site"
    per_page, pages = kill_trials.CRAWL_PER_PAGE, kill_trials.CRAWL_PAGES
    write_blog(site, pages * per_page, per_page)
    db = tmp_path / "crawled.db"
    with SiteServer(site) as server:
        server.delay = 0.1
        command = kill_trials.crawl_command(server.url, db)
        kill_once_stored(command, db, 4)
        problem, stored = kill_trials.check_crawl_after_kill(db, first_run=True)
        assert problem == ""  # integrity ok, whole captures, and the debt written with page `stored`
        assert 4 <= stored < pages
        write_blog(site, (pages + 1) * per_page, per_page)
        server.delay = 0
        again = subprocess.run(
            [c for c in command if c != "--quiet"], check=False, capture_output=True, text=True
        )
        assert again.returncode == 0, again.stderr
        assert again.stdout.startswith(f"crawled (an earlier crawl was cut short at page {stored + 1})")
        assert kill_trials.check_crawl_end(db, server.url, (pages + 1) * per_page) == ("", 0)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_migrate_killed_at_random_moments_leaves_the_old_or_the_new_archive(tmp_path: Path) -> None:
    """Each trial kills `archiver migrate` of a grown old archive (0.1.0 and schema 2 in turn):
    the file is the old archive or a clean upgrade's, integrity ok, and the next migrate finishes."""
    trials = int(os.environ.get("KILL_MIGRATE_TRIALS", "4"))
    seed = int(os.environ.get("KILL_SEED", "7"))
    figures = kill_migrate.run_migrate_trials(trials, seed, tmp_path, copies=MIGRATE_COPIES)
    assert figures.failures == []
    assert figures.passed == figures.trials == trials
    assert figures.ended_old + figures.ended_new == trials


@pytest.mark.timeout(120)
@pytest.mark.parametrize("fixture", kill_migrate.OLD_ARCHIVES, ids=lambda path: path.stem)
def test_migrate_killed_mid_transaction_leaves_the_old_archive(tmp_path: Path, fixture: Path) -> None:
    """Deterministic: the kill lands once the upgrade's transaction has written pages to the -wal."""
    reference = kill_migrate.make_reference(fixture, tmp_path, MIGRATE_COPIES)
    db = tmp_path / "killed.db"
    shutil.copy(reference.grown, db)
    assert not kill_migrate.kill_once_writing(db)
    assert kill_migrate.uncommitted_frames(db) > 0  # the upgrade's own pages, never committed
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert kill_migrate.digest(db) == reference.old
    again = subprocess.run(kill_migrate.migrate_command(db), check=False, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert kill_migrate.digest(db) == reference.indexed


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_archiver_run_killed_at_random_moments_ends_as_an_uninterrupted_run(tmp_path: Path) -> None:
    """Each trial kills `archiver run` over 30 blogs, runs it again, and compares every entry
    and version, per site, with an uninterrupted run's (benchmarks/kill_run.py)."""
    trials = int(os.environ.get("KILL_RUN_TRIALS", "4"))
    moments: list[int] = []
    passed, failures = kill_run.run_trials(trials, int(os.environ.get("KILL_SEED", "7")), tmp_path, moments)
    assert failures == []
    assert passed == trials == len(moments)
