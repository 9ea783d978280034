"""The HTTP stage against a real local server: politeness, retries, and every refusal."""

from __future__ import annotations

import gzip
import itertools
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
import zstandard

from archiver.errors import FetchError
from archiver.fetcher import Fetcher, FetchOptions, HTTPStatusError
from archiver.robots import MAX_CRAWL_DELAY, ROBOTS_MAX_BYTES

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


# -- pure fetch logic on httpx.MockTransport, with the waits recorded instead of slept ----------

PAGE = (SITE / "index.html").read_bytes()
Handler = Callable[[httpx.Request], httpx.Response]


class Mock:
    """A Fetcher on ``handler`` instead of the network; ``sleeps`` and ``warnings`` it gave."""

    def __init__(self, handler: Handler, **changes: Any) -> None:
        self.sleeps: list[float] = []
        self.warnings: list[str] = []
        self.requests: list[httpx.Request] = []

        def record(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            return handler(request)

        self.fetcher = Fetcher(
            replace(FAST, **changes),
            transport=httpx.MockTransport(record),
            sleep=self.sleeps.append,
            on_warning=self.warnings.append,
        )


def html(body: bytes = PAGE, **headers: str) -> httpx.Response:
    """A page as the network gives it: a stream (``content=`` would be read, and decoded, at once)."""
    return httpx.Response(
        200, headers={"Content-Type": "text/html", **headers}, stream=httpx.ByteStream(body)
    )


def robots_then_pages(robots: str) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(200, stream=httpx.ByteStream(robots.encode()))
        return html()

    return handler


@pytest.mark.parametrize("asked", ["86400", "1e300"])
def test_a_long_crawl_delay_is_capped_and_said_once(asked: str) -> None:
    mock = Mock(robots_then_pages(f"User-agent: *\nCrawl-delay: {asked}\n"))
    with mock.fetcher as f:
        for path in ("/", "/page/2/", "/page/3/"):
            f.fetch("http://blog.example" + path)
    # the recorded sleeps take no time, so the host's clock runs ahead: 60 s, then 120 s
    assert len(mock.sleeps) == 2
    assert MAX_CRAWL_DELAY - 1 < mock.sleeps[0] <= MAX_CRAWL_DELAY  # capped, not dropped
    assert mock.sleeps[1] <= 2 * MAX_CRAWL_DELAY
    assert mock.warnings == [
        f"blog.example: robots.txt asks for a Crawl-delay of {float(asked):g} s; waiting 60 s between "
        "requests instead (the longest archiver waits)"
    ]


@pytest.mark.parametrize("asked", ["nan", "-5", "inf", "1e400", "soon"])
def test_a_crawl_delay_that_is_not_a_sane_number_is_ignored(asked: str) -> None:
    mock = Mock(robots_then_pages(f"User-agent: *\nCrawl-delay: {asked}\n"))
    with mock.fetcher as f:
        f.fetch("http://blog.example/")
        f.fetch("http://blog.example/page/2/")
    assert mock.sleeps == [] and mock.warnings == []


@pytest.mark.parametrize(
    "raw",
    [
        b"\xb2",
        "\u0661\u0662".encode(),
        b"1e3",
        b"-5",
        b"1.5",
        b"Mon, 01 Jan 99999 00:00:00 GMT",
        b"soon",
        b" ",
    ],
)
def test_a_retry_after_that_is_not_digits_or_a_date_is_ignored(raw: bytes) -> None:
    """b"\\xb2" is a superscript two (latin-1), a digit to str.isdigit but not to float()."""
    replies = iter([httpx.Response(503, headers=[(b"Retry-After", raw)]), html()])
    mock = Mock(lambda request: next(replies), obey_robots=False)
    with mock.fetcher as f:
        assert f.fetch("http://blog.example/").status == 200
    assert len(mock.requests) == 2
    assert len(mock.sleeps) == 1 and mock.sleeps[0] < 1  # the backoff, not a wish read from junk


def gzip_raw(data: bytes, wbits: int) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, wbits)
    return packer.compress(data) + packer.flush()


