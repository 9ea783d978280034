"""`archiver wayback`: a blog's history from a web archive, against a real pywb serving WARCs of
the blog at three moments, and against a local server answering in the Internet Archive's CDX
JSON form."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import time
from contextlib import closing
from pathlib import Path

import pytest
from pywbserver import Pywb
from test_warc import first_seen

from archiver.wayback import Archive, Capture, Every, kept

from conftest import SITE_PROFILE, Runner
from helpers import ARCHIVER_ENV, archiver_command, captures_in, entries
from sitehttp import Reply, SiteServer
from webarchives import BLOG, MOMENT_TIMES, moments, moments_warc, wayback_stamp, write_moment


def direct_archive(run: Runner, tmp_path: Path) -> Path:
    """The three moments' pages imported as files at the times they were taken."""
    db = tmp_path / "direct.db"
    for number, (at, pages) in enumerate(zip(MOMENT_TIMES, moments(), strict=True)):
        folder = write_moment(tmp_path / f"moment{number}", pages)
        result = run(
            "import", folder, "--base-url", BLOG, "--captured-at", at, "--profile", SITE_PROFILE, "--db", db
        )
        assert result.exit_code == 0, result.stderr
    return db


def capture_count(db: Path) -> int:
    with closing(sqlite3.connect(db)) as conn:
        return int(conn.execute("SELECT count(*) FROM capture").fetchone()[0])


def test_wayback_from_pywb_gives_the_history_of_importing_the_pages(run: Runner, tmp_path: Path) -> None:
    warc = moments_warc().write(tmp_path / "blog.warc.gz")
    db = tmp_path / "wayback.db"
    with Pywb(tmp_path, [warc]) as pywb:
        asked = (
            "wayback",
            BLOG,
            "--archive",
            pywb.cdx,
            "--delay",
            "0",
            "--profile",
            SITE_PROFILE,
            "--db",
            db,
        )
        result = run(*asked)
        assert result.exit_code == 0, result.stderr
        # pages 1-3 at three moments; pages 1 and 2 were unchanged at the third (collapsed)
        assert "listed 9 captures of 10 pages, kept 7: imported 7 into" in result.stdout
        stored = capture_count(db)
        again = run(*asked)
    assert again.exit_code == 0, again.stderr
    assert "imported 0 into" in again.stdout and "7 already in the archive" in again.stdout
    assert capture_count(db) == stored
    direct = direct_archive(run, tmp_path)
    assert entries(db) == entries(direct)
    assert first_seen(db) == first_seen(direct)
    with closing(sqlite3.connect(db)) as conn:
        sources = [row[0] for row in conn.execute("SELECT source FROM capture ORDER BY id")]
    assert all(f"/{wayback_stamp(MOMENT_TIMES[0])}id_/" in s for s in sources[:3])


