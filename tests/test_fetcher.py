"""The HTTP stage: politeness, retries, redirects, robots.txt, size caps and every refusal.

The fetch logic runs on ``httpx.MockTransport`` (the transport is the fetcher's one network
seam) with a :class:`~helpers.FakeClock` that records each wait instead of sleeping it, so the
tests assert the delays the fetcher chose, to the second, in no time. A few tests keep a real
server on 127.0.0.1 for what only a socket shows (the whole exchange, a server that never
answers); tests/test_hostile_servers.py has the servers that misbehave at the socket level.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from email.utils import format_datetime, formatdate
from typing import Any

import httpcore
import httpx
import pytest
import zstandard

from archiver.cli._wording import worded
from archiver.deadline import DeadlineTransport
from archiver.errors import FetchError, OffHostRedirect, RobotsDisallowed, TooLarge
from archiver.fetcher import MAX_RETRY_AFTER, Fetcher, FetchOptions, HTTPStatusError, UnreachableError
from archiver.robots import MAX_CRAWL_DELAY, ROBOTS_MAX_BYTES

from conftest import SITE
from helpers import FakeClock
from sitehttp import SiteServer

FAST = FetchOptions(delay=0, timeout=2, retries=2, backoff=0.01)
BLOG = "http://blog.example/"
PAGE = (SITE / "index.html").read_bytes()
Reply = Callable[[], httpx.Response]


def reply(
    status: int = 200,
    body: bytes = b"",
    content_type: str | None = "text/html; charset=utf-8",
    *,
    length: bool = True,
    headers: dict[str, str] | None = None,
) -> Reply:
    """A response made afresh for each request (a body stream is read once), as the network gives
    it: a stream, with Content-Length unless ``length`` is False (``content=`` would be read, and
    decoded, at once)."""

    def make() -> httpx.Response:
        sent = dict(headers or {})
        if content_type:
            sent["Content-Type"] = content_type
        if length:
            sent["Content-Length"] = str(len(body))
        return httpx.Response(status, headers=sent, stream=httpx.ByteStream(body))

    return make


def html(body: bytes = PAGE, coding: str | None = None) -> Reply:
    return reply(200, body, "text/html", headers={"Content-Encoding": coding} if coding else None)


class Stream(httpx.SyncByteStream):
    """A body that the fetcher pulls from a generator, piece by piece, as from a socket."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces

    def __iter__(self) -> Iterator[bytes]:
        return self._pieces


@dataclass(frozen=True)
class Seen:
    """One request as the mock network saw it, and when (on the fake clock)."""

    path: str
    headers: httpx.Headers
    at: float


@dataclass
class MockSite:
    """The fixture blog on ``httpx.MockTransport``: its files with validators (and 304s), with
    scripted or fixed replies on top, like :class:`sitehttp.SiteServer` without the socket."""

    clock: FakeClock = field(default_factory=FakeClock)
    log: list[Seen] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _script: dict[str, list[Reply]] = field(default_factory=dict)
    _fixed: dict[str, Reply] = field(default_factory=dict)

    def fetcher(self, **changes: Any) -> Fetcher:
        return Fetcher(
            replace(FAST, **changes),
            transport=httpx.MockTransport(self._handle),
            clock=self.clock,
            on_warning=self.warnings.append,
        )

    def script(self, path: str, replies: list[Reply]) -> None:
        """Answer the next requests for ``path`` with ``replies`` in turn, then as before."""
        self._script[path] = list(replies)

    def serve(self, path: str, answer: Reply) -> None:
        self._fixed[path] = answer

    def paths(self) -> list[str]:
        return [r.path for r in self.log]

    def pages(self) -> list[Seen]:
        """Requests other than robots.txt."""
        return [r for r in self.log if r.path != "/robots.txt"]

    @property
    def sleeps(self) -> list[float]:
        return self.clock.sleeps

    def _handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.log.append(Seen(path, request.headers, self.clock.monotonic()))
        if self._script.get(path):
            return self._script[path].pop(0)()
        if path in self._fixed:
            return self._fixed[path]()
        return self._file(path, request.headers)

    def _file(self, path: str, asked: httpx.Headers) -> httpx.Response:
        target = SITE / path.lstrip("/")
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            return reply(404, b"not found", "text/plain")()
        body = target.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        modified = formatdate(int(target.stat().st_mtime), usegmt=True)
        if asked.get("If-None-Match") == etag:
            return reply(304, content_type=None, headers={"ETag": etag, "Last-Modified": modified})()
        return reply(200, body, headers={"ETag": etag, "Last-Modified": modified})()


