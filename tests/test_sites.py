"""A site is the host and, when it is not the scheme's default, the port: two blogs on one host
served from two ports are two sites, each with its own entries."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from archiver.identity import site_of

from conftest import SITE, SITE_PROFILE, Runner
from sitehttp import SiteServer, blog_page

FAST = ("--delay", "0", "--timeout", "2")


def _entries_per_site(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT site, count(*) FROM entry GROUP BY site").fetchall())


@pytest.mark.parametrize(
    ("url", "site"),
    [
        ("http://127.0.0.1:8001/", "127.0.0.1:8001"),
        ("http://Blog.Example:8080/page/2/", "blog.example:8080"),
        ("http://blog.example:80/", "blog.example"),  # the default port is no part of the name
        ("https://blog.example:443/", "blog.example"),
        ("https://blog.example:80/", "blog.example:80"),  # 80 is not https's default
        ("http://blog.example/", "blog.example"),
        ("http://[::1]:8001/", "[::1]:8001"),
        ("/relative/path/", None),
        (None, None),
    ],
)
def test_the_site_of_a_url_is_its_host_and_any_port_not_the_default(
    url: str | None, site: str | None
) -> None:
    assert site_of(url) == site


def test_two_blogs_on_two_ports_of_one_host_are_two_sites(run: Runner, db: Path) -> None:
    with SiteServer(SITE) as first, SiteServer(SITE) as second:
        for server in (first, second):
            result = run("crawl", server.url, "--db", db, "--profile", SITE_PROFILE, *FAST)
            assert result.exit_code == 0, result.stderr
        sites = {f"127.0.0.1:{first.port}", f"127.0.0.1:{second.port}"}
    assert _entries_per_site(db) == dict.fromkeys(sites, 46)
    shown = run("stats", "--db", db, "--json")
    assert shown.exit_code == 0, shown.stderr
    per_site = {row["site"]: row["entries"] for row in json.loads(shown.stdout)["per_site"]}
    assert per_site == dict.fromkeys(sites, 46)
    table = run("stats", "--db", db)
    assert all(site in table.stdout for site in sites)


def test_posts_without_permalinks_on_two_ports_are_not_merged(run: Runner, db: Path, tmp_path: Path) -> None:
    """Posts known by their text are matched within a site only: the same text on another
    blog of the same host is another post."""
    roots = [tmp_path / "one", tmp_path / "two"]
    for root in roots:
        root.mkdir()
        (root / "index.html").write_bytes(blog_page(range(5, 0, -1), None, permalinks=False))
    with SiteServer(roots[0]) as first, SiteServer(roots[1]) as second:
        for server in (first, second):
            result = run("crawl", server.url, "--db", db, "--profile", SITE_PROFILE, *FAST)
            assert result.exit_code == 0, result.stderr
            assert "5 new entries" in result.stdout
        sites = {f"127.0.0.1:{first.port}", f"127.0.0.1:{second.port}"}
    assert _entries_per_site(db) == dict.fromkeys(sites, 5)


@pytest.mark.parametrize(
    ("base_url", "site"),
    [
        ("http://blog.fixture.test:8080/", "blog.fixture.test:8080"),
        ("http://blog.fixture.test:80/", "blog.fixture.test"),
    ],
)
def test_import_base_url_with_a_port_names_the_site_with_it(
    run: Runner, db: Path, base_url: str, site: str
) -> None:
    result = run("import", SITE, "--db", db, "--base-url", base_url, "--profile", SITE_PROFILE, "--quiet")
    assert result.exit_code == 0, result.stderr
    assert _entries_per_site(db) == {site: 46}
    with sqlite3.connect(db) as conn:
        assert {row[0] for row in conn.execute("SELECT site FROM capture")} == {site}
