"""Raw capture bytes: zstd blobs, each plain or compressed with one dictionary of its site.

:mod:`archiver.dictionaries` decides how a new page is stored, from sizes measured here; this
module measures, applies the choice and reads blobs back. Every blob decodes with its own
dictionary alone (never with another blob), and its sha256 is checked on every read.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

import zstandard

from archiver.dictionaries import (
    MAX_DICTIONARY_BYTES,
    RUN_HORIZON,
    Choice,
    PageSizes,
    choose_dictionary,
    measures_plain,
    measures_previous,
)
from archiver.errors import StoreError
from archiver.store._connection import Connection

_ZSTD_LEVEL = 3
#: zstd level of a page compressed with a dictionary it plainly suits: most of such a page is
#: a copy of the dictionary, which the fastest level finds about as well as level 3; on hourly
#: captures of a drifting page level 1 stores 9% more bytes (still about a sixth of plain zstd)
#: for 8% less time spent storing each capture, the storing process being what an hourly import
#: waits for. A page the dictionary helps little (another page of a backfill) gets level 3.
_FAST_LEVEL = 1

#: Dictionaries whose compressor and decompressor an open store keeps ready, newest used last.
#: Each holds its dictionary (at most MAX_DICTIONARY_BYTES, usually one 50-200 KB page) and
#: zstd's match tables for it at two levels (about 1.5 MB): 8 covers the sites and pages a crawl
#: or an import works on at once in under 15 MB; a reparse that goes past it rebuilds a dictionary
#: in a fraction of a millisecond.
MAX_CACHED_DICTIONARIES = 8


@dataclass(frozen=True, slots=True)
class _Codec:
    """A raw-content dictionary ready to compress and decompress with."""

    #: at _FAST_LEVEL, for a page the dictionary plainly suits, and at _ZSTD_LEVEL
    fast: zstandard.ZstdCompressor
    compressor: zstandard.ZstdCompressor
    decompressor: zstandard.ZstdDecompressor
    #: the dictionary's page: its size, and what plain zstd stores it in (its row's data)
    size: int
    plain: int

    def expected_plain(self, size: int) -> int:
        """What plain zstd would store a page of ``size`` bytes of the same site in."""
        return self.plain * size // max(self.size, 1)


def _codec(content: bytes, plain: int) -> _Codec:
    """A raw-content dictionary: the bytes of a page, used as what zstd may copy from."""
    dictionary = zstandard.ZstdCompressionDict(content, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    return _Codec(
        zstandard.ZstdCompressor(level=_FAST_LEVEL, dict_data=dictionary),
        zstandard.ZstdCompressor(level=_ZSTD_LEVEL, dict_data=dictionary),
        zstandard.ZstdDecompressor(dict_data=dictionary),
        len(content),
        plain,
    )


def _decompressed(decompressor: zstandard.ZstdDecompressor, data: bytes, size: int) -> bytes:
    """``data`` decompressed, never to more than ``size`` bytes (what its row says it holds).

    zstd allocates what a frame's header claims: a damaged header claiming gigabytes would be
    allocated before the sha256 check could refuse the result. ValueError when it claims more
    (other bytes, fewer, are refused by the sha256 check).
    """
    if not isinstance(data, bytes) or not isinstance(size, int):  # SQLite keeps any type anywhere
        raise ValueError(f"its row holds {type(data).__name__} data of size {size!r}, not bytes and a size")
    claimed = zstandard.frame_content_size(data)
    if claimed > size:
        raise ValueError(f"its frame holds {claimed} bytes where its row says {size}")
    return bytes(decompressor.decompress(data, max_output_size=size))


@dataclass(frozen=True, slots=True)
class _Dictionary:
    """A stored dictionary, loaded."""

    id: int
    codec: _Codec


@dataclass(frozen=True, slots=True)
class _Candidate:
    """The dictionary a new capture of a page would use, and what the page's captures stored before."""

    dictionary: _Dictionary | None
    #: the page's latest captures in a row stored with that dictionary
    run: int
    #: the sha256 of the page's previous capture (None: captured for the first time)
    previous_sha256: str | None


