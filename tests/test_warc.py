"""WARC and WACZ files in (`archiver import`): the listing pages they hold become captures at the
time each was recorded, in time order whatever their order in the file; article pages, images,
requests and the like are counted and skipped, never archived as entries."""

from __future__ import annotations

import random
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from conftest import SITE_PROFILE, Runner
from helpers import entries
from webarchives import (
    BLOG,
    MOMENT_TIMES,
    Warc,
    article_page,
    as_wacz,
    moments,
    moments_warc,
    write_moment,
)

#: when the archive saw the blog's first page again, unchanged (a revisit record)
REVISIT_AT = "2025-02-01T09:00:00Z"


def mixed_warc(tmp_path: Path) -> Path:
    """The three moments' listing pages and a revisit of the last front page, with article
    pages, an image and a 404 among them, written in a shuffled order."""
    warc = moments_warc()
    warc.response(f"{BLOG}posts/post-3/", article_page(3), MOMENT_TIMES[0])
    warc.response(f"{BLOG}posts/post-7/", article_page(7), MOMENT_TIMES[1])
    warc.response(f"{BLOG}logo.png", b"\x89PNG\r\n\x1a\n" + bytes(200), MOMENT_TIMES[1], "image/png")
    warc.response(f"{BLOG}missing/", b"<html><body>gone</body></html>", MOMENT_TIMES[2], status=404)
    warc.revisit(BLOG, moments()[2][BLOG], REVISIT_AT)
    order = list(range(len(warc.records)))
    random.Random(15).shuffle(order)
    return warc.write(tmp_path / "crawl.warc.gz", order)


def direct_archive(run: Runner, tmp_path: Path) -> Path:
    """The same listing pages imported as files, moment by moment, with the times they were taken."""
    db = tmp_path / "direct.db"
    captures = [*zip(MOMENT_TIMES, moments(), strict=True), (REVISIT_AT, {BLOG: moments()[2][BLOG]})]
    for number, (at, pages) in enumerate(captures):
        folder = write_moment(tmp_path / f"moment{number}", pages)
        result = run(
            "import", folder, "--base-url", BLOG, "--captured-at", at, "--profile", SITE_PROFILE, "--db", db
        )
        assert result.exit_code == 0, result.stderr
    return db


def first_seen(db: Path) -> list[tuple[str, int, str]]:
    """(entry key, version, first seen at) of every version."""
    with closing(sqlite3.connect(db)) as conn:
        rows = conn.execute(
            "SELECT e.key, v.version, v.first_seen_at FROM entry_version v JOIN entry e ON e.id = v.entry_id"
            " ORDER BY e.key, v.version"
        ).fetchall()
    return [(str(k), int(v), str(at)) for k, v, at in rows]


def test_a_warc_imports_only_its_listing_pages_in_time_order(run: Runner, tmp_path: Path) -> None:
    warc = mixed_warc(tmp_path)
    db = tmp_path / "warc.db"
    result = run("import", warc, "--profile", SITE_PROFILE, "--db", db)
    assert result.exit_code == 0, result.stderr
    # 3 + 3 + 3 listing pages and the revisit of the front page
    assert "imported 10 listing pages" in result.stdout
    assert "read 23 records" in result.stdout
    assert "9 not a response, resource or revisit" in result.stderr  # the requests
    assert "2 no card list" in result.stderr  # the article pages
    assert "1 not HTML" in result.stderr and "1 not an HTTP 200 answer" in result.stderr
    direct = direct_archive(run, tmp_path)
    assert entries(db) == entries(direct)
    assert first_seen(db) == first_seen(direct)
    edited = [row for row in entries(db) if row[3] == 2]
    assert [row[4] for row in edited] == ["A title rewritten by its author"]
    with closing(sqlite3.connect(db)) as conn:
        times = [row[0] for row in conn.execute("SELECT captured_at FROM capture ORDER BY id")]
        statuses = {row[0] for row in conn.execute("SELECT http_status FROM capture")}
    assert times == sorted(times) and times[0] == MOMENT_TIMES[0] and times[-1] == REVISIT_AT
    assert statuses == {200}


