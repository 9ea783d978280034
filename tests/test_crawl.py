"""`archiver crawl` and `archiver backfill` against the fixture blog served on 127.0.0.1."""

from __future__ import annotations

import functools
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from archiver import crawl as crawl_module
from archiver.fetcher import Fetcher
from archiver.models import ParsedPage
from archiver.parse import parse_capture

from conftest import SITE, SITE_PROFILE, Runner
from helpers import ARCHIVER_ENV, FakeClock, archiver_command, captured, entries
from sitehttp import Reply, SiteServer

FAST = ("--profile", SITE_PROFILE, "--delay", "0", "--timeout", "2")


@pytest.fixture
def site() -> Iterator[SiteServer]:
    with SiteServer(SITE) as server:
        yield server


def versions(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM entry_version").fetchone()[0])


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


# -- 1. a crawl archives what an import of the same pages archives -------------------------------


def test_crawl_archives_every_card_like_an_import(run: Runner, site: SiteServer, tmp_path: Path) -> None:
    crawled, imported = tmp_path / "crawled.db", tmp_path / "imported.db"
    result = run("crawl", site.url, "--db", crawled, *FAST)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("crawled 3 pages") and "46 new entries" in result.stdout
    assert result.stderr == ""
    assert [p for p in site.paths() if p != "/robots.txt"] == ["/", "/page/2/", "/page/3/"]
    imported_ok = run("import", SITE, "--db", imported, "--base-url", site.url, "--profile", SITE_PROFILE)
    assert imported_ok.exit_code == 0, imported_ok.stderr
    assert len(entries(crawled)) == 46
    assert entries(crawled) == entries(imported)


def test_crawl_without_a_profile_finds_the_cards_and_carries_on_after_a_failure(
    run: Runner, site: SiteServer, tmp_path: Path
) -> None:
    """Zero configuration: cards and next links found by detection, also on a page answered 304
    whose next link comes from its stored copy (the crawl that failed at page 2 owes it)."""
    crawled, imported = tmp_path / "crawled.db", tmp_path / "imported.db"
    bare = ("--delay", "0", "--timeout", "2", "--retries", "0")
    site.script("/page/2/", [Reply(503)])
    assert run("crawl", site.url, "--db", crawled, *bare).exit_code == 1
    assert len(entries(crawled)) == 16
    log = len(site.log)
    result = run("crawl", site.url, "--db", crawled, *bare)
    assert result.exit_code == 0, result.stderr
    assert [r.path for r in site.log[log:] if r.path != "/robots.txt"] == ["/", "/page/2/", "/page/3/"]
    assert captured(crawled)[-3][1] == 304
    assert run("import", SITE, "--db", imported, "--base-url", site.url).exit_code == 0
    assert len(entries(crawled)) == 46
    assert entries(crawled) == entries(imported)


def test_backfill_without_a_profile_matches_a_crawl(run: Runner, site: SiteServer, tmp_path: Path) -> None:
    crawled, backfilled = tmp_path / "crawled.db", tmp_path / "backfilled.db"
    bare = ("--delay", "0", "--timeout", "2")
    assert run("crawl", site.url, "--db", crawled, *bare).exit_code == 0
    result = run("backfill", site.url, "--all", "--db", backfilled, *bare, "--concurrency", "3")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("backfilled 3 pages") and "stopped at the last page" in result.stdout
    assert len(entries(backfilled)) == 46
    assert entries(backfilled) == entries(crawled)
    again = run("backfill", site.url, "--all", "--db", backfilled, *bare, "--restart")
    assert again.exit_code == 0, again.stderr
    assert "(3 unchanged" in again.stdout  # 304s: each next link read from the stored copy
    assert entries(backfilled) == entries(crawled)


def test_profile_start_url_is_enough(run: Runner, site: SiteServer, tmp_path: Path) -> None:
    profile = tmp_path / "site.toml"
    profile.write_text(f'start_url = "{site.url}"\n' + SITE_PROFILE.read_text(encoding="utf-8"))
    result = run("crawl", "--profile", profile, "--db", tmp_path / "a.db", "--delay", "0")
    assert result.exit_code == 0, result.stderr
    assert len(entries(tmp_path / "a.db")) == 46


@pytest.mark.parametrize("args", [(), ("ftp://127.0.0.1/",)], ids=["no-url", "ftp"])
def test_a_missing_or_bad_start_url_is_a_usage_error(run: Runner, db: Path, args: tuple[str, ...]) -> None:
    result = run("crawl", *args, "--db", db)
    assert result.exit_code == 2
    assert "URL" in result.stderr and "Traceback" not in result.stderr


# -- 2. an unchanged site costs one conditional request -----------------------------------------


def test_second_crawl_is_one_304_and_adds_nothing(run: Runner, site: SiteServer, db: Path) -> None:
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    before, log = entries(db), len(site.log)
    result = run("crawl", site.url, "--db", db, *FAST)
    assert result.exit_code == 0, result.stderr
    assert [r.path for r in site.log[log:]] == ["/"]  # robots.txt was read an hour ago: kept
    assert site.log[log].header("If-None-Match")
    assert captured(db)[-1] == (site.url, 304)
    assert entries(db) == before


def test_an_unchanged_page_is_not_parsed_again(
    run: Runner, site: SiteServer, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 304 needs only the page's next link and cards key, kept with its state when it was
    parsed; a state kept before they were (an upgraded archive) is parsed once and then kept."""
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    parsed: list[str] = []

    def counting(*args: Any, **kwargs: Any) -> ParsedPage:
        parsed.append(str(kwargs.get("source")))
        return parse_capture(*args, **kwargs)

    monkeypatch.setattr(crawl_module, "parse_capture", counting)
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    assert parsed == []
    with sqlite3.connect(db) as conn:
        kept = conn.execute("SELECT next_url, cards_key FROM page WHERE url = ?", (site.url,)).fetchone()
        assert kept[0].endswith("/page/2/") and len(kept[1]) == 32
        conn.execute("UPDATE page SET next_url = NULL, cards_key = NULL")
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    assert parsed == [site.url]
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    assert parsed == [site.url]
    with sqlite3.connect(db) as conn:
        assert (
            conn.execute("SELECT next_url, cards_key FROM page WHERE url = ?", (site.url,)).fetchone() == kept
        )


def age_robots(db: Path, hours: int) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE robots_txt SET fetched_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', ?)",
            (f"-{hours} hours",),
        )


def test_robots_txt_is_read_again_after_a_day(run: Runner, site: SiteServer, db: Path) -> None:
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    assert site.paths().count("/robots.txt") == 1
    age_robots(db, 23)
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    assert site.paths().count("/robots.txt") == 1
    age_robots(db, 25)
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    assert site.paths().count("/robots.txt") == 2


def test_second_crawl_is_one_304_with_robots_ignored(run: Runner, site: SiteServer, db: Path) -> None:
    assert run("crawl", site.url, "--db", db, *FAST, "--ignore-robots").exit_code == 0
    log = len(site.log)
    assert run("crawl", site.url, "--db", db, *FAST, "--ignore-robots").exit_code == 0
    assert site.paths()[log:] == ["/"]  # exactly one request


def test_identical_bytes_without_validators_stop_the_crawl_too(
    run: Runner, site: SiteServer, db: Path
) -> None:
    site.validators = False
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    before, log = entries(db), len(site.log)
    result = run("crawl", site.url, "--db", db, *FAST)
    assert result.exit_code == 0, result.stderr
    assert [r.path for r in site.log[log:] if r.path != "/robots.txt"] == ["/"]
    assert captured(db)[-1] == (site.url, 200)
    with sqlite3.connect(db) as conn:
        last = conn.execute("SELECT cards, parsed_with FROM capture ORDER BY id DESC LIMIT 1").fetchone()
    assert last == (16, None)  # not parsed: the 16 posts of its last capture are seen again
    assert entries(db) == before


# -- 3. what a crawl sees, and what only a backfill sees ----------------------------------------


def test_a_changed_excerpt_on_page_1_is_one_new_version(
    run: Runner, site: SiteServer, site_copy: Path, db: Path
) -> None:
    site.root = site_copy
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    edit(site_copy / "index.html", "但是RNN的结构的缺点是不能并行操作", "但是RNN的结构的缺点是无法并行计算")
    result = run("crawl", site.url, "--db", db, *FAST)
    assert result.exit_code == 0, result.stderr
    assert "1 new versions" in result.stdout
    assert versions(db) == 47


def test_a_change_on_the_last_page_needs_a_backfill(
    run: Runner, site: SiteServer, site_copy: Path, db: Path
) -> None:
    site.root = site_copy
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    edit(
        site_copy / "page/3/index.html",
        "受到内存限制,列表容量肯定是有限的",
        "受到内存限制,列表的容量总是有限的",
    )
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    assert versions(db) == 46
    result = run("backfill", site.url, "--all", "--db", db, *FAST)
    assert result.exit_code == 0, result.stderr
    assert versions(db) == 47
    assert result.stdout.startswith("backfilled 3 pages") and "(2 unchanged" in result.stdout


def test_backfill_concurrently_matches_a_sequential_one(
    run: Runner, site: SiteServer, tmp_path: Path
) -> None:
    one, many = tmp_path / "one.db", tmp_path / "many.db"
    assert run("backfill", site.url, "--db", one, *FAST).exit_code == 0
    result = run("backfill", site.url, "--db", many, *FAST, "--concurrency", "4")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""  # no progress bar off a terminal: only the summary line, on stdout
    assert result.stdout.count("\n") == 1
    assert entries(many) == entries(one)
    assert [s for s, _ in captured(many)] == [site.url + p for p in ("", "page/2/", "page/3/")]


def test_backfill_falls_back_to_next_links_when_the_pattern_guesses_wrong(
    run: Runner, site: SiteServer, site_copy: Path, db: Path
) -> None:
    edit(
        site_copy / "page/2/index.html",
        'class="next" rel="next" href="/page/3/"',
        'class="next" href="/older/"',
    )
    shutil.copytree(site_copy / "page/3", site_copy / "older")
    site.root = site_copy
    result = run("backfill", site.url, "--db", db, *FAST, "--concurrency", "3")
    assert result.exit_code == 0, result.stderr
    assert [s for s, _ in captured(db)] == [site.url + p for p in ("", "page/2/", "older/")]
    assert len(entries(db)) == 46


def test_backfill_a_page_range(run: Runner, site: SiteServer, db: Path) -> None:
    result = run("backfill", site.url, "--pages", "2-3", "--db", db, *FAST)
    assert result.exit_code == 0, result.stderr
    assert [s for s, _ in captured(db)] == [site.url + "page/2/", site.url + "page/3/"]
    assert len(entries(db)) == 30


@pytest.mark.parametrize("args", [("--pages", "3-1"), ("--pages", "x"), ("--all", "--pages", "1-2")])
def test_bad_page_range_is_a_usage_error(run: Runner, db: Path, args: tuple[str, ...]) -> None:
    assert run("backfill", "http://127.0.0.1:9/", *args, "--db", db).exit_code == 2


# -- 4. transient failures are retried, a dead page fails the run and keeps the rest --------------


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The crawl's waits, recorded instead of slept (the network stays real)."""
    fake = FakeClock()
    monkeypatch.setattr("archiver.crawl.Fetcher", functools.partial(Fetcher, clock=fake))
    return fake


def test_503_twice_then_200_succeeds(run: Runner, site: SiteServer, db: Path, clock: FakeClock) -> None:
    site.script("/", [Reply(503), Reply(503)])
    result = run("crawl", site.url, "--db", db, *FAST)
    assert result.exit_code == 0, result.stderr
    assert site.paths().count("/") == 3
    assert len(clock.sleeps) == 2  # a backoff before each retry
    assert len(entries(db)) == 46


def test_429_retry_after_is_waited_for(run: Runner, site: SiteServer, db: Path, clock: FakeClock) -> None:
    site.script("/page/2/", [Reply(429, headers={"Retry-After": "2"})])
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    assert [r.path for r in site.page_requests()] == ["/", "/page/2/", "/page/2/", "/page/3/"]
    assert clock.sleeps == [2.0]


def test_a_page_that_never_answers_fails_the_run_and_keeps_earlier_pages(
    run: Runner, site: SiteServer, db: Path
) -> None:
    site.hang("/page/2/")
    result = run("crawl", site.url, "--db", db, *FAST, "--timeout", "0.3", "--retries", "0")
    assert result.exit_code == 1
    assert f"{site.url}page/2/: no answer within 0.3 s" in result.stderr
    assert "Traceback" not in result.stderr
    assert captured(db) == [(site.url, 200)]
    assert len(entries(db)) == 16


# -- 5. a killed backfill carries on where it stopped ---------------------------------------------


def test_killed_backfill_resumes_without_refetching(site: SiteServer, tmp_path: Path) -> None:
    killed, whole = tmp_path / "killed.db", tmp_path / "whole.db"
    args = (site.url, "--profile", SITE_PROFILE, "--delay", "0", "--timeout", "5")
    site.delay = 0.5
    process = subprocess.Popen(archiver_command("backfill", *args, "--db", killed), env=ARCHIVER_ENV)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (killed.exists() and captured_safely(killed)):
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    stored = [source for source, _ in captured(killed)]
    assert 1 <= len(stored) < 3, "the kill should land halfway"
    site.delay = 0
    log = len(site.log)
    resumed = subprocess.run(
        archiver_command("backfill", *args, "--db", killed),
        check=False,
        env=ARCHIVER_ENV,
        capture_output=True,
        text=True,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed at page {len(stored) + 1}" in resumed.stdout
    refetched = {site.url + r.path.lstrip("/") for r in site.log[log:] if r.path != "/robots.txt"}
    assert refetched.isdisjoint(stored)
    done = subprocess.run(
        archiver_command("backfill", *args, "--db", whole),
        check=False,
        env=ARCHIVER_ENV,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert entries(killed) == entries(whole)


def captured_safely(db: Path) -> bool:
    """Whether the running backfill has committed a page (the file may not be initialised yet)."""
    try:
        return bool(captured(db))
    except sqlite3.Error:
        return False


def test_failed_backfill_resumes_and_restart_starts_over(run: Runner, site: SiteServer, db: Path) -> None:
    site.script("/page/3/", [Reply(404)])
    failed = run("backfill", site.url, "--db", db, *FAST)
    assert failed.exit_code == 1 and "page/3/: HTTP 404" in failed.stderr
    log = len(site.log)
    assert run("backfill", site.url, "--db", db, *FAST).exit_code == 0
    assert [p for p in site.paths()[log:] if p != "/robots.txt"] == ["/page/3/"]
    log = len(site.log)
    assert run("backfill", site.url, "--db", db, *FAST, "--restart").exit_code == 0
    assert [p for p in site.paths()[log:] if p != "/robots.txt"] == ["/", "/page/2/", "/page/3/"]


# -- 6. one run at a time -------------------------------------------------------------------------


def test_a_second_run_exits_75_at_once(site: SiteServer, db: Path) -> None:
    # slow enough that the first run still holds the lock when the second has started, even on
    # a machine so busy that starting a Python process takes seconds
    site.delay = 1.5
    first = subprocess.Popen(
        archiver_command("crawl", site.url, "--db", db, *FAST),
        env=ARCHIVER_ENV,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    while not site.log and time.monotonic() < deadline:
        time.sleep(0.02)
    started = time.monotonic()
    second = subprocess.run(
        archiver_command("crawl", site.url, "--db", db, *FAST),
        check=False,
        env=ARCHIVER_ENV,
        capture_output=True,
        text=True,
    )
    assert second.returncode == 75
    assert time.monotonic() - started < 5
    assert f"pid {first.pid}" in second.stderr
    assert first.wait(timeout=30) == 0
    assert len(entries(db)) == 46


# -- 7. refusals: each is a clear message, and the archive is unchanged ---------------------------


@pytest.fixture
def archived(run: Runner, site: SiteServer, db: Path) -> list[tuple[object, ...]]:
    """The fixture site crawled once; the entries a failing run must leave alone."""
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    return entries(db)


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (Reply(body=b"<p>big</p>" * 30_000, chunked=True), "page/2/: response too large"),
        (Reply(body=b"%PDF-1.4 not a page", content_type="application/pdf"), "page/2/: not an HTML page"),
        (Reply(302, headers={"Location": "http://localhost:{port}/page/2/index.html"}), "another host"),
    ],
    ids=["oversized", "not-html", "off-site-redirect"],
)
def test_refused_page_fails_with_a_message_and_changes_nothing(
    run: Runner,
    site: SiteServer,
    db: Path,
    archived: list[tuple[object, ...]],
    fault: Reply,
    message: str,
) -> None:
    if "Location" in fault.headers:
        fault.headers["Location"] = fault.headers["Location"].format(port=site.port)
    site.serve("/page/2/", fault)
    result = run("backfill", site.url, "--db", db, *FAST, "--max-bytes", "100000")
    assert result.exit_code == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    assert entries(db) == archived


def test_robots_disallow_is_honoured(
    run: Runner, site: SiteServer, db: Path, archived: list[tuple[object, ...]]
) -> None:
    site.serve("/robots.txt", Reply(body=b"User-agent: *\nDisallow: /page/3/\n", content_type="text/plain"))
    age_robots(db, 25)  # the archive's copy of robots.txt, from before the change, has expired
    log = len(site.log)
    result = run("backfill", site.url, "--db", db, *FAST)
    assert result.exit_code == 1
    assert "page/3/: disallowed by" in result.stderr
    assert "/page/3/" not in site.paths()[log:]
    assert entries(db) == archived
    assert run("backfill", site.url, "--db", db, *FAST, "--ignore-robots").exit_code == 0


@pytest.mark.parametrize("command", ["crawl", "backfill"])
def test_a_next_link_to_another_host_is_not_followed_unless_allowed(
    run: Runner, site: SiteServer, site_copy: Path, tmp_path: Path, command: str
) -> None:
    """Next-page links stay on the start URL's host, like redirects: another host is refused by
    name (the run fails, page 1 is kept) until --allow-redirect-host names it."""
    elsewhere = f"http://localhost:{site.port}/page/"
    page = site_copy / "index.html"  # both its <link rel=next> and its next-page anchor
    page.write_text(page.read_text("utf-8").replace('href="/page/2/"', f'href="{elsewhere}2/"'), "utf-8")
    site.root = site_copy
    refused = run(command, site.url, "--db", tmp_path / "refused.db", *FAST, "--retries", "0")
    assert refused.exit_code == 1
    assert f"the next-page link leads to another host ({elsewhere}2/); not followed" in refused.stderr
    assert "--allow-redirect-host" in refused.stderr and "Traceback" not in refused.stderr
    assert "/page/2/" not in site.paths()
    assert captured(tmp_path / "refused.db") == [(site.url, 200)]
    allowed = tmp_path / "allowed.db"
    result = run(command, site.url, "--db", allowed, *FAST, "--allow-redirect-host", "localhost")
    assert result.exit_code == 0, result.stderr
    assert [source for source, _ in captured(allowed)] == [site.url, elsewhere + "2/", elsewhere + "3/"]
    assert len(entries(allowed)) == 46


@pytest.mark.parametrize("header", ["text/html; charset=gbk", "text/html"], ids=["header", "meta-only"])
def test_gbk_page_reads_right(run: Runner, site: SiteServer, tmp_path: Path, header: str) -> None:
    utf8, gbk = tmp_path / "utf8.db", tmp_path / "gbk.db"
    assert run("crawl", site.url, "--db", utf8, *FAST).exit_code == 0
    page = (SITE / "index.html").read_text(encoding="utf-8").replace('charset="utf-8"', 'charset="gbk"')
    site.serve("/", Reply(body=page.encode("gbk", errors="xmlcharrefreplace"), content_type=header))
    result = run("crawl", site.url, "--db", gbk, *FAST)
    assert result.exit_code == 0, result.stderr
    assert entries(gbk) == entries(utf8)


def test_a_page_without_cards_is_a_broken_layout(
    run: Runner, site: SiteServer, db: Path, archived: list[tuple[object, ...]]
) -> None:
    site.serve("/", Reply(body=b"<html><body><main><p>We moved things around.</p></main></body></html>"))
    for _ in range(2):  # and again next time: the broken page is not remembered as unchanged
        result = run("crawl", site.url, "--db", db, *FAST)
        assert result.exit_code == 3
        assert f"{site.url}: LAYOUT BROKEN" in result.stderr
        assert entries(db) == archived


def test_unchanged_page_counts_as_seen_again(run: Runner, site: SiteServer, db: Path) -> None:
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    for _ in range(2):  # a 304, then identical bytes without validators
        assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
        site.validators = False
    with sqlite3.connect(db) as conn:
        last_capture = conn.execute("SELECT max(id) FROM capture").fetchone()[0]
        seen = conn.execute(
            "SELECT v.seen_count, v.last_capture_id = ?, count(*) FROM entry_version v"
            " JOIN capture c ON c.id = v.first_capture_id GROUP BY c.source ORDER BY c.id",
            (last_capture,),
        ).fetchall()
    # page 1's 16 posts were seen three times, the rest once (the crawl stopped after page 1)
    assert seen == [(3, 1, 16), (1, 0, 15), (1, 0, 15)]


def test_reparse_of_crawled_pages_keeps_their_entries(run: Runner, site: SiteServer, db: Path) -> None:
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    before = entries(db)
    assert run("reparse", "--db", db).exit_code == 0
    assert entries(db) == before  # permalinks still resolve against the page's URL
    site.validators = False
    assert run("backfill", site.url, "--db", db, *FAST, "--restart").exit_code == 0
    assert entries(db) == before


def test_a_page_whose_post_list_collapses_is_a_broken_layout(
    run: Runner, site: SiteServer, site_copy: Path, db: Path
) -> None:
    site.root = site_copy
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    before = entries(db)
    page = site_copy / "index.html"
    html = page.read_text(encoding="utf-8")
    start, end = html.index("<article"), html.rindex("</article>") + len("</article>")
    page.write_text(html[:start] + html[end:], encoding="utf-8")  # only the sidebar's links remain
    result = run("crawl", site.url, "--db", db, *FAST)
    assert result.exit_code == 3, result.stderr
    assert "LAYOUT BROKEN" in result.stderr and "16 cards" in result.stderr
    assert entries(db) == before
