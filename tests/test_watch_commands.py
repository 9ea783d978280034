"""`archiver add`, `sites` and `remove`: the watch list kept in the archive."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

from archiver.store import CheckRecord, Store

from conftest import SITE, SITE_PROFILE, SITE_URL, Runner

JSON_KEYS = [
    "site",
    "start_url",
    "last_check",
    "last_outcome",
    "last_success",
    "last_error",
    "failures",
    "next_check",
    "entries",
    "new_7d",
]


def _sites(run: Runner, db: Path) -> list[dict[str, object]]:
    result = run("sites", "--json", "--db", db)
    assert result.exit_code == 0, result.stderr
    listed: list[dict[str, object]] = json.loads(result.stdout)
    return listed


def test_add_names_sites_by_host_and_path_and_fetches_nothing(run: Runner, db: Path) -> None:
    result = run("add", "https://blog.example/", "http://127.0.0.1:9/blogs/ada/", "--every", "6h", "--db", db)
    assert result.exit_code == 0, result.stderr
    assert "2 sites added, 0 updated" in result.stdout
    listed = _sites(run, db)
    assert [list(site) for site in listed] == [JSON_KEYS, JSON_KEYS]
    assert [(s["site"], s["start_url"], s["last_check"]) for s in listed] == [
        ("127.0.0.1:9/blogs/ada", "http://127.0.0.1:9/blogs/ada/", None),
        ("blog.example", "https://blog.example/", None),
    ]
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("SELECT count(*) FROM capture").fetchone()[0] == 0
        assert conn.execute("SELECT DISTINCT every_seconds FROM site").fetchall() == [(21600,)]


def test_add_reads_a_url_list_and_an_opml_file(run: Runner, db: Path, tmp_path: Path) -> None:
    listing = tmp_path / "blogs.txt"
    listing.write_text("# mine\nhttps://a.example/\n\nhttps://b.example/  # work\n", encoding="utf-8")
    opml = tmp_path / "feeds.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><body><outline text="c" xmlUrl="https://c.example/feed"'
        ' htmlUrl="https://c.example/"/><outline text="a" htmlUrl="https://a.example/"/></body></opml>',
        encoding="utf-8",
    )
    assert run("add", "--from", listing, "--db", db).exit_code == 0
    again = run("add", "--from", opml, "--db", db)
    assert again.exit_code == 0 and "1 sites added, 1 updated" in again.stdout
    assert [s["site"] for s in _sites(run, db)] == ["a.example", "b.example", "c.example"]


def test_add_refuses_what_is_not_a_blog_url_naming_it_and_keeps_nothing(
    run: Runner, db: Path, tmp_path: Path
) -> None:
    listing = tmp_path / "blogs.txt"
    listing.write_text("https://a.example/\nmailto:me@example.com\n", encoding="utf-8")
    bad_line = run("add", "--from", listing, "--db", db)
    assert bad_line.exit_code == 1 and "blogs.txt:2: 'mailto:me@example.com'" in bad_line.stderr
    bad_url = run("add", "https://ok.example/", "ftp://files.example/", "--db", db)
    assert bad_url.exit_code == 1 and "'ftp://files.example/'" in bad_url.stderr
    assert run("add", "https://ok.example/", "--every", "1y", "--db", db).exit_code == 2
    assert run("add", "--db", db).exit_code == 2
    assert run("add", "https://a.example/", "https://b.example/", "--name", "x", "--db", db).exit_code == 2
    assert not db.exists() or _sites(run, db) == []


def test_adding_a_site_again_updates_it_and_takes_it_back_after_remove(run: Runner, db: Path) -> None:
    assert run("add", "https://blog.example/", "--db", db).exit_code == 0
    removed = run("remove", "blog.example", "--db", db)
    assert removed.exit_code == 0 and "stopped checking blog.example" in removed.stdout
    assert _sites(run, db) == []
    unknown = run("remove", "blog.example", "--db", db)
    assert unknown.exit_code == 1 and "no watched site is named 'blog.example'" in unknown.stderr
    back = run("add", "https://blog.example/", "--every", "1d", "--profile", SITE_PROFILE, "--db", db)
    assert back.exit_code == 0 and "0 sites added, 1 updated" in back.stdout
    with closing(sqlite3.connect(db)) as conn:
        row = conn.execute(
            "SELECT enabled, every_seconds, p.name FROM site JOIN profile p ON p.sha256 = profile_sha256"
        )
        assert row.fetchall() == [(1, 86400, str(SITE_PROFILE))]


def test_a_name_given_twice_for_two_urls_is_refused(run: Runner, db: Path) -> None:
    assert run("add", "https://a.example/", "--name", "mine", "--db", db).exit_code == 0
    taken = run("add", "https://b.example/", "--name", "mine", "--db", db)
    assert taken.exit_code == 1 and "'mine' is taken by https://a.example/" in taken.stderr


def test_sites_counts_the_posts_of_a_host_or_of_a_blog_under_a_path(run: Runner, db: Path) -> None:
    assert run("import", SITE, "--base-url", SITE_URL, "--profile", SITE_PROFILE, "--db", db).exit_code == 0
    for url in (SITE_URL, f"{SITE_URL}posts/", f"{SITE_URL}elsewhere/"):
        assert run("add", url, "--db", db).exit_code == 0
    counts = {s["site"]: (s["entries"], s["new_7d"]) for s in _sites(run, db)}
    assert counts == {
        "blog.fixture.test": (46, 46),
        "blog.fixture.test/posts": (46, 46),
        "blog.fixture.test/elsewhere": (0, 0),
    }


def test_sites_shows_each_site_s_health(run: Runner, db: Path) -> None:
    assert run("add", "https://blog.example/", "https://down.example/", "--db", db).exit_code == 0
    with Store(db) as store:
        for outcome, error in (("failed", "503 Service Unavailable"), ("failed", "connection refused")):
            record = CheckRecord(
                outcome, "2026-12-01T10:00:00Z", "2026-12-01T10:00:05Z", requests=1, error=error
            )
            store.record_check("down.example", record, "2026-12-01T12:00:00Z")
        done = CheckRecord(
            "updated", "2026-12-01T10:00:00Z", "2026-12-01T10:00:03Z", pages=2, requests=3, new_entries=5
        )
        store.record_check("blog.example", done, "2026-12-01T11:00:00Z")
    health = {s["site"]: s for s in _sites(run, db)}
    assert health["down.example"]["failures"] == 2
    assert health["down.example"]["last_error"] == "connection refused"
    assert health["down.example"]["last_success"] is None
    assert health["blog.example"]["last_outcome"] == "updated"
    assert health["blog.example"]["last_success"] == "2026-12-01T10:00:03Z"
    assert health["blog.example"]["next_check"] == "2026-12-01T11:00:00Z"
    table = run("sites", "--db", db)
    assert table.exit_code == 0
    line = next(line for line in table.stdout.splitlines() if line.startswith("down.example"))
    assert "connection refused" in line and " 2 " in line


def test_run_and_sites_without_watched_blogs_say_how_to_add_them(run: Runner, db: Path) -> None:
    assert run("import", SITE, "--base-url", SITE_URL, "--db", db).exit_code == 0
    for command in ("run", "sites"):
        result = run(command, "--db", db)
        assert (
            result.exit_code == 0
            and "no sites are watched; add some with `archiver add URL`" in result.stdout
        )
