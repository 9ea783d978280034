"""Hostile servers on 127.0.0.1: every misbehaviour is bounded in time and memory, refused or
stored safely, and named in the message (the URL, and what was wrong).

The servers here speak raw bytes over a socket, so they can do what no well-behaved HTTP library
would: never end a body, trickle one byte a second, lie about Content-Length, send headers that
are not headers, redirect in circles or to file: URLs. Each case is run through the library
(:class:`archiver.fetcher.Fetcher`, fast) and the worst through the real command line.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest
import zstandard

from archiver.errors import FetchError
from archiver.fetcher import Fetcher, FetchOptions

from conftest import SITE, SITE_PROFILE, Runner
from helpers import ARCHIVER_ENV, entry_count

Handler = Callable[[socket.socket, str], None]
PAGE = (SITE / "index.html").read_bytes()
TIMEOUT = 1.5


class RawServer:
    """Accepts connections on 127.0.0.1 and lets ``handler(sock, path)`` write whatever it likes."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.stop = threading.Event()
        self.requests: list[str] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/"

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with closing(conn):
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
            path = head.split(b" ", 2)[1].decode("latin-1")
            self.requests.append(path)
            with contextlib.suppress(OSError):  # the client gave up: the point of most servers here
                self.handler(conn, path)

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], RawServer]]:
    servers: list[RawServer] = []

    def start(handler: Handler) -> RawServer:
        servers.append(RawServer(handler))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def fetch(url: str, **options: object) -> FetchError:
    """Fetch ``url`` expecting a refusal; returns the error (the test checks its message)."""
    settings: dict[str, object] = {
        "delay": 0.0,
        "timeout": TIMEOUT,
        "retries": 0,
        "max_bytes": 200_000,
        "obey_robots": False,
    }
    settings.update(options)
    with Fetcher(FetchOptions(**settings)) as fetcher, pytest.raises(FetchError) as caught:  # type: ignore[arg-type]
        fetcher.fetch(url)
    return caught.value


