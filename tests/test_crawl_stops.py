"""Where `archiver crawl` and `archiver backfill` stop, on generated blogs served on 127.0.0.1.

A crawl cut short (a failed page, a broken layout, a kill) owes the pages it did not reach: the
next crawl goes past them before known posts may stop it. Endless paginations end at a page cap,
and a pagination that shows the same posts again ends as a loop.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import SITE_PROFILE, Runner
from sitehttp import Reply, SiteServer, blog_page, write_blog

FAST = ("--profile", SITE_PROFILE, "--delay", "0", "--timeout", "2", "--retries", "0")
PER_PAGE = 10


@pytest.fixture
def blog(tmp_path: Path) -> Iterator[tuple[SiteServer, Path]]:
    """A 30-post blog (3 pages of 10) that a test may publish more posts to."""
    root = tmp_path / "blog"
    write_blog(root, 30, PER_PAGE)
    with SiteServer(root) as server:
        yield server, root


def archived(db: Path) -> set[str]:
    """The permalinks of every archived post."""
    with sqlite3.connect(db) as conn:
        return {row[0] for row in conn.execute("SELECT url FROM current_entries")}


def posts(site: SiteServer, count: int) -> set[str]:
    """The permalinks of posts 1..count of a generated blog."""
    return {f"{site.url}posts/post-{n}/" for n in range(1, count + 1)}


def debts(db: Path) -> list[tuple[int, int]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT owed_page, known_cards FROM crawl_debt").fetchall()


def pages_fetched(site: SiteServer, since: int) -> list[str]:
    return [p for p in site.paths()[since:] if p != "/robots.txt"]


# -- 1. a crawl cut short is carried on ------------------------------------------------------------


def test_posts_behind_a_page_that_failed_once_are_archived_by_the_next_crawl(
    run: Runner, blog: tuple[SiteServer, Path], db: Path
) -> None:
    site, root = blog
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    write_blog(root, 50, PER_PAGE)  # 20 new posts: pages 1 and 2 are all new
    site.script("/page/2/", [Reply(503)])
    failed = run("crawl", site.url, "--db", db, *FAST)
    assert failed.exit_code == 1 and "page/2/" in failed.stderr
    assert archived(db) == posts(site, 50) - posts(site, 40) | posts(site, 30)  # page 1 is stored
    assert debts(db) == [(2, 10)]  # written with page 1: the 10 posts stored from the top

    log = len(site.log)
    again = run("crawl", site.url, "--db", db, *FAST)
    assert again.exit_code == 0, again.stderr
    assert again.stdout.startswith("crawled (an earlier crawl was cut short at page 2) 3 pages")
    assert "stopped at known pages" in again.stdout
    assert pages_fetched(site, log) == ["/", "/page/2/", "/page/3/"]
    assert archived(db) == posts(site, 50)
    assert debts(db) == []  # paid: the crawl after that is one conditional request again
    log = len(site.log)
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    assert pages_fetched(site, log) == ["/"]


def test_owed_posts_pushed_down_by_new_ones_are_still_found(
    run: Runner, blog: tuple[SiteServer, Path], db: Path
) -> None:
    """A page's worth of posts published before the next crawl moves the owed ones from page 2
    to page 3, below a page of known posts: the debt is counted in posts, not pages."""
    site, root = blog
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    write_blog(root, 50, PER_PAGE)
    site.script("/page/2/", [Reply(503)])
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 1
    write_blog(root, 60, PER_PAGE)  # page 2 now shows the posts stored from page 1 last time
    log = len(site.log)
    result = run("crawl", site.url, "--db", db, *FAST)
    assert result.exit_code == 0, result.stderr
    assert pages_fetched(site, log) == ["/", "/page/2/", "/page/3/", "/page/4/"]
    assert archived(db) == posts(site, 60)
    assert debts(db) == []


def test_a_broken_layout_leaves_the_debt_in_place(
    run: Runner, blog: tuple[SiteServer, Path], db: Path
) -> None:
    site, root = blog
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    write_blog(root, 50, PER_PAGE)
    nothing = Reply(body=b"<html><body><main><p>Down for maintenance.</p></main></body></html>")
    site.script("/page/2/", [nothing])
    first = run("crawl", site.url, "--db", db, *FAST)
    assert first.exit_code == 3 and "page/2/: LAYOUT BROKEN" in first.stderr
    site.script("/", [nothing])  # and next time page 1 breaks the check
    second = run("crawl", site.url, "--db", db, *FAST)
    assert second.exit_code == 3 and f"{site.url}: LAYOUT BROKEN" in second.stderr
    assert debts(db) == [(2, 10)]
    third = run("crawl", site.url, "--db", db, *FAST)
    assert third.exit_code == 0, third.stderr
    assert archived(db) == posts(site, 50)


def test_a_page_limit_ends_the_crawl_without_a_debt(
    run: Runner, blog: tuple[SiteServer, Path], db: Path
) -> None:
    """--max-pages is how deep the user wants the crawl to look: stopping there is an ending,
    like the last page; the pages below are for `archiver backfill` (or a higher limit)."""
    site, _ = blog
    result = run("crawl", site.url, "--db", db, *FAST, "--max-pages", "2")
    assert result.exit_code == 0, result.stderr
    assert "stopped at the page limit" in result.stdout
    assert debts(db) == []
    log = len(site.log)
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    assert pages_fetched(site, log) == ["/"]
    assert archived(db) == posts(site, 30) - posts(site, 10)


@pytest.mark.parametrize(
    ("known", "fetched", "ending"),
    [
        (1, ["/"], "stopped at known pages"),
        (2, ["/", "/page/2/"], "stopped at known pages"),
        (5, ["/", "/page/2/", "/page/3/"], "stopped at the last page"),
    ],
)
def test_stop_after_known_is_how_many_known_pages_in_a_row_end_a_crawl(
    run: Runner, blog: tuple[SiteServer, Path], db: Path, known: int, fetched: list[str], ending: str
) -> None:
    site, _ = blog
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    log = len(site.log)
    result = run("crawl", site.url, "--db", db, *FAST, "--stop-after-known", str(known))
    assert result.exit_code == 0, result.stderr
    assert pages_fetched(site, log) == fetched
    assert ending in result.stdout


# -- 2. endless paginations -------------------------------------------------------------------------

ENDLESS_PER_PAGE = 5
#: the server makes pages up to here, so that a crawl without a cap still ends (and fails the test)
ENDLESS_UNTIL = 200
CAP = 10


@pytest.fixture
def endless(tmp_path: Path) -> Iterator[SiteServer]:
    """``/page/N/`` for every N, each with five posts never shown before and a next link."""

    def page(target: str) -> Reply | None:
        match = re.fullmatch(r"/(?:page/(\d+)/)?", urlsplit(target).path)
        if match is None:
            return None
        n = int(match[1] or 1)
        numbers = range(10_000 - n * ENDLESS_PER_PAGE, 10_000 - (n - 1) * ENDLESS_PER_PAGE)
        return Reply(body=blog_page(numbers, f"/page/{n + 1}/" if n < ENDLESS_UNTIL else None))

    with SiteServer(tmp_path) as server:
        server.answer(page)
        yield server


@pytest.fixture
def small_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default page cap, made small enough for a test to reach in a moment."""
    monkeypatch.setattr("archiver.stopping.MAX_PAGES_PER_RUN", CAP)


