"""A real HTTP server on 127.0.0.1 for tests: serves a directory, with knobs for misbehaving.

Tests talk to it over real sockets (no network mocks), so the fetcher's timeouts, streaming size
cap, redirects and conditional requests are exercised the way a real site would exercise them.

    with SiteServer(Path("fixtures/site")) as site:
        site.script("/page/2/", [Reply(503), Reply(503)])   # then the file itself
        site.hang("/page/3/")                                # never answers
        ...crawl site.url...
        assert site.paths() == ["/robots.txt", "/", "/page/2/", ...]

Knobs: ``root`` (swap the directory served), ``validators`` (ETag/Last-Modified and 304s),
``delay`` (seconds before every response), ``script`` (replies served in turn before the file),
``serve`` (a fixed reply for a path), ``answer`` (a function of the path and query, for pages
made up on request), ``hang``, ``content_type`` (for served files), ``log``.

:func:`write_blog` writes a paginated blog of any size in the fixture site's markup (the
markup fixtures/site/profile.toml reads); :func:`blog_page` makes one such page.
"""

from __future__ import annotations

import hashlib
import html
import json
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Reply:
    """One canned response. ``chunked`` sends no Content-Length (the body's size is a surprise)."""

    status: int = 200
    body: bytes = b""
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    chunked: bool = False


@dataclass(frozen=True)
class Request:
    """One request as the server saw it."""

    path: str
    headers: dict[str, str]
    at: float

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