@pytest.fixture
def mock() -> MockSite:
    return MockSite()


# -- a page, and a page that did not change ----------------------------------------------------


@pytest.fixture
def site() -> Iterator[SiteServer]:
    with SiteServer(SITE) as server:
        yield server


def test_a_page_comes_back_with_its_bytes_validators_and_charset(site: SiteServer) -> None:
    """Over a real socket, the whole exchange: the request as sent, the answer as read."""
    with Fetcher(FAST) as f:
        result = f.fetch(site.url)
    assert result.status == 200 and not result.not_modified
    assert result.body == PAGE
    assert result.sha256 == hashlib.sha256(PAGE).hexdigest()
    assert result.charset == "utf-8"
    assert result.etag and result.last_modified
    assert result.final_url == site.url
    request = site.page_requests()[0]
    assert (request.header("User-Agent") or "").startswith("archiver/")


def test_a_server_that_never_answers_times_out(site: SiteServer) -> None:
    """The timeout is the socket's: a real server that accepts and never answers."""
    site.hang("/")
    with (
        Fetcher(replace(FAST, timeout=0.3, retries=1)) as f,
        pytest.raises(FetchError, match=r"no answer within 0\.3 s"),
    ):
        f.fetch(site.url)
    assert len(site.page_requests()) == 2


def test_validators_are_sent_and_304_has_no_body(mock: MockSite) -> None:
    with mock.fetcher() as f:
        first = f.fetch(BLOG)
        again = f.fetch(BLOG, etag=first.etag, last_modified=first.last_modified)
    assert first.status == 200 and first.etag and first.last_modified
    assert again.not_modified and again.body is None and again.sha256 is None
    assert again.etag == first.etag
    sent = mock.pages()[-1].headers
    assert sent["If-None-Match"] == first.etag
    assert sent["If-Modified-Since"] == first.last_modified


def test_user_agent_is_configurable(mock: MockSite) -> None:
    with mock.fetcher(user_agent="mybot/1.0") as f:
        f.fetch(BLOG)
    assert [r.headers["User-Agent"] for r in mock.log] == ["mybot/1.0", "mybot/1.0"]  # robots.txt too


def test_charset_from_the_header(mock: MockSite) -> None:
    mock.serve("/gbk/", reply(body="中文".encode("gbk"), content_type="text/html; charset=GBK"))
    with mock.fetcher() as f:
        assert (f.fetch(BLOG + "gbk/").charset or "").lower() == "gbk"


# -- retries, backoff and Retry-After: the waits as recorded -----------------------------------


def test_5xx_is_retried_until_it_works(mock: MockSite) -> None:
    mock.script("/", [reply(503), reply(502)])
    with mock.fetcher(obey_robots=False) as f:
        assert f.fetch(BLOG).status == 200
    assert mock.paths() == ["/", "/", "/"]
    assert len(mock.sleeps) == 2  # one backoff before each retry


def test_backoff_grows_exponentially_with_full_jitter_up_to_a_minute(mock: MockSite) -> None:
    """Step n waits a random time up to backoff * 2**n, never more than 60 s."""
    mock.serve("/", reply(503))
    with mock.fetcher(obey_robots=False, retries=8, backoff=1.0) as f, pytest.raises(FetchError):
        f.fetch(BLOG)
    assert len(mock.sleeps) == 8
    for step, slept in enumerate(mock.sleeps):
        assert 0 <= slept <= min(60.0, 2.0**step), (step, slept)
    assert len(set(mock.sleeps)) > 1  # random, not one fixed step
    assert max(mock.sleeps[6:]) > 4  # and growing: the last steps may wait up to a minute


