"""The HTTP stage against a real local server: politeness, retries, and every refusal."""

from __future__ import annotations

import gzip
import itertools
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from archiver.errors import FetchError
from archiver.fetcher import Fetcher, FetchOptions, HTTPStatusError

from conftest import SITE
from sitehttp import Reply, SiteServer

FAST = FetchOptions(delay=0, timeout=2, retries=2, backoff=0.01)


@pytest.fixture
def site() -> Iterator[SiteServer]:
    with SiteServer(SITE) as server:
        yield server


def fetcher(**changes: Any) -> Fetcher:
    return Fetcher(replace(FAST, **changes))


def test_a_page_comes_back_with_its_bytes_validators_and_charset(site: SiteServer) -> None:
    with fetcher() as f:
        result = f.fetch(site.url)
    assert result.status == 200 and not result.not_modified
    assert result.body == (SITE / "index.html").read_bytes()
    assert result.sha256 and len(result.sha256) == 64
    assert result.charset == "utf-8"
    assert result.etag and result.last_modified
    assert result.final_url == site.url
    request = site.page_requests()[0]
    assert (request.header("User-Agent") or "").startswith("archiver/")


def test_validators_are_sent_and_304_has_no_body(site: SiteServer) -> None:
    with fetcher() as f:
        first = f.fetch(site.url)
        again = f.fetch(site.url, etag=first.etag, last_modified=first.last_modified)
    assert again.not_modified and again.body is None and again.sha256 is None
    sent = site.page_requests()[-1]
    assert sent.header("If-None-Match") == first.etag
    assert sent.header("If-Modified-Since") == first.last_modified


def test_user_agent_is_configurable(site: SiteServer) -> None:
    with fetcher(user_agent="mybot/1.0") as f:
        f.fetch(site.url)
    assert all(r.header("User-Agent") == "mybot/1.0" for r in site.log)


def test_5xx_is_retried_until_it_works(site: SiteServer) -> None:
    site.script("/", [Reply(503), Reply(503)])
    with fetcher() as f:
        assert f.fetch(site.url).status == 200
    assert [r.path for r in site.page_requests()] == ["/", "/", "/"]


def test_retries_run_out_with_a_message_naming_the_url(site: SiteServer) -> None:
    site.serve("/", Reply(500, b"boom"))
    with fetcher(retries=1) as f, pytest.raises(FetchError, match=r"127\.0\.0\.1.*HTTP 500.*2 attempts"):
        f.fetch(site.url)
    assert len(site.page_requests()) == 2


def test_other_4xx_is_not_retried(site: SiteServer) -> None:
    with fetcher() as f, pytest.raises(HTTPStatusError, match=r"/nope/: HTTP 404"):
        f.fetch(site.url + "nope/")
    assert len(site.page_requests()) == 1


def test_retry_after_is_honoured(site: SiteServer) -> None:
    site.script("/", [Reply(429, headers={"Retry-After": "1"})])
    with fetcher() as f:
        assert f.fetch(site.url).status == 200
    first, second = site.page_requests()
    assert second.at - first.at >= 1.0


def test_a_long_retry_after_fails_at_once(site: SiteServer) -> None:
    site.serve("/", Reply(503, headers={"Retry-After": "3600"}))
    with fetcher() as f, pytest.raises(FetchError, match="wait 3600 s"):
        f.fetch(site.url)
    assert len(site.page_requests()) == 1


def test_a_server_that_never_answers_times_out(site: SiteServer) -> None:
    site.hang("/")
    started = time.monotonic()
    with fetcher(timeout=0.3, retries=1) as f, pytest.raises(FetchError, match=r"no answer within 0\.3 s"):
        f.fetch(site.url)
    assert time.monotonic() - started < 3
    assert len(site.page_requests()) == 2