def head(status: str = "200 OK", *headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def bounded(seconds: float) -> Callable[[Callable[[], object]], object]:
    """Run ``call`` and fail if it took longer than ``seconds``."""

    def run(call: Callable[[], object]) -> object:
        started = time.monotonic()
        result = call()
        took = time.monotonic() - started
        assert took < seconds, f"took {took:.1f}s, limit {seconds}s"
        return result

    return run


# -- bodies ------------------------------------------------------------------------------------


def endless_body(conn: socket.socket, path: str) -> None:
    conn.sendall(head("200 OK", "Content-Type: text/html", "Transfer-Encoding: chunked"))
    chunk = b"<p>" + b"x" * 8192 + b"</p>"
    while True:
        conn.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")


def test_a_body_that_never_ends_is_cut_at_max_bytes(serve: Callable[[Handler], RawServer]) -> None:
    server = serve(endless_body)
    error = bounded(10)(lambda: fetch(server.url))
    assert isinstance(error, FetchError)
    assert server.url in str(error) and "too large" in str(error) and "200,000" in str(error)


def endless_without_length(conn: socket.socket, path: str) -> None:
    conn.sendall(head("200 OK", "Content-Type: text/html", "Connection: close"))
    while True:
        conn.sendall(b"<div>" * 4096)


def test_a_body_without_length_that_never_ends(serve: Callable[[Handler], RawServer]) -> None:
    server = serve(endless_without_length)
    error = bounded(10)(lambda: fetch(server.url))
    assert server.url in str(error) and "too large" in str(error)


MIB = 1 << 20


@functools.cache
def gzip_of_zeros(mebibytes: int) -> bytes:
    """gzip of that many MiB of zeros, made in a moment: one compressed MiB, ended by a full
    flush (which makes it stand alone), repeated."""
    zeros = bytes(MIB)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    one = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    end = deflate.flush()
    crc = 0
    for _ in range(mebibytes):
        crc = zlib.crc32(zeros, crc)
    trailer = struct.pack("<II", crc, (mebibytes * MIB) & 0xFFFFFFFF)
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + one * mebibytes + end + trailer


@functools.cache
def zstd_of_zeros(mebibytes: int) -> bytes:
    """One zstd frame of that many MiB of zeros (1 GiB is 32 KB)."""
    compressor = zstandard.ZstdCompressor(level=1).compressobj()
    zeros = bytes(MIB)
    return b"".join(compressor.compress(zeros) for _ in range(mebibytes)) + compressor.flush()


@functools.cache
def brotli_of_zeros(mebibytes: int) -> bytes:
    brotli = pytest.importorskip("brotli")
    compressor = brotli.Compressor(quality=5)
    zeros = bytes(MIB)
    body: bytes = b"".join(compressor.process(zeros) for _ in range(mebibytes)) + compressor.finish()
    return body


#: Content-Encoding -> a small body that decodes to at least 512 MiB of zeros
BOMBS: dict[str, Callable[[], bytes]] = {
    "gzip": lambda: gzip_of_zeros(1024),  # 1 MB
    "gzip, gzip": lambda: gzip.compress(gzip_of_zeros(1024)),  # 2.5 KB
    "zstd": lambda: zstd_of_zeros(1024),  # 32 KB
    "br": lambda: brotli_of_zeros(512),  # 1.6 KB
}


def encoded(coding: str, body: Callable[[], bytes]) -> Handler:
    """Serves ``body()`` (made on the first request) with ``Content-Encoding: coding``."""

    def handler(conn: socket.socket, path: str) -> None:
        data = body()
        conn.sendall(
            head(
                "200 OK",
                "Content-Type: text/html",
                f"Content-Encoding: {coding}",
                f"Content-Length: {len(data)}",
            )
            + data
        )

    return handler


@pytest.mark.parametrize("coding", ["gzip", "gzip, gzip", "zstd", "br"])
def test_a_decompression_bomb_is_refused_before_it_fills_memory(
    serve: Callable[[Handler], RawServer], coding: str
) -> None:
    server = serve(encoded(coding, BOMBS[coding]))
    error = bounded(10)(lambda: fetch(server.url, max_bytes=1_000_000))
    assert isinstance(error, FetchError)
    assert server.url in str(error) and "too large" in str(error) and "1,000,000 bytes" in str(error)


def trickle(conn: socket.socket, path: str) -> None:
    conn.sendall(head("200 OK", "Content-Type: text/html", f"Content-Length: {len(PAGE)}"))
    for byte in PAGE:
        conn.sendall(bytes([byte]))
        time.sleep(0.2)  # five bytes a second: each read is quick, the whole never is


def test_a_slow_trickle_is_bounded_by_the_timeout(serve: Callable[[Handler], RawServer]) -> None:
    server = serve(trickle)
    error = bounded(TIMEOUT * 3 + 2)(lambda: fetch(server.url))
    assert server.url in str(error) and f"{TIMEOUT:g} s" in str(error)


def trickled_headers(conn: socket.socket, path: str) -> None:
    for byte in head("200 OK", *(f"X-Pad-{n}: {'y' * 50}" for n in range(1000))):
        conn.sendall(bytes([byte]))
        time.sleep(0.2)


@pytest.mark.timeout(30)
def test_headers_trickled_one_byte_at_a_time_are_bounded(serve: Callable[[Handler], RawServer]) -> None:
    server = serve(trickled_headers)
    error = bounded(TIMEOUT * 3 + 2)(lambda: fetch(server.url))
    assert server.url in str(error)


def silent(conn: socket.socket, path: str) -> None:
    time.sleep(30)


def test_a_server_that_never_answers(serve: Callable[[Handler], RawServer]) -> None:
    server = serve(silent)
    error = bounded(TIMEOUT * 2 + 2)(lambda: fetch(server.url))
    assert server.url in str(error) and "no answer" in str(error)


# -- lengths and headers -----------------------------------------------------------------------


def canned(raw: bytes, linger: float = 0.0) -> Handler:
    def handler(conn: socket.socket, path: str) -> None:
        conn.sendall(raw)
        time.sleep(linger)

    return handler


LYING = {
    "longer than the body": head("200 OK", "Content-Type: text/html", "Content-Length: 999999") + PAGE[:100],
    "not a number": head("200 OK", "Content-Type: text/html", "Content-Length: abc") + PAGE[:100],
    "negative": head("200 OK", "Content-Type: text/html", "Content-Length: -5") + PAGE[:100],
    "two different": head("200 OK", "Content-Length: 10", "Content-Length: 20") + PAGE[:20],
    "huge": head("200 OK", "Content-Type: text/html", f"Content-Length: {10**30}") + PAGE[:100],
}
MALFORMED = {
    "garbage status line": b"HTTX/9 OK\r\n\r\n" + PAGE[:100],
    "no status code": b"HTTP/1.1 \r\nContent-Length: 3\r\n\r\nabc",
    "header without colon": head("200 OK", "Content-Type text/html", "Content-Length: 3") + b"abc",
    "NUL in a header": head("200 OK", "Content-Type: text/\0html", "Content-Length: 3") + b"abc",
    "a 1 MB header": head("200 OK", "X-Big: " + "a" * 1_000_000, "Content-Length: 3") + b"abc",
    "binary junk": bytes(range(256)) * 40,
    "nothing at all": b"",
    "status 999": head("999 Whatever", "Content-Length: 3") + b"abc",
    "not html": head("200 OK", "Content-Type: application/octet-stream", "Content-Length: 3") + b"abc",
}


@pytest.mark.parametrize("case", list(LYING))
def test_invalid_or_lying_content_length(serve: Callable[[Handler], RawServer], case: str) -> None:
    server = serve(canned(LYING[case], linger=TIMEOUT + 0.5))
    try:
        fetch(server.url)
    except BaseException as exc:  # pragma: no cover - fetch() itself reports non-FetchErrors
        raise AssertionError(f"{case}: {type(exc).__name__}: {exc}") from None


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_responses_are_refused_with_the_url(
    serve: Callable[[Handler], RawServer], case: str
) -> None:
    server = serve(canned(MALFORMED[case]))
    error = bounded(TIMEOUT * 2 + 2)(lambda: fetch(server.url))
    assert server.url.rstrip("/") in str(error), error


def test_a_body_shorter_than_announced_is_not_stored(serve: Callable[[Handler], RawServer]) -> None:
    """The server closes the connection early: a cut page is an error, never a stored capture."""
    server = serve(
        canned(head("200 OK", "Content-Type: text/html", f"Content-Length: {len(PAGE)}") + PAGE[:500])
    )
    error = fetch(server.url)
    assert server.url in str(error)


# -- redirects ---------------------------------------------------------------------------------


def redirect_to(location: Callable[[str], str]) -> Handler:
    def handler(conn: socket.socket, path: str) -> None:
        conn.sendall(head("302 Found", f"Location: {location(path)}", "Content-Length: 0"))

    return handler


def test_a_redirect_loop_stops(serve: Callable[[Handler], RawServer]) -> None:
    server = serve(redirect_to(lambda path: "/b" if path != "/b" else "/a"))
    error = bounded(10)(lambda: fetch(server.url))
    assert server.url in str(error) and "redirects" in str(error)
    assert len(server.requests) <= 12


def test_an_endless_redirect_chain_stops(serve: Callable[[Handler], RawServer]) -> None:
    server = serve(redirect_to(lambda path: f"/r{len(path)}{path}"))
    error = bounded(10)(lambda: fetch(server.url))
    assert "more than" in str(error) and "redirects" in str(error)


def test_a_redirect_to_another_host_is_refused(serve: Callable[[Handler], RawServer]) -> None:
    server = serve(redirect_to(lambda path: "http://evil.example/phish/"))
    error = fetch(server.url)
    assert server.url in str(error) and "evil.example" in str(error) and "another host" in str(error)


@pytest.mark.parametrize(
    "location",
    [
        "file:///etc/passwd",
        "javascript:alert(1)",
        "ftp://127.0.0.1/x",
        "data:text/html,<p>x</p>",
        "gopher://x/",
    ],
)
def test_a_redirect_to_a_non_http_scheme_is_refused(
    serve: Callable[[Handler], RawServer], location: str
) -> None:
    server = serve(redirect_to(lambda path: location))
    error = fetch(server.url)
    assert server.url in str(error)
    # named as the refused target, or (when httpx cannot even parse it) as an invalid URL
    assert (location in str(error) and "not an http or https URL" in str(error)) or "invalid URL" in str(
        error
    )


# -- through the command line ------------------------------------------------------------------


_MEASURED = """
import atexit, runpy, sys
path = sys.argv.pop(1)
def report():  # VmHWM: this process image's peak (ru_maxrss would include the parent's, kept by exec)
    peak = [line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM")]
    with open(path, "w") as out:
        out.write(peak[0] if peak else "1")
atexit.register(report)
sys.argv[0] = "archiver"
runpy.run_module("archiver", run_name="__main__")
"""


def archiver(*args: str | Path) -> tuple[subprocess.CompletedProcess[str], float, int]:
    """Run the command; returns the result, seconds taken and its own peak memory (KiB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-c", _MEASURED, rss.name, *map(str, args)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env=ARCHIVER_ENV,
        )
        took = time.monotonic() - started
        peak = int(rss.read() or 0)
    return result, took, peak


HOSTILE_CLI = {
    "endless body": (endless_body, "too large"),
    **{
        f"{coding} bomb": (
            encoded(coding, BOMBS[coding]),
            "too large (the body passed it while downloading; the limit is 2,000,000 bytes",
        )
        for coding in BOMBS
    },
    "trickle": (trickle, "within"),
    "redirect loop": (redirect_to(lambda p: "/b" if p != "/b" else "/a"), "redirects"),
    "redirect to file:": (redirect_to(lambda p: "file:///etc/passwd"), "not an http or https URL"),
    "garbage": (canned(MALFORMED["binary junk"]), ""),
}


@pytest.mark.parametrize("case", list(HOSTILE_CLI))
def test_crawl_of_a_hostile_server_is_one_message_and_stores_nothing(
    serve: Callable[[Handler], RawServer], tmp_path: Path, case: str
) -> None:
    handler, words = HOSTILE_CLI[case]
    server = serve(handler)
    db = tmp_path / "archive.db"
    result, took, peak = archiver(
        "crawl", server.url, "--db", db, "--delay", "0", "--timeout", str(TIMEOUT), "--retries", "1",
        "--max-bytes", "2000000", "--ignore-robots", "--profile", SITE_PROFILE,
    )  # fmt: skip
    assert took < TIMEOUT * 4 + 10, f"took {took:.1f}s"
    assert 0 < peak < 300_000, f"peak memory {peak} KiB"
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("archiver: error: "), result.stderr
    assert server.url in lines[0] and words in lines[0]
    assert not db.exists() or entry_count(db) == 0


def test_card_links_with_javascript_or_file_schemes_are_stored_safely(run: Runner, tmp_path: Path) -> None:
    """A page whose cards link to javascript:/file: URLs: the cards are archived without those
    links (never a permalink), and a next-page link to file: is never followed."""
    from sitehttp import SiteServer

    site = tmp_path / "site"
    site.mkdir()
    cards = "".join(
        f'<article class="post-card"><h2 class="post-title"><a href="{href}">Post {n}</a></h2>'
        f'<div class="post-excerpt">Excerpt of post {n} with enough words to be a card.</div></article>'
        for n, href in enumerate(
            ["javascript:alert(document.cookie)", "JAVASCRIPT:alert(1)", "file:///etc/passwd",
             " java\tscript:alert(1)", "/posts/fine/"]
        )
    )  # fmt: skip
    page = f'<html><body><main>{cards}</main><a class="next" href="file:///etc/passwd">next</a></body></html>'
    (site / "index.html").write_text(page, encoding="utf-8")
    db = tmp_path / "archive.db"
    with SiteServer(site) as server:
        result = run(
            "crawl", server.url, "--db", db, "--delay", "0", "--profile", SITE_PROFILE, "--retries", "0"
        )
        assert result.exit_code == 0, result.stderr
        assert server.paths().count("/") == 1
    with closing(__import__("sqlite3").connect(db)) as conn:
        urls = [r[0] for r in conn.execute("SELECT url FROM current_entries ORDER BY entry_id")]
        titles = [r[0] for r in conn.execute("SELECT title FROM current_entries ORDER BY entry_id")]
    assert titles == [f"Post {n}" for n in range(5)]
    assert urls == [None, None, None, None, server.url + "posts/fine/"]


def test_crawl_timeout_bounds_a_response_whose_headers_trickle(
    serve: Callable[[Handler], RawServer], tmp_path: Path
) -> None:
    """--timeout is the whole response: headers sent a byte every 0.2 s end the run at --timeout
    (before, each byte restarted httpx's per-read timeout and the run went on for minutes)."""
    server = serve(trickled_headers)
    result, took, _ = archiver(
        "crawl", server.url, "--db", tmp_path / "archive.db", "--timeout", "2", "--retries", "0",
        "--ignore-robots",
    )  # fmt: skip
    assert result.returncode == 1, result
    assert (
        result.stderr.strip()
        == f"archiver: error: {server.url}: no answer within 2 s (gave up after 1 attempt)"
    )
    assert took < 2 + 4, f"took {took:.1f}s"  # the timeout, plus starting Python


def test_a_host_that_refuses_connections_is_named_not_its_robots_txt(run: Runner, tmp_path: Path) -> None:
    """robots.txt is asked for first, but a host that takes no connections is a connection
    failure of the page asked for, not a robots.txt problem."""
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/blog/"
    # the port is closed again: connecting to it is refused
    result = run("crawl", url, "--db", tmp_path / "archive.db", "--retries", "0")
    assert result.exit_code == 1, result
    assert result.stderr.startswith(f"archiver: error: {url}: connection failed: ")
    assert "robots" not in result.stderr and "Traceback" not in result.stderr
