"""`archiver export --format warc`: every raw capture as a WARC 1.1 record that warcio reads back
with its digests checked, that pywb replays, and that `archiver import` turns back into the same
entries and versions."""

from __future__ import annotations

import sqlite3
from collections import Counter
from contextlib import closing
from pathlib import Path

import httpx
from pywbserver import Pywb
from warcio.archiveiterator import ArchiveIterator

from conftest import SEEDS, SITE, SITE_PROFILE, Runner
from helpers import entries
from sitehttp import SiteServer
from webarchives import wayback_stamp

FAST = ("--delay", "0", "--retries", "0")


def fixture_archive(run: Runner, db: Path) -> str:
    """The fixture site crawled twice (the second time its pages came back byte for byte, not as
    304s) and the text seeds imported: responses, identical bytes again, and imported files.
    Returns the site's URL."""
    with SiteServer(SITE) as server:
        server.validators = False
        for _ in range(2):
            result = run("backfill", server.url, "--profile", SITE_PROFILE, "--db", db, *FAST)
            assert result.exit_code == 0, result.stderr
        url = server.url
    result = run("import", SEEDS, "--captured-at", "2026-01-01T00:00:00Z", "--db", db, "--quiet")
    assert result.exit_code == 0, result.stderr
    return url


def read_back(path: Path) -> Counter[str]:
    """Every record of a WARC read by warcio with its block and payload digests checked: the
    count of each record type; any digest that does not match fails the test."""
    kinds: Counter[str] = Counter()
    with path.open("rb") as stream:
        iterator = ArchiveIterator(stream, check_digests=True)
        for record in iterator:
            record.content_stream().read()
            iterator.read_to_end(record)
            assert record.digest_checker.passed is not False, record.digest_checker.problems
            assert record.rec_headers.get_header("WARC-Block-Digest")
            assert record.rec_headers.protocol == "WARC/1.1"
            kinds[record.rec_type] += 1
    return kinds


def test_the_export_reads_back_with_its_digests_and_imports_as_the_same_archive(
    run: Runner, tmp_path: Path
) -> None:
    db = tmp_path / "archive.db"
    fixture_archive(run, db)
    exported = tmp_path / "archive.warc.gz"
    result = run("export", "--format", "warc", "--output", exported, "--db", db)
    assert result.exit_code == 0, result.stderr
    with closing(sqlite3.connect(db)) as conn:
        captures = conn.execute("SELECT count(*) FROM capture WHERE sha256 IS NOT NULL").fetchone()[0]
        distinct = conn.execute("SELECT count(DISTINCT sha256) FROM capture").fetchone()[0]
        text_files = conn.execute("SELECT count(*) FROM capture WHERE kind = 'text'").fetchone()[0]
    kinds = read_back(exported)
    assert kinds == {"response": 3, "resource": text_files, "revisit": captures - distinct}
    assert sum(kinds.values()) == captures
    copy = tmp_path / "copy.db"
    result = run("import", exported, "--profile", SITE_PROFILE, "--db", copy)
    assert result.exit_code == 0, result.stderr
    assert f"imported {captures} listing pages" in result.stdout
    assert entries(copy) == entries(db)


def test_the_export_replays_in_pywb(run: Runner, tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    url = fixture_archive(run, db)
    exported = tmp_path / "archive.warc.gz"
    assert run("export", "--format", "warc", "--output", exported, "--db", db).exit_code == 0
    with closing(sqlite3.connect(db)) as conn:
        at = conn.execute(
            "SELECT captured_at FROM capture WHERE page_url = ?", (f"{url}page/2/",)
        ).fetchone()[0]
    with Pywb(tmp_path, [exported]) as pywb:
        replayed = httpx.get(f"{pywb.replay}{wayback_stamp(at)}id_/{url}page/2/", timeout=10)
    assert replayed.status_code == 200
    assert replayed.content == (SITE / "page" / "2" / "index.html").read_bytes()


def test_export_warc_options_are_checked(run: Runner, tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    fixture_archive(run, db)
    result = run("export", "--format", "warc", "--db", db)
    assert result.exit_code == 2 and "--output" in result.stderr
    result = run("export", "--site", "local", "--db", db)
    assert result.exit_code == 2 and "--site" in result.stderr
    only = tmp_path / "local.warc.gz"
    result = run("export", "--format", "warc", "--site", "local", "--output", only, "--db", db)
    assert result.exit_code == 0, result.stderr
    assert set(read_back(only)) == {"resource"}