def zstd_frames(data: bytes) -> bytes:
    half = len(data) // 2
    packer = zstandard.ZstdCompressor()
    return packer.compress(data[:half]) + packer.compress(data[half:])


ENCODED: dict[str, Callable[[bytes], bytes]] = {
    "identity": lambda data: data,
    "gzip": gzip.compress,
    "x-gzip": gzip.compress,
    "GZip": gzip.compress,
    "deflate": lambda data: gzip_raw(data, zlib.MAX_WBITS),  # RFC 1950 zlib data
    "deflate ": lambda data: gzip_raw(data, -zlib.MAX_WBITS),  # bare deflate, as some servers send
    "zstd": zstd_frames,  # two frames
    "gzip, zstd": lambda data: zstd_frames(gzip.compress(data)),
    "deflate,gzip,gzip": lambda data: gzip.compress(gzip.compress(gzip_raw(data, zlib.MAX_WBITS))),
}


@pytest.mark.parametrize("coding", list(ENCODED))
def test_content_encodings_are_undone_in_reverse_order(coding: str) -> None:
    body = ENCODED[coding](PAGE)

    def encoded(request: httpx.Request) -> httpx.Response:
        return html(body, **{"Content-Encoding": coding})

    mock = Mock(encoded, obey_robots=False)
    with mock.fetcher as f:
        assert f.fetch("http://blog.example/").body == PAGE
    assert "gzip, deflate, zstd" in mock.requests[0].headers["Accept-Encoding"]


def test_brotli_is_undone_when_installed() -> None:
    brotli = pytest.importorskip("brotli")
    mock = Mock(lambda request: html(brotli.compress(PAGE), **{"Content-Encoding": "br"}), obey_robots=False)
    with mock.fetcher as f:
        assert f.fetch("http://blog.example/").body == PAGE
    assert "br" in mock.requests[0].headers["Accept-Encoding"]


@pytest.mark.parametrize(
    ("coding", "body", "message"),
    [
        ("compress", PAGE, "Content-Encoding 'compress' is not supported"),
        ("gzip, xz", PAGE, "Content-Encoding 'xz' is not supported"),
        ("gzip", b"\x1f\x8b not gzip at all", "not valid gzip/deflate data"),
        ("deflate", b"neither zlib nor deflate", "not valid deflate data"),
        ("zstd", b"not zstd", "not valid zstd data"),
    ],
)
def test_a_body_that_cannot_be_decoded_is_refused(coding: str, body: bytes, message: str) -> None:
    mock = Mock(lambda request: html(body, **{"Content-Encoding": coding}), obey_robots=False)
    with mock.fetcher as f, pytest.raises(FetchError) as caught:
        f.fetch("http://blog.example/")
    assert str(caught.value).startswith("http://blog.example/: response could not be decompressed: ")
    assert message in str(caught.value)


def test_a_robots_txt_over_500_kib_is_read_up_to_500_kib(site: SiteServer) -> None:
    """RFC 9309: parse at least 500 KiB; a longer file is cut there, never refused (whatever
    --max-bytes is). The rule past the cut is not seen."""
    rules = b"User-agent: *\nDisallow: /page/3/\n"
    filler = b"# a long comment line, many times over\n" * (ROBOTS_MAX_BYTES // 40 + 1000)
    site.serve("/robots.txt", Reply(body=rules + filler + b"Disallow: /\n", content_type="text/plain"))
    with fetcher(max_bytes=100_000) as f:
        assert f.fetch(site.url).status == 200
        with pytest.raises(FetchError, match="disallowed by"):
            f.fetch(site.url + "page/3/")
        kept = f.robots_read()[0].body
    assert kept is not None and kept.startswith(rules.decode()) and kept.endswith("over\n")
    assert len(kept) <= ROBOTS_MAX_BYTES