def test_retries_run_out_with_a_message_naming_the_url(mock: MockSite) -> None:
    mock.serve("/", reply(500, b"boom"))
    with (
        mock.fetcher(retries=1, obey_robots=False) as f,
        pytest.raises(FetchError, match=r"^http://blog\.example/: HTTP 500.*gave up after 2 attempts"),
    ):
        f.fetch(BLOG)
    assert len(mock.pages()) == 2


def test_a_connection_that_fails_every_time_is_unreachable(mock: MockSite) -> None:
    def refuse() -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    mock.serve("/", refuse)
    with mock.fetcher(retries=2, obey_robots=False) as f, pytest.raises(UnreachableError) as caught:
        f.fetch(BLOG)
    assert str(caught.value) == f"{BLOG}: connection failed: connection refused (gave up after 3 attempts)"
    assert len(mock.sleeps) == 2


def test_other_4xx_is_not_retried(mock: MockSite) -> None:
    with mock.fetcher() as f, pytest.raises(HTTPStatusError, match=r"/nope/: HTTP 404") as caught:
        f.fetch(BLOG + "nope/")
    assert caught.value.status == 404
    assert len(mock.pages()) == 1 and mock.sleeps == []


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_in_seconds_is_waited_for_exactly(mock: MockSite, status: int) -> None:
    mock.script("/", [reply(status, headers={"Retry-After": "7"})])
    with mock.fetcher(obey_robots=False) as f:
        assert f.fetch(BLOG).status == 200
    assert mock.sleeps == [7.0]  # the server's wish, not the backoff
    first, second = mock.pages()
    assert second.at - first.at == 7.0


def test_retry_after_as_an_http_date_is_waited_for_until_then(mock: MockSite) -> None:
    """RFC 9110 10.2.3: Retry-After is seconds or an HTTP date; the date is counted from now."""
    then = format_datetime(mock.clock.start + timedelta(seconds=120), usegmt=True)
    mock.script("/", [reply(503, headers={"Retry-After": then})])
    with mock.fetcher(obey_robots=False) as f:
        assert f.fetch(BLOG).status == 200
    assert mock.sleeps == [120.0]


def test_retry_after_as_a_date_in_the_past_is_no_wait(mock: MockSite) -> None:
    then = format_datetime(mock.clock.start - timedelta(hours=1), usegmt=True)
    mock.script("/", [reply(429, headers={"Retry-After": then})])
    with mock.fetcher(obey_robots=False) as f:
        assert f.fetch(BLOG).status == 200
    assert mock.sleeps == [0.0]


@pytest.mark.parametrize("after", ["3600", "date"])
def test_a_long_retry_after_fails_at_once(mock: MockSite, after: str) -> None:
    wait = MAX_RETRY_AFTER + 60
    value = (
        format_datetime(mock.clock.start + timedelta(seconds=wait), usegmt=True) if after == "date" else after
    )
    mock.serve("/", reply(503, headers={"Retry-After": value}))
    with mock.fetcher(obey_robots=False) as f, pytest.raises(FetchError, match=r"wait \d+ s, try later"):
        f.fetch(BLOG)
    assert len(mock.pages()) == 1 and mock.sleeps == []


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
def test_a_retry_after_that_is_not_digits_or_a_date_is_ignored(mock: MockSite, raw: bytes) -> None:
    """b"\\xb2" is a superscript two (latin-1), a digit to str.isdigit but not to float()."""
    mock.script("/", [lambda: httpx.Response(503, headers=[(b"Retry-After", raw)])])
    with mock.fetcher(obey_robots=False) as f:
        assert f.fetch(BLOG).status == 200
    assert len(mock.pages()) == 2
    assert len(mock.sleeps) == 1 and mock.sleeps[0] < 1  # the backoff, not a wish read from junk


# -- the delay between requests, and robots.txt's Crawl-delay ----------------------------------


def test_delay_spaces_requests_to_one_host(mock: MockSite) -> None:
    with mock.fetcher(delay=3) as f:
        for path in ("", "page/2/", "page/3/"):
            f.fetch(BLOG + path)
    # robots.txt first, at once; then each page 3 s after the request before it
    assert [r.at for r in mock.log] == [0, 3, 6, 9]
    assert mock.sleeps == [3, 3, 3]


