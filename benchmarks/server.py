"""A local blog for the crawl benchmark: /, /page/N/, robots.txt, with latency and ETags.

Run as its own process (so its Python work does not share the crawler's interpreter lock):

    python benchmarks/server.py --pages 200 --latency 0.02

prints ``PORT <n>`` once it listens on 127.0.0.1. Every listing response waits ``--latency``
seconds first (a real server's think time and network round trip), sends an ``ETag`` and a
``Last-Modified``, and answers ``If-None-Match`` / ``If-Modified-Since`` with 304. GET
/_bench/stats returns the request counts as JSON (not delayed, not counted); /_bench/span the
seconds from the first counted request's arrival to the last one's answer (the crawl as the
server saw it, whichever client made it, its start-up left out); /_bench/reset sets both to zero.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # archiver, installed or not

from pages import site_page

LAST_MODIFIED = "Mon, 01 Jan 2024 00:00:00 GMT"


class Blog:
    def __init__(self, pages: int, latency: float) -> None:
        self.latency = latency
        self.bodies: dict[str, bytes] = {}
        for n in range(1, pages + 1):
            self.bodies["/" if n == 1 else f"/page/{n}/"] = site_page(n, pages)
        self.etags = {path: '"' + hashlib.sha256(b).hexdigest()[:20] + '"' for path, b in self.bodies.items()}
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        #: perf_counter of the first counted request's arrival and of the last answer sent
        self.first: float | None = None
        self.last = 0.0

    def count(self, kind: str) -> None:
        with self.lock:
            self.counts[kind] += 1

    def arrived(self) -> None:
        with self.lock:
            if self.first is None:
                self.first = time.perf_counter()

    def answered(self) -> None:
        with self.lock:
            self.last = time.perf_counter()

    def reset(self) -> None:
        with self.lock:
            self.counts.clear()
            self.first = None
            self.last = 0.0


def make_handler(blog: Blog) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/_bench/stats":
                with blog.lock:
                    body = json.dumps(dict(blog.counts)).encode()
                self._send(200, body, {"Content-Type": "application/json"})
                return
            if path == "/_bench/span":
                with blog.lock:
                    span = blog.last - blog.first if blog.first is not None else 0.0
                self._send(200, json.dumps({"seconds": span}).encode(), {"Content-Type": "application/json"})
                return
            if path == "/_bench/reset":
                blog.reset()
                self._send(200, b"{}", {"Content-Type": "application/json"})
                return
            blog.arrived()
            try:
                status, body, headers = self._answer(path)
            finally:
                # before the answer leaves: a client that has read it and asks for the span
                # at once must find it counted
                blog.answered()
            self._send(status, body, headers)

        def _answer(self, path: str) -> tuple[int, bytes, dict[str, str]]:
            if blog.latency:
                time.sleep(blog.latency)
            if path == "/robots.txt":
                blog.count("robots")
                return 200, b"User-agent: *\nAllow: /\n", {"Content-Type": "text/plain"}
            if path.endswith("/index.html"):
                path = path.removesuffix("index.html")
            if not path.endswith("/"):
                path += "/"
            body = blog.bodies.get(path)
            if body is None:
                blog.count("other")
                return 404, b"not found", {"Content-Type": "text/plain"}
            etag = blog.etags[path]
            headers = {"ETag": etag, "Last-Modified": LAST_MODIFIED, "Cache-Control": "max-age=0"}
            inm = self.headers.get("If-None-Match")
            ims = self.headers.get("If-Modified-Since")
            if (inm and etag in [t.strip() for t in inm.split(",")]) or (not inm and ims == LAST_MODIFIED):
                blog.count("pages_304")
                return 304, b"", headers
            blog.count("pages_200")
            return 200, body, {**headers, "Content-Type": "text/html; charset=utf-8"}

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that closes its kept-alive connection at the end is no error worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    blog = Blog(args.pages, args.latency)
    server = Server(("127.0.0.1", args.port), make_handler(blog))
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
