"""Web archive files out: every raw capture of the archive as a WARC 1.1 record.

A fetched page is a ``response`` (the HTTP status and the headers archiver kept: Content-Type
with its charset, ETag, Last-Modified), an imported file a ``resource``; a capture of bytes
already written is a ``revisit`` pointing at the first (archiver's blobs are content-addressed
the same way). ``WARC-Date`` is when the capture was taken, so the file replays in pywb or
ReplayWeb.page at the right moments, and `archiver import` of it rebuilds the same entries and
versions.
"""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from archiver.store import CaptureRecord, Store
from archiver.warc import require_warcio

_REASONS = {200: "OK", 203: "Non-Authoritative Information"}


@dataclass(slots=True)
class Written:
    """What an export wrote."""

    records: int = 0
    revisits: int = 0


def write_warc(store: Store, target: IO[bytes], site: str | None = None) -> Written:
    """Write every capture that stored bytes (of ``site`` only, when given), in the order they
    were archived, to ``target`` as gzipped WARC 1.1 records."""
    warcio = require_warcio()
    writer = warcio.warcwriter.WARCWriter(target, gzip=True, warc_version="1.1")
    first: dict[str, tuple[str, str, str]] = {}  # sha256 -> (uri, date, payload digest)
    written = Written()
    for record in _raw_captures(store, site):
        assert record.sha256 is not None
        uri = target_uri(record)
        headers = {"WARC-Date": record.captured_at}
        http = _http_headers(warcio, record)
        if record.sha256 in first:
            first_uri, first_date, digest = first[record.sha256]
            made = writer.create_revisit_record(
                uri, digest, first_uri, first_date, http_headers=http, warc_headers_dict=headers
            )
            written.revisits += 1
        else:
            data = store.get_blob(record.sha256)
            if http is None:
                headers["Content-Type"] = _media_type(record)
            made = writer.create_warc_record(
                uri,
                "response" if http is not None else "resource",
                payload=io.BytesIO(data),
                length=len(data),
                http_headers=http,
                warc_headers_dict=headers,
            )
            first[record.sha256] = (uri, record.captured_at, payload_digest(data))
        writer.write_record(made)
        written.records += 1
    return written


def target_uri(record: CaptureRecord) -> str:
    """The URL a capture shows: the page's URL, else the imported file as a file: URI."""
    if record.page_url:
        return record.page_url
    return Path(record.source.split("#", 1)[0]).resolve().as_uri()


def payload_digest(data: bytes) -> str:
    """A WARC payload digest as warcio writes it (and pywb and revisit records compare it)."""
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def _raw_captures(store: Store, site: str | None) -> Iterator[CaptureRecord]:
    """The captures that stored bytes (never 304s), of ``site`` when given."""
    for stored in store.captures():
        record = stored.record
        if record.sha256 is not None and (site is None or record.site == site):
            yield record


def _media_type(record: CaptureRecord) -> str:
    """The Content-Type of a capture's bytes as far as archiver knows it."""
    media = "text/plain" if record.kind == "text" else "text/html"
    charset = record.charset or record.encoding
    return f"{media}; charset={charset}" if charset else media


def _http_headers(warcio: Any, record: CaptureRecord) -> Any:
    """The status line and headers archiver kept of a fetched page (None for an imported file)."""
    if record.http_status is None:
        return None
    headers = [("Content-Type", _media_type(record))]
    if record.etag:
        headers.append(("ETag", record.etag))
    if record.last_modified:
        headers.append(("Last-Modified", record.last_modified))
    status = record.http_status
    return warcio.statusandheaders.StatusAndHeaders(
        f"{status} {_REASONS.get(status, 'OK')}", headers, protocol="HTTP/1.1"
    )