def test_delay_is_per_host(mock: MockSite) -> None:
    with mock.fetcher(delay=3, obey_robots=False) as f:
        f.fetch(BLOG)
        f.fetch("http://other.example/")
        f.fetch(BLOG + "page/2/")
    assert mock.sleeps == [3]  # the other host did not wait for this one's slot


def robots(text: str) -> Reply:
    return reply(200, text.encode(), "text/plain")


@pytest.mark.parametrize(("delay", "crawl_delay", "waited"), [(0, "5", 5.0), (1, "2.5", 2.5), (7, "5", 7.0)])
def test_robots_crawl_delay_spaces_requests_unless_the_delay_is_longer(
    mock: MockSite, delay: float, crawl_delay: str, waited: float
) -> None:
    mock.serve("/robots.txt", robots(f"User-agent: *\nCrawl-delay: {crawl_delay}\n"))
    with mock.fetcher(delay=delay) as f:
        for path in ("", "page/2/", "page/3/"):
            f.fetch(BLOG + path)
    pages = [r.at for r in mock.pages()]
    assert [b - a for a, b in itertools.pairwise(pages)] == [waited, waited]
    assert mock.warnings == []


def test_crawl_delay_for_another_user_agent_is_not_ours(mock: MockSite) -> None:
    mock.serve("/robots.txt", robots("User-agent: otherbot\nCrawl-delay: 30\n\nUser-agent: *\nAllow: /\n"))
    with mock.fetcher() as f:
        f.fetch(BLOG)
        f.fetch(BLOG + "page/2/")
    assert mock.sleeps == []


@pytest.mark.parametrize("asked", ["86400", "1e300"])
def test_a_long_crawl_delay_is_capped_and_said_once(mock: MockSite, asked: str) -> None:
    mock.serve("/robots.txt", robots(f"User-agent: *\nCrawl-delay: {asked}\n"))
    with mock.fetcher() as f:
        for path in ("", "page/2/", "page/3/"):
            f.fetch(BLOG + path)
    assert mock.sleeps == [MAX_CRAWL_DELAY, MAX_CRAWL_DELAY]  # capped, not dropped
    assert mock.warnings == [
        f"blog.example: robots.txt asks for a Crawl-delay of {float(asked):g} s; waiting 60 s between "
        "requests instead (the longest archiver waits)"
    ]


@pytest.mark.parametrize("asked", ["nan", "-5", "inf", "1e400", "soon"])
def test_a_crawl_delay_that_is_not_a_sane_number_is_ignored(mock: MockSite, asked: str) -> None:
    mock.serve("/robots.txt", robots(f"User-agent: *\nCrawl-delay: {asked}\n"))
    with mock.fetcher() as f:
        f.fetch(BLOG)
        f.fetch(BLOG + "page/2/")
    assert mock.sleeps == [] and mock.warnings == []


# -- robots.txt ------------------------------------------------------------------------------


def test_robots_txt_is_honoured_unless_ignored(mock: MockSite) -> None:
    mock.serve("/robots.txt", robots("User-agent: *\nDisallow: /page/3/\n"))
    with mock.fetcher() as f:
        f.fetch(BLOG + "page/2/")
        with pytest.raises(RobotsDisallowed, match=r"/page/3/: disallowed by .*robots\.txt") as refused:
            f.fetch(BLOG + "page/3/")
    assert worded(refused.value).endswith("; pass --ignore-robots only if you may archive it anyway")
    assert mock.paths().count("/robots.txt") == 1  # read once per run
    assert "/page/3/" not in mock.paths()
    with mock.fetcher(obey_robots=False) as f:
        assert f.fetch(BLOG + "page/3/").status == 200


def test_robots_txt_applies_to_a_redirect_target(mock: MockSite) -> None:
    mock.serve("/robots.txt", robots("User-agent: *\nDisallow: /private/\n"))
    mock.serve("/old/", reply(301, content_type=None, headers={"Location": "/private/"}))
    with mock.fetcher() as f, pytest.raises(FetchError, match=r"/private/: disallowed by"):
        f.fetch(BLOG + "old/")
    assert "/private/" not in mock.paths()