def test_delay_spaces_requests_to_one_host(site: SiteServer) -> None:
    with fetcher(delay=0.3) as f:
        for path in ("", "page/2/", "page/3/"):
            f.fetch(site.url + path)
    times = [r.at for r in site.page_requests()]
    assert all(b - a >= 0.29 for a, b in itertools.pairwise(times))


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "streamed"])
def test_oversized_body_is_refused(site: SiteServer, chunked: bool) -> None:
    site.serve("/", Reply(body=b"<p>x</p>" * 20_000, chunked=chunked))
    with fetcher(max_bytes=50_000) as f, pytest.raises(FetchError, match=r"too large.*--max-bytes"):
        f.fetch(site.url)


def test_size_cap_counts_decompressed_bytes(site: SiteServer) -> None:
    bomb = gzip.compress(b" " * 5_000_000)
    assert len(bomb) < 50_000
    site.serve("/", Reply(body=bomb, headers={"Content-Encoding": "gzip"}))
    with fetcher(max_bytes=1_000_000) as f, pytest.raises(FetchError, match="too large"):
        f.fetch(site.url)


def test_redirect_within_the_host_is_followed(site: SiteServer) -> None:
    site.serve("/old/", Reply(301, headers={"Location": "/page/2/"}))
    with fetcher() as f:
        result = f.fetch(site.url + "old/")
    assert result.url == site.url + "old/"
    assert result.final_url == site.url + "page/2/"


def test_off_site_redirect_is_refused_unless_allowed(site: SiteServer) -> None:
    elsewhere = f"http://localhost:{site.port}/page/2/"
    site.serve("/old/", Reply(302, headers={"Location": elsewhere}))
    with fetcher() as f, pytest.raises(FetchError, match=r"another host.*--allow-redirect-host localhost"):
        f.fetch(site.url + "old/")
    with fetcher(redirect_hosts=frozenset({"localhost"})) as f:
        assert f.fetch(site.url + "old/").final_url == elsewhere


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/", "/relative/"])
def test_only_http_and_https(url: str) -> None:
    with fetcher() as f, pytest.raises(FetchError, match="not an http or https URL"):
        f.fetch(url)


def test_redirect_to_another_scheme_is_refused(site: SiteServer) -> None:
    site.serve("/old/", Reply(302, headers={"Location": "file:///etc/passwd"}))
    with fetcher() as f, pytest.raises(FetchError, match="not an http or https URL"):
        f.fetch(site.url + "old/")


def test_non_html_is_refused(site: SiteServer) -> None:
    site.serve("/feed/", Reply(body=b"%PDF-1.4", content_type="application/pdf"))
    with (
        fetcher() as f,
        pytest.raises(FetchError, match=r"/feed/: not an HTML page \(Content-Type: application/pdf"),
    ):
        f.fetch(site.url + "feed/")


def test_robots_txt_is_honoured_unless_ignored(site: SiteServer) -> None:
    site.serve("/robots.txt", Reply(body=b"User-agent: *\nDisallow: /page/3/\n", content_type="text/plain"))
    with fetcher() as f:
        f.fetch(site.url + "page/2/")
        with pytest.raises(FetchError, match=r"/page/3/: disallowed by .*robots\.txt.*--ignore-robots"):
            f.fetch(site.url + "page/3/")
    assert site.paths().count("/robots.txt") == 1  # read once per run
    assert "/page/3/" not in site.paths()
    with fetcher(obey_robots=False) as f:
        assert f.fetch(site.url + "page/3/").status == 200


def test_robots_txt_that_cannot_be_read_is_not_permission(site: SiteServer) -> None:
    site.serve("/robots.txt", Reply(503))
    with fetcher(retries=0) as f, pytest.raises(FetchError, match=r"robots\.txt.*cannot tell"):
        f.fetch(site.url)
    assert "/" not in site.paths()


def test_charset_from_the_header(site: SiteServer) -> None:
    site.serve("/gbk/", Reply(body="中文".encode("gbk"), content_type="text/html; charset=GBK"))
    with fetcher() as f:
        assert (f.fetch(site.url + "gbk/").charset or "").lower() == "gbk"
