"""The watch list's rules: site names, durations, list files, and when a site is next due."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from archiver.errors import InputError
from archiver.watchlist import (
    JITTER,
    MAX_INTERVAL,
    checked_url,
    format_duration,
    interval_for,
    next_check,
    parse_duration,
    read_url_list,
    site_name,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://blog.example/", "blog.example"),
        ("https://Blog.Example", "blog.example"),
        ("https://blog.example/index.html", "blog.example"),
        ("http://127.0.0.1:8080/", "127.0.0.1:8080"),
        ("https://blog.example:443/", "blog.example"),
        ("https://medium.example/@ada/", "medium.example/@ada"),
        ("https://host.example/blogs/ada/index.php", "host.example/blogs/ada"),
        ("http://[::1]:9000/b/", "::1:9000/b"),
    ],
)
def test_a_site_is_named_by_its_host_and_the_path_it_lives_under(url: str, name: str) -> None:
    assert site_name(url) == name


@pytest.mark.parametrize(("text", "seconds"), [("30m", 1800), ("1h", 3600), ("6h", 21600), ("1d", 86400)])
def test_durations_read_as_the_readme_writes_them(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)
    assert parse_duration(format_duration(timedelta(seconds=seconds))) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "1", "1y", "-1h", "10s", "30d", "1.5h", "h"])
def test_a_duration_that_is_not_one_or_out_of_range_is_refused_by_name(text: str) -> None:
    with pytest.raises(InputError, match=repr(text)):
        parse_duration(text)


@pytest.mark.parametrize(
    "url", ["ftp://blog.example/", "blog.example", "https://", "javascript:x", "http://h:99999/"]
)
def test_only_http_urls_with_a_host_are_sites(url: str) -> None:
    with pytest.raises(InputError, match=r"URL|port"):
        checked_url(url)


def test_a_plain_list_has_one_url_a_line_with_comments() -> None:
    text = "# my blogs\nhttps://a.example/\n\n  https://b.example/blog/  # work\nhttps://a.example/\n"
    assert read_url_list(text, "blogs.txt") == ["https://a.example/", "https://b.example/blog/"]


def test_a_bad_line_is_named_with_its_number() -> None:
    with pytest.raises(InputError, match=r"blogs.txt:2: 'ftp://x.example/'"):
        read_url_list("https://a.example/\nftp://x.example/\n", "blogs.txt")
    with pytest.raises(InputError, match="names no URL"):
        read_url_list("# nothing\n", "blogs.txt")


def test_an_opml_file_gives_each_outline_s_page_or_feed() -> None:
    opml = """<?xml version="1.0"?><opml version="2.0"><head><title>Feeds</title></head><body>
    <outline text="Tech"><outline text="A" type="rss" xmlUrl="https://a.example/feed.xml"
      htmlUrl="https://a.example/"/><outline text="B" type="rss" xmlUrl="https://b.example/rss"/></outline>
    </body></opml>"""
    assert read_url_list(opml, "feeds.opml") == ["https://a.example/", "https://b.example/rss"]
    with pytest.raises(InputError, match=r"feeds\.opml: not a readable OPML"):
        read_url_list("<?xml version='1.0'?><opml><body>", "feeds.opml")


def test_a_success_waits_the_interval_and_failures_back_off_to_a_day_with_jitter() -> None:
    rng = random.Random(7)
    assert next_check(NOW, HOUR, 0) == NOW + HOUR
    waits = [next_check(NOW, HOUR, failures, rng=rng) - NOW for failures in range(1, 8)]
    for failures, wait in enumerate(waits[:4], 1):
        assert HOUR * 2**failures <= wait <= HOUR * 2**failures * (1 + JITTER)
    assert waits[-1] == MAX_INTERVAL and all(wait <= MAX_INTERVAL for wait in waits)
    spread = {next_check(NOW, HOUR, 2, rng=rng) for _ in range(20)}
    assert len(spread) > 1  # sites that failed together are not retried together


def test_a_server_s_retry_after_pushes_the_check_later_never_earlier() -> None:
    assert next_check(NOW, HOUR, 0, not_before=NOW + 3 * HOUR) == NOW + 3 * HOUR
    assert next_check(NOW, HOUR, 0, not_before=NOW + timedelta(minutes=5)) == NOW + HOUR


def test_busy_blogs_are_checked_as_asked_and_quiet_ones_drift_to_a_day() -> None:
    assert interval_for(HOUR, 0) == MAX_INTERVAL
    assert interval_for(HOUR, 1000) == HOUR
    assert HOUR < interval_for(HOUR, 60) < MAX_INTERVAL  # 2 a day: checked every 3 hours
    assert interval_for(timedelta(days=2), 1000) == timedelta(days=2)
