"""Versions from HTML captures: change, revert, enrichment, history.

The rules are in the README, section "How posts are recognised and versioned".
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from conftest import SITE, SITE_PROFILE, SITE_URL, Runner, posts

PAGE1_POST = next(p for p in posts() if p["page"] == 1 and p["date"] is None)
PERMALINK = SITE_URL.rstrip("/") + str(PAGE1_POST["url"])


def _page(tmp_path: Path, name: str, replace: tuple[str, str] | None = None) -> Path:
    target = tmp_path / name
    html = (SITE / "index.html").read_text(encoding="utf-8")
    if replace:
        assert replace[0] in html
        html = html.replace(replace[0], replace[1], 1)
    target.write_text(html, encoding="utf-8")
    return target


def _import(run: Runner, db: Path, page: Path, at: str) -> str:
    result = run(
        "import", page, "--db", db, "--profile", SITE_PROFILE, "--base-url", SITE_URL, "--captured-at", at
    )
    assert result.exit_code == 0, result.stderr
    return result.stdout


def _versions(db: Path) -> list[tuple[int, str | None, str | None]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT version, changed, date FROM version_history WHERE url = ? ORDER BY version",
            (PERMALINK,),
        ).fetchall()


def test_change_and_revert_make_three_versions(run: Runner, db: Path, tmp_path: Path) -> None:
    excerpt_start = str(PAGE1_POST["excerpt"])[:40]
    original = _page(tmp_path, "a.html")
    changed = _page(tmp_path, "b.html", (excerpt_start, "【更新】" + excerpt_start))
    _import(run, db, original, "2026-01-11T00:00:00Z")
    out = _import(run, db, changed, "2026-01-12T00:00:00Z")
    assert "1 new versions" in out
    reverted = _page(tmp_path, "c.html")  # a new capture whose content is the first one's
    out = _import(run, db, reverted, "2026-01-13T00:00:00Z")
    assert "1 new versions" in out
    assert [(v, c) for v, c, _ in _versions(db)] == [(1, None), (2, '["excerpt"]'), (3, '["excerpt"]')]

    history = run("history", PERMALINK, "--db", db)
    assert history.exit_code == 0
    assert "version 1: first version" in history.stdout
    assert "version 2: excerpt" in history.stdout
    assert "version 3 (current): excerpt" in history.stdout
    as_json = [
        json.loads(line) for line in run("history", PERMALINK, "--db", db, "--json").stdout.splitlines()
    ]
    assert [row["first_seen_at"] for row in as_json] == [
        "2026-01-11T00:00:00Z",
        "2026-01-12T00:00:00Z",
        "2026-01-13T00:00:00Z",
    ]
    assert as_json[0]["excerpt"] == as_json[2]["excerpt"] != as_json[1]["excerpt"]


def test_a_field_seen_for_the_first_time_fills_in_without_a_version(
    run: Runner, db: Path, tmp_path: Path
) -> None:
    title = str(PAGE1_POST["title"])
    marker = f'>{title}</a></h2>\n          <div class="post-meta">'
    html = (SITE / "index.html").read_text(encoding="utf-8")
    assert html.count(marker) == 1, "fixture layout changed"
    dated = _page(tmp_path, "dated.html", (marker, marker + '<time datetime="2025-12-30">2025-12-30</time>'))
    _import(run, db, _page(tmp_path, "plain.html"), "2026-01-11T00:00:00Z")
    out = _import(run, db, dated, "2026-01-12T00:00:00Z")
    assert "0 new versions, 1 enriched" in out
    assert _versions(db) == [(1, None, "2025-12-30")]


def test_history_and_search_reject_unknown_entries_clearly(run: Runner, db: Path) -> None:
    run("import", SITE, "--db", db, "--profile", SITE_PROFILE, "--base-url", SITE_URL)
    result = run("history", "https://nowhere.example/post/", "--db", db)
    assert result.exit_code == 1
    assert "no entry 'https://nowhere.example/post/'" in result.stderr


def test_directory_of_pages_resolves_each_page_against_its_own_url(run: Runner, db: Path) -> None:
    result = run("import", SITE, "--db", db, "--profile", SITE_PROFILE, "--base-url", SITE_URL)
    assert result.exit_code == 0, result.stderr
    assert "3 captures" in result.stdout and "46 new entries" in result.stdout
    with sqlite3.connect(db) as conn:
        urls = {row[0] for row in conn.execute("SELECT url FROM current_entries")}
        sources = [row[0] for row in conn.execute("SELECT source FROM capture ORDER BY id")]
    assert urls == {SITE_URL.rstrip("/") + str(p["url"]) for p in posts()}
    assert [Path(s).relative_to(SITE).as_posix() for s in sources] == [
        "index.html",
        "page/2/index.html",
        "page/3/index.html",
    ]


def test_same_permalink_spelled_differently_is_one_entry(run: Runner, db: Path, tmp_path: Path) -> None:
    href = f'href="{PAGE1_POST["url"]}"'
    tracked = _page(tmp_path, "utm.html", (href, href[:-1] + '?utm_source=rss#comments"'))
    _import(run, db, _page(tmp_path, "plain.html"), "2026-01-11T00:00:00Z")
    out = _import(run, db, tracked, "2026-01-12T00:00:00Z")
    assert "0 new entries, 0 new versions" in out


def test_export_writes_current_entries(run: Runner, db: Path, tmp_path: Path) -> None:
    run("import", SITE, "--db", db, "--profile", SITE_PROFILE, "--base-url", SITE_URL)
    target = tmp_path / "entries.csv"
    assert run("export", "--format", "csv", "--output", target, "--db", db).exit_code == 0
    lines = target.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 47 and lines[0].startswith("entry_id,site,key_kind,title,url")
    jsonl = run("export", "--format", "jsonl", "--db", db).stdout.splitlines()
    assert {json.loads(line)["title"] for line in jsonl} == {p["title"] for p in posts()}


def test_copied_site_is_a_new_capture_not_new_entries(run: Runner, db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "site"
    shutil.copytree(SITE, copy)
    run("import", SITE, "--db", db, "--profile", SITE_PROFILE, "--base-url", SITE_URL)
    result = run("import", copy, "--db", db, "--profile", SITE_PROFILE, "--base-url", SITE_URL)
    assert "0 new entries, 0 new versions" in result.stdout


def test_importing_an_older_capture_again_is_not_a_revert(run: Runner, db: Path, tmp_path: Path) -> None:
    excerpt_start = str(PAGE1_POST["excerpt"])[:40]
    original = _page(tmp_path, "a.html")
    changed = _page(tmp_path, "b.html", (excerpt_start, "【更新】" + excerpt_start))
    _import(run, db, original, "2026-01-11T00:00:00Z")
    _import(run, db, changed, "2026-01-12T00:00:00Z")
    again = run("import", original, "--db", db, "--profile", SITE_PROFILE, "--base-url", SITE_URL)
    assert "0 new entries, 0 new versions" in again.stdout
    assert [(v, c) for v, c, _ in _versions(db)] == [(1, None), (2, '["excerpt"]')]
    with sqlite3.connect(db) as conn:
        seen = conn.execute(
            "SELECT version, seen_count, last_seen_at FROM version_history WHERE url = ?", (PERMALINK,)
        ).fetchall()
    # the same file again is the same capture, taken when it was first taken: one more sighting
    # of what it showed then, never a state seen after the newer version
    assert seen == [(1, 2, "2026-01-11T00:00:00Z"), (2, 1, "2026-01-12T00:00:00Z")]
    with sqlite3.connect(db) as conn:
        times = [row[0] for row in conn.execute("SELECT captured_at FROM capture ORDER BY id")]
    assert times == ["2026-01-11T00:00:00Z", "2026-01-12T00:00:00Z", "2026-01-11T00:00:00Z"]


def test_an_old_saved_copy_imported_late_does_not_become_current(
    run: Runner, db: Path, tmp_path: Path
) -> None:
    excerpt_start = str(PAGE1_POST["excerpt"])[:40]
    old = _page(tmp_path, "old.html")
    new = _page(tmp_path, "new.html", (excerpt_start, "【更新】" + excerpt_start))
    _import(run, db, old, "2026-01-11T00:00:00Z")
    _import(run, db, new, "2026-02-11T00:00:00Z")
    older_copy = _page(tmp_path, "found-later.html")  # same content as old.html, taken in between
    out = _import(run, db, older_copy, "2026-01-20T00:00:00Z")
    assert "0 new versions" in out
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT version, is_current, seen_count, last_seen_at FROM version_history WHERE url = ?",
            (PERMALINK,),
        ).fetchall()
    assert rows == [(1, 0, 2, "2026-01-20T00:00:00Z"), (2, 1, 1, "2026-02-11T00:00:00Z")]


def test_the_same_file_given_a_later_time_is_a_capture_of_that_time(
    run: Runner, db: Path, tmp_path: Path
) -> None:
    """Found by fuzzing: imports out of time order, one file imported twice with two times."""
    excerpt_start = str(PAGE1_POST["excerpt"])[:40]
    a = _page(tmp_path, "a.html")
    b = _page(tmp_path, "b.html", (excerpt_start, "【更新】" + excerpt_start))
    copies = {name: _page(tmp_path, name) for name in ("a2.html", "a3.html")}
    b2 = _page(tmp_path, "b2.html", (excerpt_start, "【更新】" + excerpt_start))
    for page, at in (
        (b, "2026-01-05T00:02:00Z"),
        (copies["a2.html"], "2026-01-01T00:04:00Z"),
        (a, "2026-01-01T00:01:00Z"),
        (copies["a3.html"], "2026-01-01T00:06:00Z"),
        (a, "2026-01-06T00:00:00Z"),  # the same file again, said to show the page on the 6th
        (b2, "2026-01-04T00:05:00Z"),
    ):
        _import(run, db, page, at)
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT version, is_current, first_seen_at, last_seen_at FROM version_history WHERE url = ?",
            (PERMALINK,),
        ).fetchall()
    assert rows == [
        (1, 0, "2026-01-01T00:01:00Z", "2026-01-01T00:06:00Z"),
        (2, 0, "2026-01-04T00:05:00Z", "2026-01-05T00:02:00Z"),
        (3, 1, "2026-01-06T00:00:00Z", "2026-01-06T00:00:00Z"),
    ]