class SiteServer:
    """A threaded HTTP server on 127.0.0.1 and a free port, started and stopped as a context."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.validators = True
        self.delay = 0.0
        self.content_type = "text/html; charset=utf-8"
        self.log: list[Request] = []
        self._script: dict[str, list[Reply]] = {}
        self._fixed: dict[str, Reply] = {}
        self._hang: set[str] = set()
        self._answer_with: Callable[[str], Reply | None] | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._httpd = _QuietServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> SiteServer:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- knobs -----------------------------------------------------------------------------

    def script(self, path: str, replies: list[Reply]) -> None:
        """Answer the next requests for ``path`` with ``replies`` in turn, then normally."""
        with self._lock:
            self._script[path] = list(replies)

    def serve(self, path: str, reply: Reply) -> None:
        """Always answer ``path`` with ``reply`` (a page that is not in ``root``, robots.txt...)."""
        self._fixed[path] = reply

    def answer(self, make: Callable[[str], Reply | None]) -> None:
        """Answer each request with ``make(path?query)``; where it gives None, as before."""
        self._answer_with = make

    def hang(self, path: str) -> None:
        """Accept requests for ``path`` and never answer them (until the server stops)."""
        self._hang.add(path)

    def paths(self) -> list[str]:
        """Paths requested so far, in order."""
        with self._lock:
            return [r.path for r in self.log]

    def page_requests(self) -> list[Request]:
        """Requests so far other than robots.txt."""
        with self._lock:
            return [r for r in self.log if r.path != "/robots.txt"]

    # -- answering -------------------------------------------------------------------------

    def _answer(self, target: str, headers: dict[str, str]) -> Reply | None:
        """The reply for one request; None means hang."""
        path = urlsplit(target).path
        with self._lock:
            self.log.append(Request(path, headers, time.monotonic()))
            script = self._script.get(path)
            if script:
                return script.pop(0)
        made = self._answer_with(target) if self._answer_with else None
        if made is not None:
            return made
        if path in self._hang:
            return None
        if path in self._fixed:
            return self._fixed[path]
        return self._file(path, headers)

    def _file(self, path: str, headers: dict[str, str]) -> Reply:
        relative = path.lstrip("/")
        target = (self.root / relative).resolve()
        if target.is_dir() or not relative:
            target = target / "index.html"
        if not target.is_file() or not target.is_relative_to(self.root.resolve()):
            return Reply(404, b"not found", "text/plain")
        body = target.read_bytes()
        extra: dict[str, str] = {}
        if self.validators:
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            mtime = int(target.stat().st_mtime)
            extra = {"ETag": etag, "Last-Modified": formatdate(mtime, usegmt=True)}
            if _not_modified(headers, etag, mtime):
                return Reply(304, b"", None, extra)
        return Reply(200, body, self.content_type, extra)


# -- generated blogs -------------------------------------------------------------------------

_SEED_POSTS = json.loads((Path(__file__).parent.parent / "fixtures/site/posts.json").read_text("utf-8"))
_CATEGORIES = ["Deep Learning", "NLP", "Python", "3D Model", "Large Model"]


def blog_page(numbers: Sequence[int], next_href: str | None, *, permalinks: bool = True) -> bytes:
    """A listing page in the fixture site's markup showing posts ``numbers`` (1 = the oldest post).

    Post n always shows the same title, excerpt, date and category, so the same post looks the
    same on whichever page it lands; ``permalinks=False`` leaves the cards without links.
    """
    cards = []
    for n in numbers:
        seed = _SEED_POSTS[n % len(_SEED_POSTS)]
        title = html.escape(f"{seed['title']} ({n})")
        meta = f'<time datetime="2025-{1 + n % 12:02d}-{1 + n % 28:02d}">x</time>' if n % 3 else ""
        if n % 4:
            meta += (
                f'<span class="post-category"><a href="/categories/{n % 5}/">{_CATEGORIES[n % 5]}</a></span>'
            )
        heading = f'<a href="/posts/post-{n}/">{title}</a>' if permalinks else title
        cards.append(
            f'<article class="post-card"><header><h2 class="post-title">{heading}</h2>'
            f'<div class="post-meta">{meta}</div></header>'
            f'<div class="post-excerpt"><p>#{n} {html.escape(seed["excerpt"])}</p></div></article>'
        )
    nav = f'<a class="next" rel="next" href="{next_href}">下一页 »</a>' if next_href else ""
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>Generated blog</title>'
        f'</head><body><main class="content">{"".join(cards)}<nav class="pagination">{nav}</nav>'
        "</main></body></html>"
    ).encode()


def write_blog(root: Path, posts: int, per_page: int) -> int:
    """Write a blog of ``posts`` posts, newest first, ``per_page`` a page: ``/``, ``/page/2/``...

    Writing it again with more posts is publishing them: the new ones come first and push the
    others down the pages. Pages the blog no longer has are removed. Returns how many pages it has.
    """
    pages = -(-posts // per_page)
    for page in range(1, pages + 1):
        newest = posts - (page - 1) * per_page
        numbers = range(newest, max(0, newest - per_page), -1)
        body = blog_page(numbers, f"/page/{page + 1}/" if page < pages else None)
        target = root / "index.html" if page == 1 else root / "page" / str(page) / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
    for extra in (root / "page").glob("*/index.html") if (root / "page").is_dir() else ():
        if int(extra.parent.name) > pages:
            extra.unlink()
    return pages


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up early (timeouts, size caps) are expected here, not errors."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _not_modified(headers: dict[str, str], etag: str, mtime: int) -> bool:
    """RFC 9110 13.2.2: If-None-Match decides when present; If-Modified-Since only without it."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if "if-none-match" in lowered:
        return lowered["if-none-match"] == etag
    try:
        return parsedate_to_datetime(lowered["if-modified-since"]).timestamp() >= mtime
    except (KeyError, TypeError, ValueError):
        return False


def _handler(server: SiteServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            reply = server._answer(self.path, dict(self.headers.items()))
            if reply is None:
                server._stopping.wait()
                return
            if server.delay:
                time.sleep(server.delay)
            self.send_response(reply.status)
            if reply.content_type:
                self.send_header("Content-Type", reply.content_type)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            try:
                if reply.chunked:
                    for start in range(0, len(reply.body), 65536):
                        chunk = reply.body[start : start + 65536]
                        self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                    self.wfile.write(b"0\r\n\r\n")
                elif reply.status != 304:
                    self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client stopped reading: a size cap did that

        def log_message(self, format: str, *args: object) -> None:
            pass  # the request log is in server.log; keep pytest's output clean

    return Handler
