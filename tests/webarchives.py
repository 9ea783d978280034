"""Web archive files for tests, written by warcio as an archiving crawler would write them.

:class:`Warc` collects records (HTTP responses, revisits, requests) and writes them to a WARC or a
WACZ; :func:`moments` makes the fixture blog's listing pages at three moments (posts added, a
title edited, a post removed), the history the wayback and import tests rebuild;
:func:`article_page` is a post's own page, which an import must skip.
"""

from __future__ import annotations

import hashlib
import html
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from sitehttp import blog_page

#: Where the blog of the web archive tests was published.
BLOG = "http://blog.fixture.test/"
#: The three moments the archive captured the blog at, and the posts it showed then.
MOMENT_TIMES = ("2024-03-01T10:00:00Z", "2024-06-15T12:30:00Z", "2025-01-20T08:00:00Z")
PER_PAGE = 4
#: the title edited at the second moment, and what it became
EDITED_POST = 6
EDITED_TITLE = "A title rewritten by its author"
#: the post removed at the third moment
REMOVED_POST = 3


def moments() -> list[dict[str, bytes]]:
    """The listing pages (URL -> bytes) at each of the three moments: 9 posts; then 11 with one
    title edited; then the same with one post deleted."""
    shown = [
        list(range(9, 0, -1)),
        list(range(11, 0, -1)),
        [n for n in range(11, 0, -1) if n != REMOVED_POST],
    ]
    pages: list[dict[str, bytes]] = []
    for number, posts in enumerate(shown):
        chunks = [posts[i : i + PER_PAGE] for i in range(0, len(posts), PER_PAGE)]
        moment: dict[str, bytes] = {}
        for page_no, chunk in enumerate(chunks, start=1):
            url = BLOG if page_no == 1 else f"{BLOG}page/{page_no}/"
            following = f"/page/{page_no + 1}/" if page_no < len(chunks) else None
            body = blog_page(chunk, following)
            if number >= 1 and EDITED_POST in chunk:
                body = _edited(body)
            moment[url] = body
        pages.append(moment)
    return pages


def _edited(body: bytes) -> bytes:
    """``body`` with post EDITED_POST's title replaced."""
    text = body.decode()
    marker = f'<a href="/posts/post-{EDITED_POST}/">'
    start = text.index(marker) + len(marker)
    end = text.index("</a>", start)
    return (text[:start] + html.escape(EDITED_TITLE) + text[end:]).encode()


def article_page(n: int) -> bytes:
    """Post ``n``'s own page: one article, its text, a link home and to two other posts."""
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>Post</title></head><body>'
        f'<main><article class="post"><h1>Post {n}</h1><time datetime="2025-01-0{n % 9 + 1}">x</time>'
        f"<p>{'The text of the post. ' * 40}</p></article>"
        f'<nav><a href="/">Home</a> <a href="/posts/post-{n + 1}/">Next post</a>'
        f' <a href="/posts/post-{n - 1}/">Previous post</a></nav></main></body></html>'
    ).encode()


def wayback_stamp(iso: str) -> str:
    """``2024-03-01T10:00:00Z`` as a web archive's 14-digit timestamp."""
    return iso.replace("-", "").replace(":", "").replace("T", "").removesuffix("Z")


@dataclass
class Warc:
    """Records to write, in the order added."""

    records: list[Any] = field(default_factory=list)
    _writer: WARCWriter = field(default_factory=lambda: WARCWriter(io.BytesIO(), gzip=True))
    _first: dict[str, tuple[str, str]] = field(default_factory=dict)

    def response(
        self,
        uri: str,
        body: bytes,
        at: str,
        content_type: str = "text/html; charset=utf-8",
        status: int = 200,
    ) -> None:
        """An HTTP response as a crawler records it (status line, headers, body)."""
        headers = StatusAndHeaders(
            f"{status} {'OK' if status == 200 else 'Not Found'}",
            [("Content-Type", content_type), ("Content-Length", str(len(body)))],
            protocol="HTTP/1.1",
        )
        record = self._writer.create_warc_record(
            uri,
            "response",
            payload=io.BytesIO(body),
            http_headers=headers,
            warc_headers_dict={"WARC-Date": at},
        )
        self.records.append(record)
        self._first.setdefault(hashlib.sha256(body).hexdigest(), (uri, at))

    def revisit(self, uri: str, body: bytes, at: str) -> None:
        """A revisit: ``body`` again, recorded as a reference to the first response that held it."""
        first_uri, first_at = self._first[hashlib.sha256(body).hexdigest()]
        original = next(
            r
            for r in self.records
            if r.rec_type == "response"
            and r.rec_headers.get_header("WARC-Target-URI") == first_uri
            and r.rec_headers.get_header("WARC-Date") == first_at
        )
        digest = original.rec_headers.get_header("WARC-Payload-Digest")
        headers = StatusAndHeaders(
            "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
        )
        self.records.append(
            self._writer.create_revisit_record(
                uri, digest, first_uri, first_at, http_headers=headers, warc_headers_dict={"WARC-Date": at}
            )
        )

    def request(self, uri: str, at: str) -> None:
        """The GET request a crawler records before each response."""
        headers = StatusAndHeaders(
            f"GET {uri} HTTP/1.1", [("Host", "blog.fixture.test")], is_http_request=True
        )
        self.records.append(
            self._writer.create_warc_record(
                uri, "request", http_headers=headers, warc_headers_dict={"WARC-Date": at}
            )
        )

    def write(self, path: Path, order: list[int] | None = None) -> Path:
        """Write the records (in ``order``, by index, when given) to a .warc.gz file."""
        with path.open("wb") as target:
            writer = WARCWriter(target, gzip=True)
            for index in order if order is not None else range(len(self.records)):
                record = self.records[index]
                record.raw_stream.seek(0)
                writer.write_record(record)
        return path


def as_wacz(warc: Path, wacz: Path) -> Path:
    """A WACZ holding ``warc`` as archive/data.warc.gz (stored, as WACZ writers do), with a
    datapackage.json that lists it."""
    data = warc.read_bytes()
    package = (
        '{"profile": "data-package", "wacz_version": "1.1.1", "resources": [{"name": "data.warc.gz",'
        f' "path": "archive/data.warc.gz", "hash": "sha256:{hashlib.sha256(data).hexdigest()}",'
        f' "bytes": {len(data)}}}]}}'
    )
    with zipfile.ZipFile(wacz, "w") as zipped:
        zipped.writestr("archive/data.warc.gz", data, compress_type=zipfile.ZIP_STORED)
        zipped.writestr("datapackage.json", package, compress_type=zipfile.ZIP_DEFLATED)
    return wacz


def write_moment(root: Path, pages: dict[str, bytes]) -> Path:
    """The pages of one moment as files, where `archiver import --base-url BLOG` reads them."""
    for url, body in pages.items():
        relative = url.removeprefix(BLOG)
        target = root / relative / "index.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
    return root


def moments_warc() -> Warc:
    """The three moments' listing pages, as a crawler records them, with its requests."""
    warc = Warc()
    for at, pages in zip(MOMENT_TIMES, moments(), strict=True):
        for url, body in pages.items():
            warc.request(url, at)
            warc.response(url, body, at)
    return warc
