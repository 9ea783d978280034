"""Many blogs on 127.0.0.1 from one process: one port each, or several blogs under paths of one port.

For `archiver run` over a watch list: one asyncio loop listens on every port, serves each blog's
listing pages (``PREFIX/``, ``PREFIX/page/N/``) in the fixture site's markup with an ETag and
304s, and logs every request with when it arrived and when its answer was sent, so a test can
check that no host ever had two requests at once. A blog can be made to answer 503, to serve a
page with no cards, or (its port closed) to refuse connections; ``publish`` adds a post.

    with ManySites([Blog(port_slot=i) for i in range(200)]) as sites:
        urls = sites.start_urls()

Also a script, for the benchmark (its own process, so its work does not share archiver's GIL):

    python tests/manysites.py --blogs 1000 --latency 0.02     # prints URL lines, then READY
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sitehttp import blog_page


@dataclass
class Blog:
    """One blog: where it lives, how many posts it has, and how it misbehaves."""

    port_slot: int  # blogs with the same slot share one port (one host:port)
    prefix: str = ""  # "" for a blog at the root, "/blogs/ada" for one under a path
    posts: int = 12
    per_page: int = 5
    #: "ok", "503" (every page), "no-cards" (page 1 shows no post) or "refuse" (port closed)
    mode: str = "ok"
    #: the Retry-After its 503s send, in seconds
    retry_after: int = 120

    def page(self, number: int) -> bytes | None:
        pages = -(-self.posts // self.per_page)
        if not 1 <= number <= pages:
            return None
        newest = self.posts - (number - 1) * self.per_page
        numbers = range(newest, max(0, newest - self.per_page), -1)
        next_href = f"{self.prefix}/page/{number + 1}/" if number < pages else None
        body = blog_page(numbers if self.mode != "no-cards" else [], next_href)
        # each blog's posts have permalinks of their own, under its path
        tag = hashlib.sha256(f"{self.port_slot}{self.prefix}".encode()).hexdigest()[:6]
        return body.replace(b'href="/posts/post-', f'href="{self.prefix}/posts/{tag}-'.encode())


@dataclass(frozen=True)
class Logged:
    port: int
    path: str
    arrived: float
    #: when the answer was handed to the socket (the client may start its delay once it has it)
    answered: float
    status: int


@dataclass
class ManySites:
    blogs: list[Blog]
    latency: float = 0.0
    log: list[Logged] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._servers: dict[int, asyncio.base_events.Server] = {}
        self.ports: dict[int, int] = {}  # port slot -> port
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> ManySites:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen_all(), self._loop).result(timeout=60)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        asyncio.run_coroutine_threadsafe(self._close_all(), self._loop).result(timeout=60)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _listen_all(self) -> None:
        for slot in sorted({blog.port_slot for blog in self.blogs}):
            server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
            self._servers[slot] = server
            self.ports[slot] = server.sockets[0].getsockname()[1]
        for slot, blogs in self._by_slot().items():
            if all(blog.mode == "refuse" for blog in blogs):
                self._servers.pop(slot).close()

    async def _close_all(self) -> None:
        for server in self._servers.values():
            server.close()

    def _by_slot(self) -> dict[int, list[Blog]]:
        slots: dict[int, list[Blog]] = {}
        for blog in self.blogs:
            slots.setdefault(blog.port_slot, []).append(blog)
        return slots

    # -- what tests ask ----------------------------------------------------------------------

    def url(self, blog: Blog) -> str:
        return f"http://127.0.0.1:{self.ports[blog.port_slot]}{blog.prefix}/"

    def start_urls(self) -> list[str]:
        return [self.url(blog) for blog in self.blogs]

    def recover(self) -> None:
        """Every blog behaves again; a port that refused connections listens again."""
        for blog in self.blogs:
            blog.mode = "ok"
        asyncio.run_coroutine_threadsafe(self._reopen(), self._loop).result(timeout=60)

    async def _reopen(self) -> None:
        for slot, port in self.ports.items():
            if slot not in self._servers:
                self._servers[slot] = await asyncio.start_server(self._serve, "127.0.0.1", port)

    def publish(self, blog: Blog, posts: int = 1) -> None:
        blog.posts += posts

    def page_requests(self) -> list[Logged]:
        return [entry for entry in self.log if not entry.path.endswith("/robots.txt")]

    # -- serving -----------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        port = writer.get_extra_info("sockname")[1]
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                arrived = time.monotonic()
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in lines[1:] if line)
                }
                if self.latency:
                    await asyncio.sleep(self.latency)
                status, body, extra = self._answer(port, path, headers.get("if-none-match"))
                response = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", *extra, "", ""]
                answered = time.monotonic()  # the client cannot have the answer before this
                writer.write("\r\n".join(response).encode("latin-1") + body)
                await writer.drain()
                self.log.append(Logged(port, path, arrived, answered, status))
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    def _answer(self, port: int, path: str, etag_seen: str | None) -> tuple[int, bytes, list[str]]:
        slot = next(slot for slot, p in self.ports.items() if p == port)
        for blog in sorted(self._by_slot()[slot], key=lambda b: -len(b.prefix)):
            if path == "/robots.txt" or not path.startswith(blog.prefix + "/"):
                continue
            if blog.mode == "503":
                return 503, b"busy", [f"Retry-After: {blog.retry_after}"]
            rest = path[len(blog.prefix) :]
            number = 1 if rest == "/" else int(rest.split("/")[2]) if rest.startswith("/page/") else 0
            body = blog.page(number)
            if body is None:
                break
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if etag_seen == etag:
                return 304, b"", [f"ETag: {etag}"]
            return 200, body, ["Content-Type: text/html; charset=utf-8", f"ETag: {etag}"]
        return 404, b"not here", ["Content-Type: text/plain"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--blogs", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--posts", type=int, default=12)
    args = parser.parse_args()
    blogs = [Blog(port_slot=i, posts=args.posts) for i in range(args.blogs)]
    with ManySites(blogs, latency=args.latency) as sites:
        for url in sites.start_urls():
            print(url)
        print("READY", flush=True)
        for line in sys.stdin:  # "publish N": the first N blogs get one new post; "stats"
            command = line.split()
            if command[:1] == ["publish"]:
                for blog in blogs[: int(command[1])]:
                    sites.publish(blog)
                print("OK", flush=True)
            elif command[:1] == ["stats"]:
                pages = len(sites.page_requests())
                print(f"REQUESTS {pages} ROBOTS {len(sites.log) - pages}", flush=True)
            elif command[:1] == ["reset"]:
                sites.log.clear()
                print("OK", flush=True)


if __name__ == "__main__":
    main()
