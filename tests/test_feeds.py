"""Feeds of the archive (`archiver feed`, archiver.feeds.write_feeds) read by real clients.

The archive is the fixture blog crawled from 127.0.0.1. feedparser reads the Atom feeds as a feed
reader would; lxml validates them against RFC 4287's grammar (tests/fixtures/atom.rng) and reads
the RFC 6721 tombstones, which feedparser does not report. feedparser 6.0 does not read JSON
Feed, so :func:`json_items` checks a JSON feed against the rules of JSON Feed 1.1 itself.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest
from lxml import etree
from test_crawl import FAST, edit
from test_scale_queries import full_scans, traced
from test_terminal_safety import EVIL, RAW_CONTROL, page_with_titles

from archiver.feeds import (
    MAX_NAME_BYTES,
    TAG_AUTHORITY,
    atom_feed,
    feed_file_name,
    rendered_feeds,
    write_feeds,
)
from archiver.ledger import Gone
from archiver.store import Store

from conftest import SEEDS, SITE, Runner, posts
from sitehttp import SiteServer

ATOM = "{http://www.w3.org/2005/Atom}"
TOMBSTONE = "{http://purl.org/atompub/tombstones/1.0}deleted-entry"
SCHEMA = etree.RelaxNG(etree.parse(str(Path(__file__).parent / "fixtures" / "atom.rng")))
#: A file time long before any test runs: a feed rewritten by write_feeds gets a new one.
OLD_MTIME = 1_000_000_000


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[SiteServer, Path]]:
    """The fixture blog, from a copy a test may edit, served on 127.0.0.1."""
    copy = tmp_path / "site"
    shutil.copytree(SITE, copy)
    with SiteServer(copy) as server:
        yield server, copy


@pytest.fixture
def crawled(run: Runner, served: tuple[SiteServer, Path], db: Path) -> Path:
    result = run("crawl", served[0].url, "--db", db, *FAST)
    assert result.exit_code == 0, result.stderr
    return db


def site_of(db: Path) -> str:
    """The crawled site's name (the site of the posts with permalinks)."""
    with closing(sqlite3.connect(db)) as conn:
        return str(conn.execute("SELECT site FROM entry WHERE key_kind = 'url' LIMIT 1").fetchone()[0])


def permalink(db: Path, post: dict[str, Any]) -> str:
    """The canonical permalink (entry.key) of a post of the fixture blog, crawled into ``db``."""
    return f"http://{site_of(db)}/{post['url'].strip('/')}"