@pytest.mark.usefixtures("small_cap")
def test_an_endless_pagination_stops_a_crawl_at_the_cap_and_says_so(
    run: Runner, endless: SiteServer, tmp_path: Path
) -> None:
    db = tmp_path / "a.db"
    result = run("crawl", endless.url, "--db", db, *FAST)
    assert result.exit_code == 4
    assert len(pages_fetched(endless, 0)) == CAP
    assert f"crawled {CAP} pages" in result.stdout and "stopped at the page cap" in result.stdout
    assert f"stopped at page {CAP}, after {CAP} pages" in result.stderr
    assert "--max-pages" in result.stderr and "Traceback" not in result.stderr
    assert debts(db) == []
    quiet = run("crawl", endless.url, "--db", tmp_path / "b.db", *FAST, "--quiet")  # cron hears of it too
    assert quiet.exit_code == 4 and quiet.stdout == "" and "The listing goes on" in quiet.stderr

    log = len(endless.log)
    deeper = run(
        "crawl", endless.url, "--db", db, *FAST, "--max-pages", str(CAP + 10), "--stop-after-known", "99"
    )
    assert deeper.exit_code == 0, deeper.stderr  # the user's own limit: no warning
    assert "stopped at the page limit" in deeper.stdout
    assert len(pages_fetched(endless, log)) == CAP + 10


@pytest.mark.usefixtures("small_cap")
def test_an_endless_pagination_stops_a_backfill_at_the_cap_and_the_next_carries_on(
    run: Runner, endless: SiteServer, db: Path
) -> None:
    first = run("backfill", endless.url, "--all", "--db", db, *FAST, "--concurrency", "3")
    assert first.exit_code == 4
    assert "stopped at the page cap" in first.stdout
    assert f"carry on at page {CAP + 1}" in first.stderr
    assert len(pages_fetched(endless, 0)) >= CAP  # a few more may have been fetched ahead
    log = len(endless.log)
    second = run("backfill", endless.url, "--all", "--db", db, *FAST)
    assert second.exit_code == 4
    assert f"backfilled (resumed at page {CAP + 1}) {CAP} pages" in second.stdout
    assert pages_fetched(endless, log)[0] == f"/page/{CAP + 1}/"
    ranged = run("backfill", endless.url, "--pages", f"1-{CAP + 5}", "--db", db, *FAST)
    assert ranged.exit_code == 0, ranged.stderr
    assert f"backfilled {CAP + 5} pages" in ranged.stdout


@pytest.mark.parametrize("permalinks", [True, False], ids=["permalinks", "text-only"])
@pytest.mark.parametrize("command", ["backfill", "crawl"])
def test_a_next_link_that_only_changes_its_query_is_a_loop(
    run: Runner, tmp_path: Path, db: Path, command: str, permalinks: bool
) -> None:
    """Every page is the same five posts with a next link ``/?r=N+1``: the cards show the loop."""

    def page(target: str) -> Reply:
        n = int(parse_qs(urlsplit(target).query).get("r", ["1"])[0])
        return Reply(
            body=blog_page(range(5, 0, -1), f"/?r={n + 1}" if n < 100 else None, permalinks=permalinks)
        )

    with SiteServer(tmp_path) as server:
        server.answer(page)
        # --stop-after-known 3: pages of known posts alone would take the crawl to page 4
        extra = ("--stop-after-known", "3") if command == "crawl" else ()
        result = run(command, server.url, "--db", db, *FAST, *extra)
        assert result.exit_code == 0, result.stderr
        assert len(pages_fetched(server, 0)) == 2
    assert "stopped at a pagination loop (page 2 shows the same posts as page 1)" in result.stdout
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM entry").fetchone()[0] == 5
