"""`archiver run`: every watched blog checked from one process, as separate crawls would, politely.

The blogs are real HTTP servers on 127.0.0.1 ports (tests/manysites.py), one asyncio loop for
all of them, logging when each request arrived and was answered.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

from manysites import Blog, ManySites

from conftest import ROOT, Runner

#: A blog under a path answers for it; five of them share one host:port in the politeness test.
PATHS = ["/blogs/ada", "/blogs/bo", "/u/cy", "/u/di", "/~ed"]


def _add(run: Runner, db: Path, urls: list[str], tmp_path: Path) -> None:
    listing = tmp_path / "blogs.txt"
    listing.write_text("# the blogs\n" + "\n".join(urls) + "\n", encoding="utf-8")
    added = run("add", "--from", listing, "--db", db)
    assert added.exit_code == 0, added.stderr


def _per_site(db: Path) -> dict[str, tuple[object, ...]]:
    """Per site: its entries with their versions' fields, and how many captures it has."""
    with closing(sqlite3.connect(db)) as conn:
        entries = conn.execute(
            "SELECT e.site, e.key, v.version, v.title, v.url, v.categories, v.date, v.excerpt"
            " FROM entry e JOIN entry_version v ON v.entry_id = e.id ORDER BY e.site, e.key, v.version"
        ).fetchall()
        captures = dict(conn.execute("SELECT site, count(*) FROM capture GROUP BY site").fetchall())
    sites: dict[str, list[tuple[object, ...]]] = {}
    for row in entries:
        sites.setdefault(str(row[0]), []).append(row[1:])
    return {site: (tuple(rows), captures.get(site)) for site, rows in sites.items()}


def test_one_run_archives_200_blogs_as_200_crawls_would(run: Runner, tmp_path: Path) -> None:
    blogs = [Blog(port_slot=n, posts=7 + n % 9) for n in range(200)]
    with ManySites(blogs) as sites:
        watched, separate = tmp_path / "watched.db", tmp_path / "separate.db"
        _add(run, watched, sites.start_urls(), tmp_path)
        result = run("run", "--db", watched, "--delay", "0")
        assert result.exit_code == 0, result.stderr
        assert "checked 200 sites: 0 unchanged, 200 updated, 0 failed" in result.stdout
        for url in sites.start_urls():
            crawled = run("crawl", url, "--db", separate, "--delay", "0", "--quiet")
            assert crawled.exit_code == 0, crawled.stderr
        assert _per_site(watched) == _per_site(separate)
        assert len(_per_site(watched)) == 200
        again = run("run", "--db", watched, "--delay", "0", "--force")
    assert again.exit_code == 0 and "checked 200 sites: 200 unchanged, 0 updated" in again.stdout


def _health(run: Runner, db: Path) -> dict[str, dict[str, object]]:
    listed = run("sites", "--json", "--db", db)
    assert listed.exit_code == 0, listed.stderr
    return {site["site"]: site for site in json.loads(listed.stdout)}


def test_failing_blogs_are_recorded_and_never_stop_the_others(run: Runner, tmp_path: Path) -> None:
    modes = ["503"] * 10 + ["refuse"] * 5 + ["no-cards"] * 5 + ["ok"] * 180
    blogs = [Blog(port_slot=n, mode=mode) for n, mode in enumerate(modes)]
    db = tmp_path / "archive.db"
    with ManySites(blogs) as sites:
        _add(run, db, sites.start_urls(), tmp_path)
        result = run("run", "--db", db, "--delay", "0", "--retries", "0")
        assert result.exit_code == 1, result.stderr
        assert "checked 200 sites: 0 unchanged, 180 updated, 20 failed" in result.stdout
        names: dict[str, list[str]] = {blog.mode: [] for blog in blogs}
        for blog in blogs:
            names[blog.mode].append(sites.url(blog).removeprefix("http://").rstrip("/"))
        failed_lines = [line for line in result.stderr.splitlines() if line.startswith("archiver: ")]
        assert len(failed_lines) == 20
        for mode in ("503", "refuse", "no-cards"):
            assert all(any(f"archiver: {name}: " in line for line in failed_lines) for name in names[mode])
        health = _health(run, db)
        assert all(health[name]["failures"] == 1 and health[name]["last_error"] for name in names["503"])
        assert all("503" in str(health[name]["last_error"]) for name in names["503"])
        assert all("refused" in str(health[name]["last_error"]) for name in names["refuse"])
        assert all(health[name]["failures"] == 0 and health[name]["entries"] for name in names["ok"])
        # nothing is due again yet: the failing sites back off, the others wait their interval
        quiet = run("run", "--db", db, "--delay", "0")
        assert quiet.exit_code == 0 and "no site is due" in quiet.stdout
        # they recover (the refused ones listen again on their ports) and their time comes
        sites.recover()
        with closing(sqlite3.connect(db)) as conn, conn:
            conn.execute("UPDATE site SET next_check_at = '2000-01-01T00:00:00Z' WHERE failures > 0")
        recovered = run("run", "--db", db, "--delay", "0")
    assert recovered.exit_code == 0, recovered.stderr
    assert "checked 20 sites: 0 unchanged, 20 updated, 0 failed" in recovered.stdout
    assert all(site["failures"] == 0 for site in _health(run, db).values())
    # a blog whose posts vanish from its page after it had some: its layout broke (exit 3)
    with ManySites(blogs[:2]) as sites:
        broken = tmp_path / "broken.db"
        _add(run, broken, sites.start_urls(), tmp_path)
        assert run("run", "--db", broken, "--delay", "0").exit_code == 0
        blogs[0].mode = "no-cards"
        layout = run("run", "--db", broken, "--delay", "0", "--force")
    assert layout.exit_code == 3, layout.stderr
    assert "LAYOUT BROKEN" in layout.stderr and "1 unchanged, 0 updated, 1 failed" in layout.stdout