def feed(run: Runner, db: Path, *args: str) -> str:
    result = run("feed", "--db", db, *args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def mark_gone(db: Path, key: str) -> str:
    """Mark the post with permalink key ``key`` gone, as a run that found it dropped would; when
    it went (the time of the last capture that showed it)."""
    with Store(db) as store:
        entry_id, capture_id = store.conn.execute(
            "SELECT e.id, max(s.capture_id) FROM entry e JOIN entry_version v ON v.entry_id = e.id"
            " JOIN sighting s ON s.version_id = v.id WHERE e.key = ?",
            (key,),
        ).fetchone()
        recorded = store.mark_gone([Gone(entry_id, "dropped", capture_id)])
        assert [(event.entry_id, (event.url or "").rstrip("/")) for event in recorded] == [(entry_id, key)]
        gone_at = store.conn.execute("SELECT gone_at FROM entry WHERE id = ?", (entry_id,)).fetchone()[0]
    return str(gone_at)


def json_items(text: str) -> list[dict[str, Any]]:
    """The items of a JSON feed, after checking what JSON Feed 1.1 requires of it and of them."""
    doc = json.loads(text)
    assert doc["version"] == "https://jsonfeed.org/version/1.1" and isinstance(doc["title"], str)
    for item in doc["items"]:
        assert isinstance(item["id"], str) and item["id"]
        assert isinstance(item.get("content_text"), str) or isinstance(item.get("content_html"), str)
        for key in ("url", "title", "summary"):
            assert isinstance(item.get(key, ""), str)
        assert all(isinstance(tag, str) for tag in item.get("tags", []))
        for key in ("date_published", "date_modified"):  # RFC 3339
            if key in item:
                assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", item[key]), item[key]
    items: list[dict[str, Any]] = doc["items"]
    return items


def by_title(parsed: Any) -> dict[str, Any]:
    return {entry.title: entry for entry in parsed.entries}


def test_atom_and_json_feeds_hold_every_post_with_one_id_each(run: Runner, crawled: Path) -> None:
    atom = feedparser.parse(feed(run, crawled))
    items = json_items(feed(run, crawled, "--format", "json"))
    assert not atom.bozo and atom.version == "atom10"
    expected = posts()
    assert len(atom.entries) == len(items) == len(expected) == 46
    ids = [entry.id for entry in atom.entries]
    assert len(set(ids)) == 46
    assert [item["id"] for item in items] == ids  # same posts, same order, same ids
    entries, json_by_title = by_title(atom), {item["title"]: item for item in items}
    for post in expected:
        entry, item = entries[post["title"]], json_by_title[post["title"]]
        assert entry.link.endswith(post["url"]) and item["url"] == entry.link
        assert entry.id == permalink(crawled, post)
        assert entry.summary == item["summary"] == item["content_text"] == post["excerpt"]
        terms = [post["category"]] if post["category"] else []
        assert [tag.term for tag in entry.get("tags", [])] == terms and item.get("tags", []) == terms
        published = entry.get("published_parsed")
        assert (published[:3] if published else None) == (
            tuple(map(int, post["date"].split("-"))) if post["date"] else None
        )
        assert item.get("date_published") == (f"{post['date']}T00:00:00Z" if post["date"] else None)
        assert datetime.fromisoformat(entry.updated) == datetime.fromisoformat(item["date_modified"])


def test_ids_stay_the_same_across_runs_and_changes(
    run: Runner, served: tuple[SiteServer, Path], crawled: Path
) -> None:
    server, copy = served
    first = feed(run, crawled)
    assert feed(run, crawled) == first  # nothing changed: the same bytes, the clock plays no part
    title = posts()[5]["title"]  # shown once on page 1 (the first five are in its sidebar too)
    edit(copy / "index.html", f">{title}<", ">A title edited since<")
    assert run("crawl", server.url, "--db", crawled, *FAST).exit_code == 0
    before, after = feedparser.parse(first), feedparser.parse(feed(run, crawled))
    assert [e.id for e in after.entries] == [e.id for e in before.entries]
    edited = by_title(after)["A title edited since"]
    assert edited.id == by_title(before)[title].id
    assert edited.updated_parsed >= by_title(before)[title].updated_parsed
    assert after.feed.updated_parsed >= before.feed.updated_parsed


def test_a_gone_post_is_a_tombstone_in_atom_and_marked_in_json(run: Runner, crawled: Path) -> None:
    gone = posts()[5]
    gone_at = mark_gone(crawled, permalink(crawled, gone))
    text = feed(run, crawled)
    parsed = feedparser.parse(text)
    assert len(parsed.entries) == 45 and gone["title"] not in by_title(parsed)
    root = etree.fromstring(text.encode())
    tombstones = root.findall(TOMBSTONE)
    ref = permalink(crawled, gone)
    assert [(t.get("ref"), t.get("when")) for t in tombstones] == [(ref, gone_at)]
    assert SCHEMA.validate(root), SCHEMA.error_log
    items = json_items(feed(run, crawled, "--format", "json"))
    marked = [item for item in items if "_archiver" in item]
    assert [(m["id"], m["title"], m["_archiver"]) for m in marked] == [
        (ref, gone["title"], {"gone": True, "gone_at": gone_at})
    ]
    assert len(items) == 46


def test_a_post_gone_from_far_down_the_listing_still_gets_its_tombstone(run: Runner, crawled: Path) -> None:
    """--limit keeps the newest posts; the posts found gone last come with them, so a reader
    that saw a post long ago still learns that it went."""
    ref = permalink(crawled, posts()[0])
    newest = {entry.id for entry in feedparser.parse(feed(run, crawled, "--limit", "3")).entries}
    assert ref not in newest
    gone_at = mark_gone(crawled, ref)
    root = etree.fromstring(feed(run, crawled, "--limit", "3").encode())
    assert [(t.get("ref"), t.get("when")) for t in root.findall(TOMBSTONE)] == [(ref, gone_at)]
    assert len(root.findall("{http://www.w3.org/2005/Atom}entry")) == 3


def test_atom_validates_against_the_rfc_4287_grammar(run: Runner, crawled: Path) -> None:
    mark_gone(crawled, permalink(crawled, posts()[0]))
    for args in ((), ("--site", site_of(crawled)), ("--limit", "3")):
        root = etree.fromstring(feed(run, crawled, *args).encode())
        assert SCHEMA.validate(root), SCHEMA.error_log
        assert root.findall(f"{ATOM}entry")


def test_the_grammar_rejects_an_entry_without_an_id(run: Runner, crawled: Path) -> None:
    root = etree.fromstring(feed(run, crawled, "--limit", "2").encode())
    assert SCHEMA.validate(root)
    entry = root.find(f"{ATOM}entry")
    entry.remove(entry.find(f"{ATOM}id"))
    assert not SCHEMA.validate(root)
    assert "entry" in str(SCHEMA.error_log)


def test_posts_without_a_permalink_get_tag_ids_made_of_site_and_key_only(run: Runner, tmp_path: Path) -> None:
    """Text captures have no permalinks. Their ids do not depend on the entry's number: an
    archive that held other posts first gives them the same ids."""
    seed = sorted(SEEDS.glob("*.txt"))[0]
    alone, after_others = tmp_path / "alone.db", tmp_path / "others.db"
    assert run("import", seed, "--db", alone, "--site", "notes/2026").exit_code == 0
    assert run("import", sorted(SEEDS.glob("*.txt"))[1], "--db", after_others).exit_code == 0
    assert run("import", seed, "--db", after_others, "--site", "notes/2026").exit_code == 0
    ids = {}
    for db in (alone, after_others):
        atom = feedparser.parse(feed(run, db, "--site", "notes/2026"))
        as_json = json_items(feed(run, db, "--site", "notes/2026", "--format", "json"))
        assert [e.id for e in atom.entries] == [item["id"] for item in as_json]
        ids[db] = [e.id for e in atom.entries]
        assert SCHEMA.validate(etree.fromstring(feed(run, db, "--site", "notes/2026").encode()))
    assert ids[alone] == ids[after_others] and len(ids[alone]) == 12
    assert all(re.fullmatch(rf"tag:{TAG_AUTHORITY}:notes%2F2026/[0-9a-f]{{24}}", i) for i in ids[alone])


def feed_times(directory: Path) -> dict[str, int]:
    return {path.name: path.stat().st_mtime_ns for path in directory.iterdir()}


def test_write_feeds_rewrites_only_the_feeds_that_changed(run: Runner, crawled: Path, tmp_path: Path) -> None:
    assert run("import", sorted(SEEDS.glob("*.txt"))[0], "--db", crawled).exit_code == 0  # site 'local'
    directory = tmp_path / "feeds"
    with Store(crawled) as store:
        written = write_feeds(store, directory)
    site = feed_file_name(site_of(crawled))
    names = sorted(p.name for p in written)
    assert names == sorted([f"{site}.atom", f"{site}.json", "local.atom", "local.json", "all.atom"])
    assert sorted(p.name for p in directory.iterdir()) == names  # no temporary file left
    for path in written:
        os.utime(path, ns=(OLD_MTIME * 10**9, OLD_MTIME * 10**9))
    with Store(crawled) as store:
        assert write_feeds(store, directory) == []
    assert set(feed_times(directory).values()) == {OLD_MTIME * 10**9}
    mark_gone(crawled, permalink(crawled, posts()[3]))
    with Store(crawled) as store:
        again = write_feeds(store, directory)
        assert {p.name: p.read_bytes() for p in directory.iterdir()} == dict(rendered_feeds(store))
    assert sorted(p.name for p in again) == sorted([f"{site}.atom", f"{site}.json", "all.atom"])
    changed = {name for name, mtime in feed_times(directory).items() if mtime != OLD_MTIME * 10**9}
    assert changed == {f"{site}.atom", f"{site}.json", "all.atom"}
    assert len(json_items((directory / "local.json").read_text(encoding="utf-8"))) == 12


@pytest.mark.parametrize(
    "site", ["127.0.0.1:8765", "blog.example/path", "all", "ALL", "", ".", "..", "a\\b", "日記", "x" * 300]
)
def test_feed_file_names_are_plain_and_never_the_all_feed(site: str) -> None:
    name = feed_file_name(site)
    assert re.fullmatch(r"(?:[a-z0-9.~-]|%[0-9A-F]{2})+", name) and not name.startswith(".")
    assert name != "all" and len(name) <= MAX_NAME_BYTES


def test_feed_file_names_differ_for_every_site() -> None:
    sites = ["127.0.0.1:8765", "127.0.0.1%3A8765", "Blog", "blog", "all", "", "x" * 300, "x" * 301]
    assert len({feed_file_name(site) for site in sites}) == len(sites)


def test_a_site_with_odd_characters_gets_its_feeds_written(run: Runner, tmp_path: Path, db: Path) -> None:
    seed = sorted(SEEDS.glob("*.txt"))[0]
    assert run("import", seed, "--db", db, "--site", "Notes:8080/my blog").exit_code == 0
    with Store(db) as store:
        written = write_feeds(store, tmp_path / "feeds")
    assert sorted(p.name for p in written) == [
        "%4Eotes%3A8080%2Fmy%20blog.atom",
        "%4Eotes%3A8080%2Fmy%20blog.json",
        "all.atom",
    ]


def test_an_empty_feed_is_valid_and_dated_from_the_data() -> None:
    root = etree.fromstring(atom_feed(None, []))
    assert SCHEMA.validate(root), SCHEMA.error_log
    assert root.findtext(f"{ATOM}updated") == "1970-01-01T00:00:00+00:00"


def test_feed_options_are_checked(run: Runner, crawled: Path, tmp_path: Path) -> None:
    unknown = run("feed", "--db", crawled, "--site", "nowhere.example")
    assert unknown.exit_code == 2
    assert "'nowhere.example'" in unknown.stderr and "archiver stats" in unknown.stderr
    assert site_of(crawled) in unknown.stderr and "Traceback" not in unknown.stderr
    onto_archive = run("feed", "--db", crawled, "--output", crawled)
    assert onto_archive.exit_code == 2 and "--output" in onto_archive.stderr
    assert run("feed", "--db", crawled, "--limit", "0").exit_code == 2
    missing = run("feed", "--db", tmp_path / "none.db")
    assert missing.exit_code == 1 and "no such archive" in missing.stderr
    target = tmp_path / "out" / "feed.json"
    no_folder = run("feed", "--db", crawled, "--output", target, "--format", "json")
    assert no_folder.exit_code == 1 and str(target) in no_folder.stderr
    target.parent.mkdir()
    assert run("feed", "--db", crawled, "--output", target, "--format", "json").stdout == ""
    assert target.read_text(encoding="utf-8") == feed(run, crawled, "--format", "json")


def test_the_feed_queries_read_through_indexes(crawled: Path) -> None:
    """Every statement the feeds run, one site's and all sites' (tests/test_scale_queries.py)."""
    with Store(crawled) as store:
        statements = traced(store, lambda: list(rendered_feeds(store, limit=5)))
    assert sum("ORDER BY e.first_seen_at DESC" in s for s in statements) == 2
    assert any("WITH RECURSIVE" in s for s in statements)
    with closing(sqlite3.connect(crawled)) as conn:
        assert {s: full_scans(conn, s) for s in statements if full_scans(conn, s)} == {}


def test_control_characters_in_titles_reach_no_terminal_and_json_keeps_them(
    run: Runner, tmp_path: Path, db: Path
) -> None:
    """XML 1.0 cannot hold C0 controls: Atom shows U+FFFD for them, and C1 and DEL as character
    references (which read back as themselves); JSON escapes them all and reads back exactly."""
    page = page_with_titles(tmp_path, [EVIL])
    assert run("import", page, "--db", db, "--base-url", "http://blog.fixture.test/").exit_code == 0
    atom, as_json = feed(run, db), feed(run, db, "--format", "json")
    assert not RAW_CONTROL.search(atom) and not RAW_CONTROL.search(as_json.replace("\n", " "))
    assert SCHEMA.validate(etree.fromstring(atom.encode()))
    # lxml, not feedparser: feedparser reads &#x9B; as HTML does, as windows-1252's '›'
    titles = [title.text for title in etree.fromstring(atom.encode()).iter(f"{ATOM}title")]
    assert re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f]", "\ufffd", EVIL) in titles
    assert EVIL in [item.get("title") for item in json_items(as_json)]
