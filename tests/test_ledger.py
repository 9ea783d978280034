"""The ledger: posts that appeared, changed, went and came back, on the fixture blog served on
127.0.0.1, and the rules that keep a post from being called gone by a page that was not seen."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest
from lxml import etree

from archiver.errors import InputError
from archiver.ledger import Absences, dropped, gone_after_run, since_time, verdict

from conftest import SITE_PROFILE, Runner
from sitehttp import Reply, SiteServer, blog_page

FAST = ("--profile", SITE_PROFILE, "--delay", "0", "--timeout", "2", "--retries", "0")
GONE = "/posts/tensorflow-feature-columns/"  # the third card of page 1, between two others
_CARD = re.compile(r'\s*<article class="post-card">.*?</article>', re.DOTALL)


def cards(page: Path) -> list[str]:
    return _CARD.findall(page.read_text(encoding="utf-8"))


def without(page: Path, href: str) -> str:
    """Take the card linking to ``href`` off ``page``; returns it, to put back later."""
    text = page.read_text(encoding="utf-8")
    [card] = [card for card in cards(page) if f'href="{href}"' in card]
    page.write_text(text.replace(card, "", 1), encoding="utf-8")
    return card


def put_back(page: Path, card: str, before_href: str) -> None:
    text = page.read_text(encoding="utf-8")
    [after] = [c for c in cards(page) if f'href="{before_href}"' in c]
    page.write_text(text.replace(after, card + after, 1), encoding="utf-8")


def href_of(card: str) -> str:
    return card.split('href="')[1].split('"', maxsplit=1)[0]


def crawled_then_dropped_under_a_new_post(run: Runner, site: SiteServer, page: Path, db: Path) -> None:
    """A crawl, then page 1 without GONE and with a new post on top: the next crawl goes on to
    page 2, so how it ends decides whether GONE may be called gone."""
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    without(page, GONE)
    publish_new_post(page)


def publish_new_post(page: Path) -> None:
    """A new post on top of page 1: the crawl no longer stops there, it goes on to page 2."""
    first = cards(page)[0]
    new = re.sub(r'href="/posts/[^"]+/"', 'href="/posts/a-new-post/"', first)
    new = re.sub(r'(<h2 class="post-title"><a [^>]+>)[^<]+', r"\1A new post", new)
    text = page.read_text(encoding="utf-8")
    page.write_text(text.replace(first, new + first, 1), encoding="utf-8")


def events(run: Runner, db: Path, *args: str) -> list[dict[str, Any]]:
    result = run("changes", "--since", "1h", "--json", "--db", db, *args)
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def gone_at(db: Path, url_path: str) -> str | None:
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT gone_at FROM current_entries WHERE url LIKE ?", (f"%{url_path}",)
        ).fetchone()
    return row[0] if row else None


# -- the rules, as pure functions ---------------------------------------------------------------


def test_a_post_between_two_neighbours_that_now_meet_is_dropped() -> None:
    assert dropped([1, 2, 3, 4], [1, 3, 4]) == [2]
    assert dropped([1, 2, 3, 4, 5], [0, 1, 4, 5]) == [2, 3]  # a run of posts between the same two
    assert dropped([1, 2, 3], [0, 1, 2]) == []  # paging: pushed down, neighbours kept
    assert dropped([1, 2, 3], [2, 3]) == []  # the first post has no neighbour above
    assert dropped([1, 2, 3], [1, 2]) == []  # nor the last one below
    assert dropped([1, 2, 3], [1, 9, 3]) == []  # replaced by another post: its neighbours do not meet
    assert dropped([1, 2, 3], [3, 1]) == []  # reordered: the neighbours are not next to each other


def test_a_dropped_post_seen_on_another_page_of_the_run_is_not_gone() -> None:
    absences = Absences()
    absences.page(10, "https://blog.example/", [1, 2, 3], [1, 3])
    absences.page(11, "https://blog.example/page/2/", [4, 5], [2, 4, 5])
    assert [g.entry_id for g in gone_after_run(absences, shown={1, 3, 2, 4, 5})] == []
    assert [(g.entry_id, g.how, g.capture_id) for g in gone_after_run(absences, shown={1, 3})] == [
        (2, "dropped", 10)
    ]


def test_a_permalinks_answer_says_deleted_or_unlisted() -> None:
    assert [verdict(s) for s in (404, 410, 200, 500, 403, None)] == [
        "deleted",
        "deleted",
        "unlisted",
        None,
        None,
        None,
    ]


def test_since_takes_a_duration_or_a_date() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert since_time("1h", now) == "2026-12-01T11:00:00Z"
    assert since_time("2w", now) == "2026-11-17T12:00:00Z"
    assert since_time("2026-11-01", now) == "2026-11-01T00:00:00Z"
    assert since_time("2026-11-01T08:00:00+01:00", now) == "2026-11-01T07:00:00Z"
    with pytest.raises(InputError, match="'yesterday': not a duration or a date"):
        since_time("yesterday", now)


# -- on the fixture blog ------------------------------------------------------------------------


def test_a_post_removed_from_page_1_is_gone_after_the_next_crawl(
    run: Runner, site: SiteServer, site_copy: Path, db: Path
) -> None:
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    assert {e["kind"] for e in events(run, db)} == {"new"} and len(events(run, db)) == 46
    without(site_copy / "index.html", GONE)
    result = run("crawl", site.url, "--db", db, *FAST)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.rstrip().endswith(", 1 gone")
    [gone] = events(run, db, "--kind", "gone")
    assert gone["url"] == site.url.rstrip("/") + GONE
    assert (gone["how"], gone["verified"]) == ("dropped", None)
    assert gone_at(db, GONE) == gone["at"]
    # a third crawl of the same page finds nothing new gone
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    assert len(events(run, db, "--kind", "gone")) == 1


@pytest.mark.parametrize("answer", [404, 410, 200])
def test_verify_gone_asks_the_permalink_once(
    run: Runner, site: SiteServer, site_copy: Path, db: Path, answer: int
) -> None:
    if answer != 404:  # the fixture blog has no post pages: 404 unless one is served
        site.serve(GONE, Reply(answer, b"<html><body><h1>A post</h1></body></html>"))
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    without(site_copy / "index.html", GONE)
    assert run("crawl", site.url, "--db", db, *FAST, "--verify-gone").exit_code == 0
    [gone] = events(run, db, "--kind", "gone")
    assert gone["verified"] == ("unlisted" if answer == 200 else "deleted")
    assert site.paths().count(GONE) == 1


def test_a_post_put_back_has_reappeared(run: Runner, site: SiteServer, site_copy: Path, db: Path) -> None:
    page = site_copy / "index.html"
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    card = without(page, GONE)
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    put_back(page, card, href_of(cards(page)[2]))
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    assert [e["kind"] for e in events(run, db, "--kind", "gone", "--kind", "reappeared")] == [
        "reappeared",
        "gone",
    ]
    assert gone_at(db, GONE) is None


def test_a_changed_title_is_listed_with_its_old_and_new_value(
    run: Runner, site: SiteServer, site_copy: Path, db: Path
) -> None:
    page = site_copy / "index.html"
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    text = page.read_text(encoding="utf-8")
    page.write_text(
        text.replace("TensorFlow Feature Column 特征工程详解", "Feature Columns 详解", 1), encoding="utf-8"
    )
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    [changed] = events(run, db, "--kind", "changed")
    assert changed["fields"] == {"title": ["TensorFlow Feature Column 特征工程详解", "Feature Columns 详解"]}
    assert changed["title"] == "Feature Columns 详解" and changed["url"].endswith(GONE)
    shown = run("changes", "--since", "1h", "--kind", "changed", "--db", db)
    assert "title: 'TensorFlow Feature Column 特征工程详解' -> 'Feature Columns 详解'" in shown.stdout


def test_a_page_that_breaks_the_layout_marks_nothing_gone(
    run: Runner, site: SiteServer, site_copy: Path, db: Path
) -> None:
    page = site_copy / "index.html"
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    for card in cards(page)[2:]:
        without(page, href_of(card))
    result = run("crawl", site.url, "--db", db, *FAST)
    assert result.exit_code == 3, result.stderr
    assert events(run, db, "--kind", "gone") == []


def test_a_failed_page_later_in_the_run_marks_nothing_gone(
    run: Runner, site: SiteServer, site_copy: Path, db: Path
) -> None:
    crawled_then_dropped_under_a_new_post(run, site, site_copy / "index.html", db)
    site.script("/page/2/", [Reply(503)])
    result = run("crawl", site.url, "--db", db, *FAST)
    assert result.exit_code == 1 and "503" in result.stderr
    assert [e["kind"] for e in events(run, db) if e["kind"] != "new"] == []
    assert gone_at(db, GONE) is None


def test_a_crawl_stopped_by_max_pages_marks_nothing_gone(
    run: Runner, site: SiteServer, site_copy: Path, db: Path
) -> None:
    crawled_then_dropped_under_a_new_post(run, site, site_copy / "index.html", db)
    result = run("crawl", site.url, "--db", db, *FAST, "--max-pages", "1")
    assert result.exit_code == 0, result.stderr
    assert "stopped at the page limit" in result.stdout
    assert events(run, db, "--kind", "gone") == []
    # the next full crawl finds the page as it is now: nothing between two neighbours that
    # meet any more (the capture it compares with already lacked the post)
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0


def test_a_post_missing_from_a_complete_backfill_is_gone(
    run: Runner, site: SiteServer, site_copy: Path, db: Path
) -> None:
    last = site_copy / "page" / "3" / "index.html"
    assert run("backfill", site.url, "--all", "--db", db, *FAST).exit_code == 0
    first_of_last = href_of(cards(last)[0])
    without(last, first_of_last)  # the first card of its page: no neighbour above it
    assert run("backfill", site.url, "--pages", "1-3", "--db", db, *FAST).exit_code == 0
    assert events(run, db, "--kind", "gone") == []  # a range is not the whole listing
    result = run("backfill", site.url, "--all", "--db", db, *FAST)
    assert result.exit_code == 0, result.stderr
    [gone] = events(run, db, "--kind", "gone")
    assert gone["url"].endswith(first_of_last) and gone["how"] == "missing"


def test_a_post_with_no_permalink_follows_the_same_rules(run: Runner, tmp_path: Path, db: Path) -> None:
    root = tmp_path / "blog"
    (root / "page" / "2").mkdir(parents=True)

    def write(first_page: list[int]) -> None:
        (root / "index.html").write_bytes(blog_page(first_page, "/page/2/", permalinks=False))
        (root / "page" / "2" / "index.html").write_bytes(blog_page([4, 3, 2, 1], None, permalinks=False))

    write([9, 8, 7, 6, 5])
    with SiteServer(root) as server:
        assert run("crawl", server.url, "--db", db, *FAST).exit_code == 0
        write([9, 8, 6, 5])
        assert run("crawl", server.url, "--db", db, *FAST).exit_code == 0
        [gone] = events(run, db, "--kind", "gone")
        assert gone["url"] is None  # the profile reads the title from the link: no title either
        with sqlite3.connect(db) as conn:
            excerpt = conn.execute("SELECT excerpt FROM entry WHERE id = ?", (gone["entry_id"],)).fetchone()[
                0
            ]
        assert excerpt.startswith("#7 ")
        write([9, 8, 7, 6, 5])
        assert run("crawl", server.url, "--db", db, *FAST).exit_code == 0
    assert [e["kind"] for e in events(run, db) if e["kind"] != "new"] == ["reappeared", "gone"]


def test_changes_says_what_is_wrong_with_since(run: Runner, db: Path) -> None:
    assert run("crawl", "--help").exit_code == 0
    db.touch()
    result = run("changes", "--since", "last week", "--db", db)
    assert result.exit_code == 2 and "--since 'last week': not a duration or a date" in result.stderr


def test_reparse_keeps_what_was_found_gone(run: Runner, site: SiteServer, site_copy: Path, db: Path) -> None:
    """No capture shows a removal: reparse rebuilds 'new' and 'changed' from the captures and
    replays each 'gone' at the capture that showed the post missing."""
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    without(site_copy / "index.html", GONE)
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    before = events(run, db)
    assert run("reparse", "--db", db).exit_code == 0
    after = events(run, db)
    assert [(e["kind"], e["at"], e["url"], e["how"] if e["kind"] == "gone" else None) for e in after] == [
        (e["kind"], e["at"], e["url"], e["how"] if e["kind"] == "gone" else None) for e in before
    ]
    assert gone_at(db, GONE) == next(e["at"] for e in before if e["kind"] == "gone")


def test_feeds_dir_is_rewritten_only_when_a_run_changed_something(
    run: Runner, site: SiteServer, site_copy: Path, db: Path, tmp_path: Path
) -> None:
    feeds = tmp_path / "feeds"
    assert run("crawl", site.url, "--db", db, *FAST, "--feeds", feeds).exit_code == 0
    name = f"127.0.0.1%3A{site.port}"
    written = sorted(path.name for path in feeds.iterdir())
    assert written == sorted([f"{name}.atom", f"{name}.json", "all.atom"])
    for path in feeds.iterdir():
        os.utime(path, (1_000_000, 1_000_000))  # a rewrite would move the time to now
    assert run("crawl", site.url, "--db", db, *FAST, "--feeds", feeds).exit_code == 0
    assert {path.stat().st_mtime for path in feeds.iterdir()} == {1_000_000}
    without(site_copy / "index.html", GONE)
    assert run("crawl", site.url, "--db", db, *FAST, "--feeds", feeds).exit_code == 0
    assert all(path.stat().st_mtime > 1_000_000 for path in feeds.iterdir())
    tombstones = (
        etree.parse(str(feeds / f"{name}.atom"))
        .getroot()
        .findall("{http://purl.org/atompub/tombstones/1.0}deleted-entry")
    )
    # the id is the post's canonical permalink (the archive's key for it), as in every feed
    assert [t.get("ref") for t in tombstones] == [site.url.rstrip("/") + GONE.rstrip("/")]


def test_run_writes_the_feeds_of_every_watched_blog(
    run: Runner, site: SiteServer, db: Path, tmp_path: Path
) -> None:
    feeds = tmp_path / "feeds"
    assert run("add", site.url, "--db", db).exit_code == 0
    result = run("run", "--db", db, "--delay", "0", "--retries", "0", "--feeds", feeds)
    assert result.exit_code == 0, result.stderr
    parsed = feedparser.parse((feeds / "all.atom").read_bytes())
    assert len(parsed.entries) == 46 and not parsed.bozo


def test_saved_copies_imported_late_show_when_a_post_left(run: Runner, tmp_path: Path, db: Path) -> None:
    """Copies of page 1 taken over time (a web archive's, or one's own) tell removals too: a post
    the copies show dropped from between its neighbours is gone at the time of that copy, unless a
    copy taken then or later shows it again."""
    copies = {
        "2024-01-01T00:00:00Z": [9, 8, 7, 6, 5],
        "2024-02-01T00:00:00Z": [10, 9, 8, 6, 5],  # 7 left, 10 is new: pushes nothing away
        "2024-03-01T00:00:00Z": [11, 10, 9, 8, 6],
        "2024-04-01T00:00:00Z": [12, 11, 9, 8, 6],  # 10 left for a while...
        "2024-05-01T00:00:00Z": [12, 11, 10, 9, 8],  # ...and came back
    }
    for number, (at, shown) in enumerate(sorted(copies.items())):
        page = tmp_path / f"copy{number}.html"
        page.write_bytes(blog_page(shown, None))
        result = run(
            "import",
            page,
            "--db",
            db,
            "--base-url",
            "https://blog.example/",
            "--captured-at",
            at,
            "--profile",
            SITE_PROFILE,
        )
        assert result.exit_code == 0, result.stderr
    found = events(run, db, "--since", "2000-01-01", "--kind", "gone", "--kind", "reappeared")
    assert [(e["kind"], e["url"].rsplit("/", 2)[1], e["at"]) for e in found] == [
        ("reappeared", "post-10", "2024-05-01T00:00:00Z"),
        ("gone", "post-10", "2024-04-01T00:00:00Z"),
        ("gone", "post-7", "2024-02-01T00:00:00Z"),
    ]
    assert gone_at(db, "/posts/post-7/") == "2024-02-01T00:00:00Z" and gone_at(db, "/posts/post-10/") is None


def test_a_post_that_came_back_is_updated_in_the_feeds_when_it_came_back(
    run: Runner, site: SiteServer, site_copy: Path, db: Path
) -> None:
    page = site_copy / "index.html"
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    card = without(page, GONE)
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    put_back(page, card, href_of(cards(page)[2]))
    time.sleep(1.1)  # times are kept to the second: the return must be later than the first sighting
    assert run("crawl", site.url, "--db", db, *FAST).exit_code == 0
    [back] = events(run, db, "--kind", "reappeared")
    result = run("feed", "--format", "json", "--db", db)
    assert result.exit_code == 0, result.stderr
    [item] = [i for i in json.loads(result.stdout)["items"] if i.get("url", "").endswith(GONE)]
    assert "_archiver" not in item
    assert item["date_modified"].replace("+00:00", "Z") == back["at"]