def test_a_server_s_retry_after_and_a_failing_site_s_backoff_set_its_next_check(
    run: Runner, tmp_path: Path
) -> None:
    """Checked every minute, a site answering 503 with Retry-After: 3600 is next due an hour
    later (the server's word), one answering with Retry-After: 1 after two minutes (its backoff)."""
    blogs = [Blog(port_slot=0, mode="503", retry_after=3600), Blog(port_slot=1, mode="503", retry_after=1)]
    db = tmp_path / "archive.db"
    with ManySites(blogs) as sites:
        for blog in blogs:
            assert run("add", sites.url(blog), "--every", "1m", "--db", db).exit_code == 0
        assert run("run", "--db", db, "--delay", "0", "--retries", "0").exit_code == 1
        health = _health(run, db)
    waits = {}
    for blog in blogs:
        site = health[sites.url(blog).removeprefix("http://").rstrip("/")]
        last = datetime.fromisoformat(str(site["last_check"]))
        waits[blog.retry_after] = datetime.fromisoformat(str(site["next_check"])) - last
    hour, backoff = waits[3600], waits[1]
    assert timedelta(minutes=59) <= hour <= timedelta(minutes=61)
    assert timedelta(minutes=2) <= backoff <= timedelta(minutes=2.5)


def test_a_blog_with_no_post_dated_in_30_days_is_checked_once_a_day(run: Runner, tmp_path: Path) -> None:
    """The fixture blog's posts are dated 2025: after a successful check, a blog asked to be
    checked every hour is next due a day later (its dates, not its first crawl's backlog)."""
    db = tmp_path / "archive.db"
    with ManySites([Blog(port_slot=0)]) as sites:
        assert run("add", *sites.start_urls(), "--every", "1h", "--db", db).exit_code == 0
        assert run("run", "--db", db, "--delay", "0").exit_code == 0
        (site,) = _health(run, db).values()
    wait = datetime.fromisoformat(str(site["next_check"])) - datetime.fromisoformat(str(site["last_check"]))
    assert wait == timedelta(days=1)
    assert site["new_7d"] == site["entries"] == 12  # all first seen now, yet none dated recently


def test_never_two_requests_at_once_to_one_host_and_the_delay_between_them(
    run: Runner, tmp_path: Path
) -> None:
    blogs = [Blog(port_slot=0, prefix=prefix, posts=8) for prefix in PATHS]
    blogs += [Blog(port_slot=n, posts=8) for n in range(1, 16)]
    db, delay = tmp_path / "archive.db", 0.15
    with ManySites(blogs, latency=0.02) as sites:
        _add(run, db, sites.start_urls(), tmp_path)
        result = run("run", "--db", db, "--concurrency", "16", "--delay", str(delay))
        assert result.exit_code == 0, result.stderr
        log = sites.log
    assert len({site for site in _per_site(db)}) == 16  # five blogs of one host:port, one site each
    by_port: dict[int, list[tuple[float, float]]] = {}
    for entry in log:
        by_port.setdefault(entry.port, []).append((entry.arrived, entry.answered))
    shared = by_port[sites.ports[0]]
    assert len(shared) >= 5 * 2  # robots.txt and two pages of each of the five blogs
    for requests in by_port.values():
        requests.sort()
        for (_, answered), (arrived, _) in itertools.pairwise(requests):
            assert arrived >= answered, "two requests to one host at once"
            assert arrived - answered >= delay * 0.9, "the delay between two requests was not kept"
    # the run overlapped hosts: it took less time than the requests one after another would
    starts = [entry.arrived for entry in log]
    assert max(starts) - min(starts) < len(log) * delay


def test_two_runs_started_together_with_wait_run_one_after_the_other(run: Runner, tmp_path: Path) -> None:
    blogs = [Blog(port_slot=n, posts=6) for n in range(3)]
    db = tmp_path / "archive.db"
    with ManySites(blogs, latency=0.05) as sites:
        _add(run, db, sites.start_urls(), tmp_path)
        command = [
            sys.executable,
            "-m",
            "archiver",
            "run",
            "--db",
            str(db),
            "--wait",
            "60",
            "--force",
            "--delay",
            "0.2",
        ]
        env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
        started = time.monotonic()
        both = [
            subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            for _ in range(2)
        ]
        outputs = [process.communicate(timeout=120) for process in both]
    assert [process.returncode for process in both] == [0, 0], outputs
    assert sorted("3 updated" in out for out, _ in outputs) == [False, True]  # the second found them known
    assert time.monotonic() - started < 120
