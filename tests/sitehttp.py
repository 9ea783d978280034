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
``serve`` (a fixed reply for a path), ``hang``, ``content_type`` (for served files), ``log``.
"""

from __future__ import annotations

import hashlib
import sys
import threading
import time
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

    def _answer(self, path: str, headers: dict[str, str]) -> Reply | None:
        """The reply for one request; None means hang."""
        with self._lock:
            self.log.append(Request(path, headers, time.monotonic()))
            script = self._script.get(path)
            if script:
                return script.pop(0)
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
            path = urlsplit(self.path).path
            reply = server._answer(path, dict(self.headers.items()))
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
