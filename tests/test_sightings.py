"""Sightings come from the posts a page showed, not from which capture last touched a version.

A page answered 304, or with the same bytes as before, shows again what the capture it repeats
showed: a broken-layout page in between, or another listing URL showing the same posts, must
not make later crawls record "0 cards seen" while the posts are still listed.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from conftest import SITE_PROFILE, Runner
from sitehttp import Reply, SiteServer

FAST = ("--profile", SITE_PROFILE, "--delay", "0", "--timeout", "5", "--max-pages", "1")
MAINTENANCE = b"<html><body><h1>Down for maintenance</h1><p>Back soon.</p></body></html>"


def last_capture(db: Path) -> tuple[int, int | None, str]:
    """(cards seen, HTTP status, time) of the newest capture."""
    with sqlite3.connect(db) as conn:
        row: tuple[int, int | None, str] = conn.execute(
            "SELECT cards, http_status, captured_at FROM capture ORDER BY id DESC"
        ).fetchone()
    return row


def seen_at(db: Path, time: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(
            conn.execute("SELECT count(*) FROM entry_version WHERE last_seen_at = ?", (time,)).fetchone()[0]
        )


@pytest.mark.parametrize("validators", [True, False], ids=["304", "same-bytes"])
def test_sightings_go_on_after_a_maintenance_page(
    run: Runner, site: SiteServer, db: Path, validators: bool
) -> None:
    site.validators = validators
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    listed = last_capture(db)[0]
    assert listed > 0
    site.script("/", [Reply(200, MAINTENANCE)])
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 3  # a broken layout, said loudly
    for _ in range(2):  # the page is back, byte for byte as before
        assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
        cards, status, time = last_capture(db)
        assert status == (304 if validators else 200)
        assert cards == listed
        assert seen_at(db, time) == listed


def test_two_listing_urls_showing_the_same_posts_both_count_them(
    run: Runner, site: SiteServer, site_copy: Path, db: Path
) -> None:
    (site_copy / "category").mkdir()
    shutil.copy(site_copy / "index.html", site_copy / "category" / "index.html")
    home, category = site.url, site.url + "category/"
    for url in (home, category):
        assert run("crawl", url, "--db", db, *FAST).exit_code == 0
    listed = last_capture(db)[0]
    for url in (home, category, home, category):
        assert run("crawl", url, "--db", db, *FAST).exit_code == 0
        cards, status, _ = last_capture(db)
        assert (cards, status) == (listed, 304)
    with sqlite3.connect(db) as conn:
        counts = {row[0] for row in conn.execute("SELECT seen_count FROM entry_version")}
    assert counts == {6}  # two first crawls and four 304s, each showing every post


def _history(db: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT entry_id, version, title, url, excerpt, first_seen_at, last_seen_at, seen_count"
            " FROM version_history ORDER BY entry_id, version"
        ).fetchall()


@pytest.mark.parametrize("again", [(), ("--profile", SITE_PROFILE)], ids=["as-archived", "with-profile"])
def test_reparse_works_after_a_broken_page_was_kept(
    run: Runner, site: SiteServer, db: Path, again: tuple[str | Path, ...]
) -> None:
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    site.script("/", [Reply(200, MAINTENANCE)])
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 3
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    before = _history(db)
    result = run("reparse", "--db", db, *again)
    assert result.exit_code == 0, result.stderr
    assert _history(db) == before
    assert last_capture(db)[0] > 0
