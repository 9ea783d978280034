"""The CLI surface: usage errors exit 2, import takes the lock, help texts, summary lines."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from archiver.cli.crawl import _summary_line
from archiver.crawl import RunSummary, Target
from archiver.lock import run_lock

from conftest import SEEDS, SITE, SITE_PROFILE, SITE_URL, Runner
from helpers import dump
from sitehttp import Reply, SiteServer

SEED = SEEDS / "000_9b671d25390876c8.txt"


@pytest.fixture
def site_db(run: Runner, db: Path) -> Path:
    result = run("import", SITE, "--db", db, "--base-url", SITE_URL, "--profile", SITE_PROFILE)
    assert result.exit_code == 0, result.stderr
    return db


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["parse", SITE / "index.html", "--format", "xml"], "'xml'"),
        (["export", "--format", "xml"], "'xml'"),
        (["search", ""], "give some text to search for"),
        (["search", "   "], "give some text to search for"),
        (["import", SEED, "--captured-at", "yesterday"], "--captured-at 'yesterday': not an ISO 8601"),
        (["import", SEED, "--encoding", "klingon"], "unknown encoding 'klingon'"),
        (["parse", SEED, "--encoding", "klingon"], "unknown encoding 'klingon'"),
        (["import", SITE, "--base-url", "blog.fixture.test"], "--base-url 'blog.fixture.test'"),
        (["import", SITE, "--base-url", "ftp://blog.fixture.test/"], "--base-url 'ftp://blog.fixture.test/'"),
        (["import", SITE, "--base-url", "http://[::1/"], "--base-url 'http://[::1/'"),
        (["parse", SITE / "index.html", "--base-url", "/posts/"], "--base-url '/posts/'"),
        (["probe", SITE / "index.html", "--base-url", "http:///x"], "--base-url 'http:///x'"),
        (["reparse", "--site", "blog.fixture.test"], "give --profile too"),
        (
            ["reparse", "--profile", SITE_PROFILE, "--site", "blog.example"],
            "--site 'blog.example': no HTML captures of that site; HTML captures are of blog.fixture.test",
        ),
    ],
)
def test_bad_options_are_usage_errors(
    run: Runner, site_db: Path, args: list[str | Path], message: str
) -> None:
    before = dump(site_db)
    result = run(*args, "--db", site_db) if args[0] not in ("parse", "probe") else run(*args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert dump(site_db) == before


def test_a_good_base_url_is_accepted(run: Runner) -> None:
    base = "HTTPS://Blog.Fixture.Test:8443/x/"
    result = run("parse", SITE / "index.html", "--base-url", base, "--format", "jsonl")
    assert result.exit_code == 0, result.stderr


def test_import_refuses_to_run_beside_a_crawl(run: Runner, db: Path) -> None:
    assert run("import", SEED, "--db", db).exit_code == 0
    before = dump(db)
    with run_lock(db):
        result = run("import", SEEDS, "--db", db)
        assert result.exit_code == 75
        assert "another archiver run" in result.stderr
        # the lock is taken only once a file has parsed: a bad first file is reported as such
        bad = db.with_name("empty.txt")
        bad.write_bytes(b"")
        result = run("import", bad, "--db", db)
        assert result.exit_code == 1 and "empty capture" in result.stderr
    assert dump(db) == before


def test_import_releases_the_lock_when_it_ends_or_fails(run: Runner, db: Path, tmp_path: Path) -> None:
    assert run("import", SEED, "--db", db).exit_code == 0
    with run_lock(db):
        pass  # free again
    folder = tmp_path / "captures"
    folder.mkdir()
    (folder / "1.txt").write_bytes(SEED.read_bytes())
    (folder / "2.txt").write_bytes(b"")
    result = run("import", folder, "--db", db)
    assert result.exit_code == 1 and "2.txt: empty capture" in result.stderr
    with run_lock(db):
        pass  # the failed import let go of it too


def test_skipped_files_are_named_in_one_line(run: Runner, db: Path, tmp_path: Path) -> None:
    result = run("import", SITE, "--db", db, "--base-url", SITE_URL)
    assert result.exit_code == 0, result.stderr
    skipped = [line for line in result.stderr.splitlines() if line.startswith("skipped")]
    assert skipped == [
        f"skipped 2 files that are not captures (.txt, .html, .htm): {SITE / 'posts.json'}, "
        f"{SITE / 'profile.toml'}"
    ]
    folder = tmp_path / "captures"
    folder.mkdir()
    (folder / "a.txt").write_bytes(SEED.read_bytes())
    for name in ("n1.md", "n2.md", "n3.md", "n4.md", "n5.md"):
        (folder / name).write_text("notes", encoding="utf-8")
    result = run("import", folder, "--db", tmp_path / "other.db")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.strip().endswith(f"{folder / 'n3.md'} and 2 more")
    assert len(result.stderr.splitlines()) == 1
    quiet = run("import", folder, "--db", tmp_path / "other.db", "--quiet")
    assert quiet.stderr == ""


def test_history_shows_tags(run: Runner, db: Path, tmp_path: Path) -> None:
    page = tmp_path / "index.html"
    page.write_text(
        "<main><article><h2><a href='/p/1/'>One</a></h2><p class=tags><a>rust</a><a>cli</a></p>"
        "<p class=x>First excerpt.</p></article></main>",
        encoding="utf-8",
    )
    profile = tmp_path / "site.toml"
    profile.write_text(
        '[selectors]\ncard = "article"\ntitle = "h2"\npermalink = "h2 a"\ntags = ".tags a"\nexcerpt = ".x"\n',
        encoding="utf-8",
    )
    imported = run("import", page, "--db", db, "--base-url", "https://b.example/", "--profile", profile)
    assert imported.exit_code == 0, imported.stderr
    result = run("history", "https://b.example/p/1/", "--db", db)
    assert result.exit_code == 0, result.stderr
    assert "    tags: rust, cli" in result.stdout


def test_summaries_say_one_page_and_one_capture(run: Runner, db: Path) -> None:
    target = Target("https://b.example/")
    line = _summary_line("crawled", target, RunSummary(pages=1, stopped="at the last page"))
    assert line.startswith("crawled 1 page of https://b.example/ (")
    assert _summary_line("crawled", target, RunSummary(pages=2)).startswith("crawled 2 pages")
    run("import", SITE / "index.html", "--db", db, "--base-url", SITE_URL)
    result = run("reparse", "--db", db)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("re-parsed 1 capture (")


def test_reading_commands_say_the_archive_must_exist(run: Runner) -> None:
    for command in ("stats", "history", "search", "export", "reparse"):
        assert "must exist" in " ".join(run(command, "--help").stdout.split()), command
    for command in ("import", "crawl", "backfill"):
        assert "created when missing" in " ".join(run(command, "--help").stdout.split()), command


def test_help_metavars_and_examples(run: Runner) -> None:
    import_help = run("import", "--help").stdout
    assert "{paths}" not in import_help and "--chrome-line LINE" in import_help
    probe_help = run("probe", "--help").stdout.splitlines()
    assert "    archiver probe https://blog.example/" in probe_help  # one example per line
    assert "blog.fixture.test" in " ".join(run("parse", "--help").stdout.split())


def test_export_formats_still_work(run: Runner, site_db: Path) -> None:
    rows = run("export", "--db", site_db).stdout.splitlines()
    assert json.loads(rows[0])["entry_id"] == 1
    csv_text = run("export", "--format", "csv", "--db", site_db).stdout
    assert csv_text.startswith("entry_id,") and len(csv_text.splitlines()) == len(rows) + 1
    with sqlite3.connect(site_db) as conn:
        assert conn.execute("SELECT count(*) FROM current_entries").fetchone()[0] == len(rows)


def test_html_import_without_base_url_says_links_stay_paths(run: Runner, db: Path) -> None:
    result = run("import", SITE / "index.html", "--db", db)
    assert result.exit_code == 0, result.stderr
    assert "note: no --base-url" in result.stderr
    quiet = run("import", SITE / "index.html", "--db", db, "--base-url", SITE_URL)
    assert "note:" not in quiet.stderr


#: a URL no test server listens on: a usage error must come before any request is made
NOWHERE = "http://127.0.0.1:9/"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["crawl", NOWHERE, "--user-agent", "bot/1.0 caf\u00e9"], "--user-agent 'bot/1.0 café'"),
        (["backfill", NOWHERE, "--user-agent", "bot\r\nX-Evil: 1"], "--user-agent 'bot\\r\\nX-Evil: 1'"),
        (["crawl", NOWHERE, "--user-agent", "   "], "--user-agent '   '"),
        (["probe", NOWHERE, "--user-agent", "\u722c\u866b"], "--user-agent '爬虫'"),
        (["crawl", NOWHERE, "--timeout", "inf"], "'--timeout'"),
        (["crawl", NOWHERE, "--timeout", "nan"], "'--timeout'"),
        (["backfill", NOWHERE, "--timeout", "-1"], "'--timeout'"),
        (["crawl", NOWHERE, "--delay", "1e300"], "'--delay'"),
        (["crawl", NOWHERE, "--delay", "inf"], "'--delay'"),
        (["backfill", NOWHERE, "--delay", "nan"], "'--delay'"),
        (["crawl", "http://[::1"], "http://[::1: not a valid URL"),
        (["backfill", "http://[::1/"], "http://[::1/: not a valid URL"),
        (["crawl", "http://blog.example:99999/"], "http://blog.example:99999/: not a valid URL"),
        (["probe", "http://[::1"], "PAGE http://[::1: not a valid URL"),
        (["search", "x", "--limit", str(10**20)], "'--limit'"),
        (
            ["import", SEED, "--captured-at", "0001-01-01T00:00:00+05:00"],
            "--captured-at '0001-01-01T00:00:00+05:00': out of range",
        ),
        (
            ["import", SEED, "--captured-at", "9999-12-31T23:00:00-05:00"],
            "--captured-at '9999-12-31T23:00:00-05:00': out of range",
        ),
        (["backfill", NOWHERE, "--pages", "1-" + "9" * 5000], "--pages '1-999"),
        (["backfill", NOWHERE, "--pages", "1-10000000000"], "<= 1,000,000,000"),
    ],
)
def test_option_values_no_request_can_use_are_usage_errors(
    run: Runner, site_db: Path, args: list[str | Path], message: str
) -> None:
    before = dump(site_db)
    result = run(*args) if args[0] == "probe" else run(*args, "--db", site_db)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert message in result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert dump(site_db) == before


def test_probe_takes_ignore_robots_as_its_refusal_advises(run: Runner) -> None:
    with SiteServer(SITE) as site:
        site.serve("/robots.txt", Reply(body=b"User-agent: *\nDisallow: /\n", content_type="text/plain"))
        refused = run("probe", site.url)
        assert refused.exit_code == 1 and "pass --ignore-robots only if" in refused.stderr
        assert site.page_requests() == []
        result = run("probe", site.url, "--ignore-robots", "--profile-only")
    assert result.exit_code == 0, result.stderr
    assert "[selectors]" in result.stdout


def test_a_capped_crawl_delay_is_one_warning_line(run: Runner, db: Path) -> None:
    with SiteServer(SITE) as site:
        robots = b"User-agent: *\nCrawl-delay: 86400\n"
        site.serve("/robots.txt", Reply(body=robots, content_type="text/plain"))
        result = run(
            "crawl", site.url, "--db", db, "--delay", "0", "--max-pages", "1", "--profile", SITE_PROFILE
        )
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines() == [
        "archiver: warning: 127.0.0.1: robots.txt asks for a Crawl-delay of 86400 s; waiting 60 s "
        "between requests instead (the longest archiver waits)"
    ]