def test_robots_txt_that_cannot_be_read_is_not_permission(mock: MockSite) -> None:
    mock.serve("/robots.txt", reply(503))
    with mock.fetcher(retries=0) as f, pytest.raises(FetchError, match=r"robots\.txt.*cannot tell"):
        f.fetch(BLOG)
    assert "/" not in mock.paths()


def test_a_missing_robots_txt_allows_everything(mock: MockSite) -> None:
    with mock.fetcher() as f:
        assert f.fetch(BLOG + "page/3/").status == 200
    assert mock.paths() == ["/robots.txt", "/page/3/"]
    assert f.robots_read()[0].body is None


def test_a_robots_txt_over_500_kib_is_read_up_to_500_kib(mock: MockSite) -> None:
    """RFC 9309: parse at least 500 KiB; a longer file is cut there, never refused (whatever
    --max-bytes is). The rule past the cut is not seen."""
    rules = b"User-agent: *\nDisallow: /page/3/\n"
    filler = b"# a long comment line, many times over\n" * (ROBOTS_MAX_BYTES // 40 + 1000)
    mock.serve("/robots.txt", reply(body=rules + filler + b"Disallow: /\n", content_type="text/plain"))
    with mock.fetcher(max_bytes=100_000) as f:
        assert f.fetch(BLOG).status == 200
        with pytest.raises(FetchError, match="disallowed by"):
            f.fetch(BLOG + "page/3/")
        kept = f.robots_read()[0].body
    assert kept is not None and kept.startswith(rules.decode()) and kept.endswith("over\n")
    assert len(kept) <= ROBOTS_MAX_BYTES


# -- redirects -------------------------------------------------------------------------------


def test_redirect_within_the_host_is_followed(mock: MockSite) -> None:
    mock.serve("/old/", reply(301, content_type=None, headers={"Location": "/page/2/"}))
    with mock.fetcher() as f:
        result = f.fetch(BLOG + "old/")
    assert result.url == BLOG + "old/"
    assert result.final_url == BLOG + "page/2/"
    assert result.body == (SITE / "page/2/index.html").read_bytes()


def test_off_site_redirect_is_refused_unless_allowed(mock: MockSite) -> None:
    elsewhere = "http://mirror.example/page/2/"
    mock.serve("/old/", reply(302, content_type=None, headers={"Location": elsewhere}))
    with (
        mock.fetcher() as f,
        pytest.raises(OffHostRedirect, match=r"another host \(http://mirror\.example/page/2/\)") as refused,
    ):
        f.fetch(BLOG + "old/")
    assert worded(refused.value).endswith("refused. Pass --allow-redirect-host mirror.example to follow it")
    assert [str(r.path) for r in mock.pages()] == ["/old/"]
    with mock.fetcher(redirect_hosts=frozenset({"mirror.example"})) as f:
        assert f.fetch(BLOG + "old/").final_url == elsewhere


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/", "/relative/"])
def test_only_http_and_https(mock: MockSite, url: str) -> None:
    with mock.fetcher() as f, pytest.raises(FetchError, match="not an http or https URL"):
        f.fetch(url)
    assert mock.log == []


def test_redirect_to_another_scheme_is_refused(mock: MockSite) -> None:
    mock.serve("/old/", reply(302, content_type=None, headers={"Location": "file:///etc/passwd"}))
    with mock.fetcher() as f, pytest.raises(FetchError, match="not an http or https URL"):
        f.fetch(BLOG + "old/")


# -- what is refused -------------------------------------------------------------------------


def test_non_html_is_refused(mock: MockSite) -> None:
    mock.serve("/feed/", reply(body=b"%PDF-1.4", content_type="application/pdf"))
    with (
        mock.fetcher() as f,
        pytest.raises(FetchError, match=r"/feed/: not an HTML page \(Content-Type: application/pdf"),
    ):
        f.fetch(BLOG + "feed/")


def test_a_declared_length_over_the_cap_is_refused_unread(mock: MockSite) -> None:
    read: list[bytes] = []

    def body() -> Iterator[bytes]:
        for _ in range(100):
            read.append(b"x" * 10_000)
            yield read[-1]

    mock.serve("/", lambda: httpx.Response(200, headers={"Content-Length": "1000000"}, stream=Stream(body())))
    with (
        mock.fetcher(max_bytes=50_000, obey_robots=False) as f,
        pytest.raises(TooLarge, match=r"too large \(Content-Length is 1,000,000 bytes") as refused,
    ):
        f.fetch(BLOG)
    assert read == []
    assert worded(refused.value).endswith("the limit is 50,000 bytes, see --max-bytes)")


def test_a_body_without_length_is_cut_off_as_it_passes_the_cap(mock: MockSite) -> None:
    read: list[bytes] = []

    def body() -> Iterator[bytes]:
        for _ in range(1000):  # 10 MB, if it were all read
            read.append(b"<p>x</p>" * 1250)
            yield read[-1]

    mock.serve("/", lambda: httpx.Response(200, stream=Stream(body())))
    with (
        mock.fetcher(max_bytes=50_000, obey_robots=False) as f,
        pytest.raises(TooLarge, match=r"too large \(the body passed it while downloading") as refused,
    ):
        f.fetch(BLOG)
    assert refused.value.limit == 50_000
    assert 5 <= len(read) <= 20  # stopped within a read piece past 50 kB


def test_a_body_at_the_cap_is_kept_whole(mock: MockSite) -> None:
    mock.serve("/", reply(body=b"x" * 50_000, length=False))
    with mock.fetcher(max_bytes=50_000, obey_robots=False) as f:
        assert f.fetch(BLOG).body == b"x" * 50_000


def test_size_cap_counts_decompressed_bytes(mock: MockSite) -> None:
    bomb = gzip.compress(b" " * 5_000_000)
    assert len(bomb) < 50_000
    mock.serve("/", html(bomb, "gzip"))
    with (
        mock.fetcher(max_bytes=1_000_000, obey_robots=False) as f,
        pytest.raises(FetchError, match="too large"),
    ):
        f.fetch(BLOG)


# -- content encodings -----------------------------------------------------------------------


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
def test_content_encodings_are_undone_in_reverse_order(mock: MockSite, coding: str) -> None:
    body = ENCODED[coding](PAGE)

    mock.serve("/", html(body, coding))
    with mock.fetcher(obey_robots=False) as f:
        assert f.fetch(BLOG).body == PAGE
    assert "gzip, deflate, zstd" in mock.log[0].headers["Accept-Encoding"]


def test_brotli_is_undone_when_installed(mock: MockSite) -> None:
    brotli = pytest.importorskip("brotli")
    mock.serve("/", html(brotli.compress(PAGE), "br"))
    with mock.fetcher(obey_robots=False) as f:
        assert f.fetch(BLOG).body == PAGE
    assert "br" in mock.log[0].headers["Accept-Encoding"]


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
def test_a_body_that_cannot_be_decoded_is_refused(
    mock: MockSite, coding: str, body: bytes, message: str
) -> None:
    mock.serve("/", html(body, coding))
    with mock.fetcher(obey_robots=False) as f, pytest.raises(FetchError) as caught:
        f.fetch(BLOG)
    assert str(caught.value).startswith("http://blog.example/: response could not be decompressed: ")
    assert message in str(caught.value)


def test_an_http_only_run_never_loads_the_ca_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    """A verifying TLS context costs about 25 ms at every cron start: it is made on the first
    https connection, once, and never for a run over http-only blogs."""
    made: list[object] = []
    real = httpx.create_ssl_context

    def counted(*args: Any, **kwargs: Any) -> Any:
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(httpx, "create_ssl_context", counted)
    transport = DeadlineTransport()
    with SiteServer(SITE) as site, Fetcher(FetchOptions(delay=0), transport=transport) as fetcher:
        assert fetcher.fetch(site.url).status == 200
    assert made == []
    pool = transport._pool
    for _ in range(2):
        pool.create_connection(httpcore.Origin(b"https", b"blog.example", 443))
    assert len(made) == 1 and made[0].verify_mode.name == "CERT_REQUIRED"  # type: ignore[attr-defined]