class Blobs(Connection):
    """The tables of raw bytes: blob and blob_dictionary."""

    @cached_property
    def _compressor(self) -> zstandard.ZstdCompressor:
        """Plain zstd for this connection alone: zstandard's compressors and decompressors must
        never be used by two threads at once, and a store is used by one thread at a time
        (`archiver run` opens one a thread), so none is shared between stores."""
        return zstandard.ZstdCompressor(level=_ZSTD_LEVEL)

    @cached_property
    def _decompressor(self) -> zstandard.ZstdDecompressor:
        return zstandard.ZstdDecompressor()

    @cached_property
    def _codecs(self) -> OrderedDict[str, _Codec]:
        """Loaded dictionaries by the sha256 of their bytes: an id may be reused after a rollback,
        the bytes' hash names one dictionary for good."""
        return OrderedDict()

    # -- writing ---------------------------------------------------------------------------

    def put_blob(self, sha256: str, data: bytes, *, site: str, page: str) -> bool:
        """Store bytes once per sha256, plain or with a dictionary of ``site`` (see
        :mod:`archiver.dictionaries`); ``page`` is the page they show: its URL, else the file's path
        (snapshots of one page saved as many files are one page).
        True when they were new."""
        if self.conn.execute("SELECT 1 FROM blob WHERE sha256 = ?", (sha256,)).fetchone():
            return False
        stored, dictionary_id = self._compressed(site, data, self._candidate(site, page))
        self.conn.execute(
            "INSERT INTO blob (sha256, size, compression, data, dictionary_id) VALUES (?, ?, 'zstd', ?, ?)",
            (sha256, len(data), stored, dictionary_id),
        )
        return True

    def _compressed(self, site: str, data: bytes, candidate: _Candidate) -> tuple[bytes, int | None]:
        """The page as stored and the dictionary it needs (None: plain zstd), as
        :func:`choose_dictionary` decides from the sizes measured; sizes that cannot change the
        choice are not measured (see :func:`measures_plain`, :func:`measures_previous`)."""
        head = data[:MAX_DICTIONARY_BYTES]
        dictionary = candidate.dictionary
        if dictionary is None:
            alone = self._compressor.compress(data)
            new = alone if len(head) == len(data) else self._compressor.compress(head)
            sizes = PageSizes(size=len(data), plain=len(alone), new_dictionary=len(new))
            return self._apply(choose_dictionary(sizes), site, data, candidate, b"", alone)
        with_dictionary = dictionary.codec.fast.compress(data)
        expected = dictionary.codec.expected_plain(len(data))
        plain = None
        if measures_plain(len(with_dictionary), expected):  # it helps little: at its best, then
            plain = self._compressor.compress(data)
            with_dictionary = dictionary.codec.compressor.compress(data)
        new_dictionary = dictionary.codec.expected_plain(len(head))
        with_previous = None
        if measures_previous(len(with_dictionary), candidate.run, new_dictionary):
            previous = self._previous_bytes(candidate.previous_sha256)
            if previous is not None:
                measure = _codec(previous[:MAX_DICTIONARY_BYTES], 0).fast
                with_previous = len(measure.compress(data))
        sizes = PageSizes(
            size=len(data),
            plain=len(plain) if plain is not None else expected,
            new_dictionary=new_dictionary,
            with_dictionary=len(with_dictionary),
            with_previous=with_previous,
            run=candidate.run,
        )
        return self._apply(choose_dictionary(sizes), site, data, candidate, with_dictionary, plain)

    def _apply(
        self,
        choice: Choice,
        site: str,
        data: bytes,
        candidate: _Candidate,
        with_dictionary: bytes,
        plain: bytes | None,
    ) -> tuple[bytes, int | None]:
        """Carry out ``choice``: the stored bytes and their dictionary id."""
        if choice is Choice.USE:
            assert candidate.dictionary is not None
            return with_dictionary, candidate.dictionary.id
        if choice is Choice.NEW:
            head = data[:MAX_DICTIONARY_BYTES]
            stored = (
                plain if plain is not None and len(head) == len(data) else self._compressor.compress(head)
            )
            made = self._new_dictionary(site, head, stored)
            return made.codec.fast.compress(data), made.id
        return plain if plain is not None else self._compressor.compress(data), None

    def _candidate(self, site: str, page: str) -> _Candidate:
        """The dictionary the page's last capture used (else the site's newest), how many of
        the page's latest captures used it in a row, and the page's previous bytes."""
        rows = self.conn.execute(
            "SELECT b.dictionary_id, c.sha256 FROM capture c JOIN blob b ON b.sha256 = c.sha256"
            " WHERE coalesce(c.page_url, c.source) = ? AND c.sha256 IS NOT NULL ORDER BY c.id DESC LIMIT ?",
            (page, RUN_HORIZON),
        ).fetchall()
        dictionary_id = rows[0][0] if rows else None
        if dictionary_id is None:
            newest = self.conn.execute(
                "SELECT max(id) FROM blob_dictionary WHERE site = ?", (site,)
            ).fetchone()
            dictionary_id = newest[0]
        run = next((n for n, row in enumerate(rows) if row[0] != dictionary_id), len(rows))
        dictionary = None
        if dictionary_id is not None:
            try:
                dictionary = _Dictionary(dictionary_id, self._codec_of(dictionary_id))
            except ValueError:  # damaged: reported by the blobs that use it; a new one is made
                dictionary = None
        return _Candidate(dictionary, run, rows[0][1] if rows else None)

    def _previous_bytes(self, sha256: str | None) -> bytes | None:
        """The bytes of a page's previous capture, to measure against; None if it has none."""
        if sha256 is None:
            return None
        try:
            return self.get_blob(sha256)
        except StoreError:  # a damaged copy is reported where it is read; here it only
            return None  # cannot serve as a measure

    def _new_dictionary(self, site: str, content: bytes, stored: bytes) -> _Dictionary:
        """Store ``content`` (plain zstd: ``stored``) as a new dictionary of ``site``."""
        digest = hashlib.sha256(content).hexdigest()
        cursor = self.conn.execute(
            "INSERT INTO blob_dictionary (site, sha256, size, data, created_at) VALUES (?, ?, ?, ?, ?)",
            (site, digest, len(content), stored, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")),
        )
        assert cursor.lastrowid is not None
        codec = _codec(content, len(stored))
        self._remember(digest, codec)
        return _Dictionary(cursor.lastrowid, codec)

    # -- reading ---------------------------------------------------------------------------

    def get_blob(self, sha256: str) -> bytes:
        """The bytes stored under ``sha256``; missing or damaged ones (not zstd, a dictionary
        missing or damaged, other bytes than the hash says) are a StoreError naming the captures
        that stored them."""
        row = self.conn.execute(
            "SELECT data, dictionary_id, size FROM blob WHERE sha256 = ?", (sha256,)
        ).fetchone()
        try:
            if row is None:
                raise ValueError("it is missing")
            decompressor = self._decompressor if row[1] is None else self._codec_of(row[1]).decompressor
            data = _decompressed(decompressor, row[0], row[2])
        except zstandard.ZstdError as exc:
            problem = f"not zstd data: {exc}"
        except ValueError as exc:
            problem = str(exc)
        else:
            if hashlib.sha256(data).hexdigest() == sha256:
                return data
            problem = "its bytes do not have that sha256"
        users = [r[0] for r in self.conn.execute("SELECT id FROM capture WHERE sha256 = ?", (sha256,))]
        raise StoreError(
            f"{self.path}: the stored page of capture {', '.join(map(str, users)) or '(none)'} "
            f"(blob {sha256}) is damaged ({problem}); restore the archive from a backup"
        )

    def _codec_of(self, dictionary_id: int) -> _Codec:
        """A stored dictionary, loaded once per open store; ValueError saying how it is damaged."""
        found = self.conn.execute(
            "SELECT sha256 FROM blob_dictionary WHERE id = ?", (dictionary_id,)
        ).fetchone()
        if found is None:
            raise ValueError(f"its dictionary {dictionary_id} is missing")
        digest = found[0]
        if digest in self._codecs:
            self._codecs.move_to_end(digest)
            return self._codecs[digest]
        stored, size = self.conn.execute(
            "SELECT data, size FROM blob_dictionary WHERE id = ?", (dictionary_id,)
        ).fetchone()
        try:
            content = _decompressed(self._decompressor, stored, size)
        except zstandard.ZstdError as exc:
            raise ValueError(f"its dictionary {dictionary_id} is damaged: not zstd data: {exc}") from None
        except ValueError as exc:
            raise ValueError(f"its dictionary {dictionary_id} is damaged: {exc}") from None
        if hashlib.sha256(content).hexdigest() != digest:
            raise ValueError(f"its dictionary {dictionary_id} is damaged: its bytes do not have its sha256")
        codec = _codec(content, len(stored))
        self._remember(digest, codec)
        return codec

    def _remember(self, digest: str, codec: _Codec) -> None:
        """Keep a loaded dictionary, dropping the least recently used past the bound."""
        self._codecs[digest] = codec
        self._codecs.move_to_end(digest)
        while len(self._codecs) > MAX_CACHED_DICTIONARIES:
            self._codecs.popitem(last=False)