def ia_cdx_site(server: SiteServer) -> None:
    """The server answers as the Internet Archive: CDX JSON rows at /cdx/search/cdx and each
    capture's original bytes at /web/TIMESTAMPid_/URL."""
    pages = moments()
    rows = [["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]]
    for at, moment in zip(MOMENT_TIMES, pages, strict=True):
        body = moment[BLOG]
        rows.append(["key", wayback_stamp(at), BLOG, "text/html", "200", f"D{hash(body)}", "1"])
    rows.append(["key", "20240401000000", BLOG, "warc/revisit", "-", "DX", "1"])
    rows.append(["key", "20240501000000", BLOG, "text/html", "404", "DY", "1"])
    rows.append(["key", "20240502000000", BLOG, "text/html", "301", "DZ", "1"])

    def answer(target: str) -> Reply | None:
        if target.startswith("/cdx/search/cdx"):
            if "page%2F" in target:
                return Reply(200, b"[]", "application/json")
            return Reply(200, json.dumps(rows).encode(), "application/json")
        for at, moment in zip(MOMENT_TIMES, pages, strict=True):
            if target == f"/web/{wayback_stamp(at)}id_/{BLOG}":
                return Reply(200, moment[BLOG])
        return None

    server.answer(answer)


def test_wayback_reads_the_internet_archives_cdx_json_and_honours_its_429(
    run: Runner, tmp_path: Path
) -> None:
    db = tmp_path / "ia.db"
    with SiteServer(tmp_path) as server:
        ia_cdx_site(server)
        second = f"/web/{wayback_stamp(MOMENT_TIMES[1])}id_/{BLOG}"
        server.script(second, [Reply(429, b"slow down", headers={"Retry-After": "1"})])
        started = time.monotonic()
        result = run(
            "wayback",
            BLOG,
            "--archive",
            f"{server.url}cdx/search/cdx",
            "--delay",
            "0",
            "--pages",
            "2",
            "--profile",
            SITE_PROFILE,
            "--db",
            db,
        )
        waited = time.monotonic() - started
        fetched = [p for p in server.paths() if p.startswith("/web/")]
    assert result.exit_code == 0, result.stderr
    # the front page was the same at the last two moments: its second capture is collapsed
    assert "listed 3 captures of 2 pages, kept 2: imported 2 into" in result.stdout
    assert fetched.count(second) == 2 and waited >= 1  # asked again after the Retry-After
    with closing(sqlite3.connect(db)) as conn:
        times = [row[0] for row in conn.execute("SELECT captured_at FROM capture ORDER BY id")]
    assert times == list(MOMENT_TIMES[:2])


def test_captures_are_collapsed_by_digest_and_thinned_per_period() -> None:
    def at(stamp: str, digest: str) -> Capture:
        return Capture(stamp, BLOG, f"r/{stamp}", digest)

    listed = [
        at("20240101000000", "A"),
        at("20240102000000", "A"),  # the same bytes again: collapsed
        at("20240103000000", "B"),
        at("20240103120000", "A"),  # a revert: kept
        at("20240210000000", "C"),
        at("20250101000000", "D"),
    ]
    assert [c.timestamp for c in kept(listed, None, None, None)] == [
        "20240101000000",
        "20240103000000",
        "20240103120000",
        "20240210000000",
        "20250101000000",
    ]
    assert [c.digest for c in kept(listed, None, None, Every.day)] == ["A", "B", "C", "D"]
    assert [c.digest for c in kept(listed, None, None, Every.month)] == ["A", "C", "D"]
    assert [c.digest for c in kept(listed, "202401", "2024", Every.week)] == ["A", "C"]


def test_a_memento_timemap_lists_the_original_bytes_of_each_memento() -> None:
    timemap = (
        f'<{BLOG}>; rel="original",\n'
        f'<https://arch.example/timemap/link/{BLOG}>; rel="self"; type="application/link-format",\n'
        f'<https://arch.example/wayback/20190102030405/{BLOG}>; rel="first memento"; '
        'datetime="Wed, 02 Jan 2019 03:04:05 GMT",\n'
        f'<https://arch.example/wayback/20200102030405/{BLOG}>; rel="last memento"; '
        'datetime="Thu, 02 Jan 2020 03:04:05 GMT"\n'
    )
    archive = Archive("https://arch.example/timemap/link/")
    assert (
        not archive.is_cdx and archive.query(BLOG, None, None) == f"https://arch.example/timemap/link/{BLOG}"
    )
    found = archive.captures(timemap.encode(), "timemap")
    assert [(c.captured_at, c.replay) for c in found] == [
        ("2019-01-02T03:04:05Z", f"https://arch.example/wayback/20190102030405id_/{BLOG}"),
        ("2020-01-02T03:04:05Z", f"https://arch.example/wayback/20200102030405id_/{BLOG}"),
    ]


def test_bad_wayback_options_are_usage_errors(run: Runner, tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    for args, named in [
        (("--from", "2019-01"), "from"),
        (("--to", "20191"), "to"),
        (("--archive", "ftp://x/cdx"), "--archive"),
    ]:
        result = run("wayback", BLOG, *args, "--db", db)
        assert result.exit_code == 2 and named in result.stderr, result.stderr
    assert not db.exists()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_wayback_run_killed_at_random_moments_ends_the_same(run: Runner, tmp_path: Path) -> None:
    warc = moments_warc().write(tmp_path / "blog.warc.gz")
    with Pywb(tmp_path, [warc]) as pywb:
        asked = ("wayback", BLOG, "--archive", pywb.cdx, "--delay", "0.1", "--profile", SITE_PROFILE)
        whole = tmp_path / "whole.db"
        assert run(*asked, "--db", whole).exit_code == 0
        chances = random.Random(15)
        for trial in range(10):
            db = tmp_path / f"killed{trial}.db"
            process = subprocess.Popen(
                archiver_command(*asked, "--db", db),
                env=ARCHIVER_ENV,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(chances.uniform(0.3, 2.5))
            process.send_signal(signal.SIGKILL)
            process.wait()
            before = captures_in(db)
            result = subprocess.run(
                archiver_command(*asked, "--db", db),
                env=ARCHIVER_ENV,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert result.returncode == 0, result.stderr
            assert entries(db) == entries(whole), f"trial {trial}: killed after {before} captures"
            assert first_seen(db) == first_seen(whole)
            assert captures_in(db) == captures_in(whole)
