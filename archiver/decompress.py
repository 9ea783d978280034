"""Content-Encoding decoding that never makes more than a little output per step.

httpx decodes each network chunk whole: 32 KB of zstd (or 2 KB of ``gzip, gzip``) becomes 2 GB
in one call, before any size check can run. Here every coding is a pull reader whose
``read(size)`` gives at most about ``size`` decoded bytes and asks the layer beneath for a little
compressed input at a time, so the caller, counting what it gets, stops a decompression bomb
after ``--max-bytes`` plus one piece. Codings listed in ``Content-Encoding`` are undone in
reverse order (the last one listed was applied last); a coding this module cannot undo is
refused, never passed through as if it were the page.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import IO, Protocol, cast

import zstandard

try:  # optional: brotli 1.2 is the first whose decompressor can bound its output
    import brotli
except ImportError:  # pragma: no cover - depends on what is installed
    brotli = None

#: Compressed bytes handed to a decoder at a time: small, so one step cannot expand far.
RAW_PIECE = 16 * 1024
#: Largest zstd window accepted: RFC 9659 limits zstd Content-Encoding to 8 MB windows, and the
#: window is memory the decoder allocates up front (a frame may ask for 2 GB).
ZSTD_MAX_WINDOW = 8 * 1024 * 1024

_BOUNDED_BROTLI = brotli is not None and hasattr(brotli.Decompressor(), "can_accept_more_data")


class Reader(Protocol):
    """Something that gives up to ``size`` bytes per call, and ``b""`` at the end."""

    def read(self, size: int) -> bytes: ...


class DecodingError(Exception):
    """The body is not what its Content-Encoding says, or uses a coding that cannot be undone."""


def accept_encoding() -> str:
    """The Accept-Encoding header: only the codings :func:`decoded` can undo with a bound."""
    return "gzip, deflate, zstd, br" if _BOUNDED_BROTLI else "gzip, deflate, zstd"


def decoded(raw: Iterator[bytes], codings: list[str]) -> Reader:
    """A reader of the body ``raw`` (as sent) with every coding in ``codings`` undone."""
    reader: Reader = ChunkReader(raw)
    for coding in reversed([c.strip().lower() for c in codings]):
        if coding in ("", "identity"):
            continue
        if coding in ("gzip", "x-gzip"):
            reader = _ZlibReader(reader, 16 + zlib.MAX_WBITS)
        elif coding == "deflate":
            reader = _ZlibReader(reader, zlib.MAX_WBITS, raw_fallback=True)
        elif coding == "zstd":
            reader = _ZstdReader(reader)
        elif coding == "br" and _BOUNDED_BROTLI:
            reader = _BrotliReader(reader)
        else:
            raise DecodingError(f"Content-Encoding {coding!r} is not supported")
    return reader


class ChunkReader:
    """The network chunks as a reader; a chunk larger than asked for is handed out in parts."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._left = b""

    def read(self, size: int) -> bytes:
        while not self._left:
            chunk = next(self._chunks, None)
            if chunk is None:
                return b""
            self._left = chunk
        piece, self._left = self._left[:size], self._left[size:]
        return piece


class _ZlibReader:
    """gzip (``wbits`` 16+15) or deflate; zlib's ``max_length`` bounds each step's output.

    ``raw_fallback``: servers send "deflate" both as RFC 1950 zlib data and as bare deflate
    data; like browsers (and httpx), try the first and fall back to the second.
    """

    def __init__(self, source: Reader, wbits: int, *, raw_fallback: bool = False) -> None:
        self._source = source
        self._inflate = zlib.decompressobj(wbits)
        self._raw_fallback = raw_fallback

    def read(self, size: int) -> bytes:
        while not self._inflate.eof:
            data = self._inflate.unconsumed_tail or self._source.read(RAW_PIECE)
            if not data:
                return b""  # a stream cut short ends here, as in httpx and browsers
            try:
                out = self._inflate.decompress(data, size)
            except zlib.error as exc:
                if not self._raw_fallback:
                    raise DecodingError(f"not valid gzip/deflate data ({exc})") from None
                self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
                self._raw_fallback = False
                out = self._decompress_raw(data, size)
            self._raw_fallback = False  # only the very first piece tells which of the two it is
            if out:
                return out
        return b""  # data after the end of the stream is ignored, as in httpx

    def _decompress_raw(self, data: bytes, size: int) -> bytes:
        try:
            return self._inflate.decompress(data, size)
        except zlib.error as exc:
            raise DecodingError(f"not valid deflate data ({exc})") from None


class _ZstdReader:
    """zstd through zstandard's stream reader, which fills at most the buffer it is asked for."""

    def __init__(self, source: Reader) -> None:
        decompressor = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW)
        source_file = cast("IO[bytes]", source)  # stream_reader only ever calls read(size)
        self._reader = decompressor.stream_reader(source_file, read_size=RAW_PIECE, read_across_frames=True)

    def read(self, size: int) -> bytes:
        try:
            return bytes(self._reader.read(size))
        except zstandard.ZstdError as exc:
            raise DecodingError(f"not valid zstd data ({exc})") from None


class _BrotliReader:
    """br, with brotli's ``output_buffer_limit`` bounding each step's output (loosely: its buffer
    grows in steps, so a step's surplus is kept for the next read)."""

    def __init__(self, source: Reader) -> None:
        self._source = source
        self._brotli = brotli.Decompressor()
        self._surplus = b""

    def read(self, size: int) -> bytes:
        out = self._surplus or self._step(size)
        self._surplus = out[size:]
        return out[:size]

    def _step(self, size: int) -> bytes:
        while not self._brotli.is_finished():
            data = b""
            if self._brotli.can_accept_more_data():  # else it still holds output to give
                data = self._source.read(RAW_PIECE)
                if not data:
                    return b""
            try:
                out = self._brotli.process(data, output_buffer_limit=size)
            except brotli.error as exc:
                raise DecodingError(f"not valid brotli data ({exc})") from None
            if out:
                return bytes(out)
        return b""