def test_the_same_records_in_a_wacz_import_the_same(run: Runner, tmp_path: Path) -> None:
    warc = mixed_warc(tmp_path)
    wacz = as_wacz(warc, tmp_path / "crawl.wacz")
    from_warc, from_wacz = tmp_path / "warc.db", tmp_path / "wacz.db"
    assert run("import", warc, "--profile", SITE_PROFILE, "--db", from_warc).exit_code == 0
    result = run("import", wacz, "--profile", SITE_PROFILE, "--db", from_wacz)
    assert result.exit_code == 0, result.stderr
    assert "imported 10 listing pages" in result.stdout
    assert entries(from_wacz) == entries(from_warc)
    assert first_seen(from_wacz) == first_seen(from_warc)


def test_without_a_profile_article_pages_are_skipped(run: Runner, tmp_path: Path) -> None:
    db = tmp_path / "warc.db"
    result = run("import", mixed_warc(tmp_path), "--db", db)
    assert result.exit_code == 0, result.stderr
    assert "imported 10 listing pages" in result.stdout
    assert "2 no listing by its cards" in result.stderr
    assert all("/posts/" in row[2] for row in entries(db))


def test_url_prefix_limits_the_import_to_a_sites_listing_urls(run: Runner, tmp_path: Path) -> None:
    db = tmp_path / "warc.db"
    result = run(
        "import", mixed_warc(tmp_path), "--url-prefix", f"{BLOG}page/", "--profile", SITE_PROFILE, "--db", db
    )
    assert result.exit_code == 0, result.stderr
    assert "imported 6 listing pages" in result.stdout  # pages 2 and 3 of each moment
    assert "outside --url-prefix" in result.stderr
    with closing(sqlite3.connect(db)) as conn:
        urls = {row[0] for row in conn.execute("SELECT page_url FROM capture")}
    assert urls == {f"{BLOG}page/2/", f"{BLOG}page/3/"}


def test_an_interrupted_warc_import_is_carried_on_without_counting_twice(run: Runner, tmp_path: Path) -> None:
    warc = mixed_warc(tmp_path)
    db = tmp_path / "warc.db"
    assert run("import", warc, "--profile", SITE_PROFILE, "--db", db).exit_code == 0
    with closing(sqlite3.connect(db)) as conn:  # as if killed after its 4th capture
        conn.execute("UPDATE import_run SET finished_at = NULL")
        kept = [row[0] for row in conn.execute("SELECT capture_id FROM import_file ORDER BY capture_id")][:4]
        conn.commit()
    complete = entries(db)
    result = run("import", warc, "--profile", SITE_PROFILE, "--db", db)
    assert result.exit_code == 0, result.stderr
    assert "10 stored by an interrupted import were not counted again" in result.stdout
    assert "imported 0 listing pages" in result.stdout
    assert entries(db) == complete and kept


@pytest.mark.parametrize(
    ("content", "said"),
    [(b"not a warc at all\n" * 10, "not a readable WARC file"), (b"PK\x03\x04broken", "not a readable WACZ")],
)
def test_a_file_that_is_not_a_web_archive_is_one_clear_error(
    run: Runner, tmp_path: Path, content: bytes, said: str
) -> None:
    path = tmp_path / ("bad.wacz" if content.startswith(b"PK") else "bad.warc")
    path.write_bytes(content)
    db = tmp_path / "warc.db"
    result = run("import", path, "--db", db)
    assert result.exit_code == 1
    assert str(path) in result.stderr and said in result.stderr
    assert "Traceback" not in result.stderr
    assert not db.exists()


def test_options_that_do_not_apply_to_web_archives_are_usage_errors(run: Runner, tmp_path: Path) -> None:
    warc = Warc()
    warc.response(BLOG, moments()[0][BLOG], MOMENT_TIMES[0])
    path = warc.write(tmp_path / "one.warc.gz")
    result = run("import", path, "--captured-at", "2024-01-01", "--db", tmp_path / "a.db")
    assert result.exit_code == 2 and "--captured-at" in result.stderr
    page = tmp_path / "page.html"
    page.write_bytes(moments()[0][BLOG])
    result = run("import", path, page, "--db", tmp_path / "a.db")
    assert result.exit_code == 2 and "WARC/WACZ files on their own" in result.stderr
    result = run("import", page, "--url-prefix", BLOG, "--db", tmp_path / "a.db")
    assert result.exit_code == 2 and "--url-prefix" in result.stderr
