"""Bytes to text: the one place that decides a capture's character encoding.

Order for HTML: an explicit ``--encoding``, a byte-order mark, the HTTP header's charset, the
page's own ``<meta charset>``, then detection (charset-normalizer); a declared charset that does
not decode the bytes gives way to the next that does. Only text encodings are ever looked up
(:mod:`archiver.parse.encodings`). Text captures have no header or meta tag, so they must be
UTF-8 (with or without BOM) unless the user names the encoding: guessing would silently archive
mojibake.
"""

from __future__ import annotations

import codecs
import re
from contextlib import suppress
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from charset_normalizer import CharsetMatch

from archiver.errors import InputError, NotUtf8
from archiver.parse.encodings import label_of, text_codec

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_\-:.]+)""", re.IGNORECASE)
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
#: Control bytes other than tab, line feed, vertical tab, form feed and carriage return.
_CONTROL_BYTES = bytes([*range(9), *range(14, 32)])
#: A declared charset is taken to be wrong when U+FFFD replacement characters are more than this
#: share of the non-ASCII characters it decodes the page to. A page in the declared encoding with
#: a stray bad byte stays as declared; a GBK body read as UTF-8 gives about one in two.
_WRONG_SHARE = 0.05
#: What a ``<meta>`` naming UTF-16 means: the page's ASCII bytes were read, so it is not UTF-16
#: (the Encoding Standard's prescan reads it as UTF-8).
_META_UTF16 = frozenset({"utf-16-le", "utf-16-be"})


def looks_binary(data: bytes) -> bool:
    """True for bytes no text or HTML capture would contain (NULs, mostly control bytes)."""
    sample = data[:4096]
    if b"\x00" in sample and not sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    control = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return control > len(sample) // 10


def known_encoding(name: str) -> str:
    """The codec for the encoding label ``name`` (:func:`text_codec`), or an error naming it."""
    codec = text_codec(name)
    if codec is None:
        raise InputError(
            f"unknown encoding {name!r}: not a text encoding web pages use "
            "(try utf-8, gb18030, big5, shift_jis, windows-1252)"
        )
    return codec


def decode_text_capture(data: bytes, source: str, encoding: str | None = None) -> str:
    """Decode a text capture: UTF-8 with or without BOM, or the encoding the user names."""
    if encoding:
        codec = known_encoding(encoding)
        try:
            return data.decode(codec).removeprefix("\ufeff")
        except UnicodeDecodeError as exc:
            raise InputError(f"{source}: not valid {encoding} at byte {exc.start}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        guess = _guess(data)
        raise NotUtf8(source, exc.start, label_of(guess.encoding) if guess else None) from None


def decode_html(
    data: bytes, source: str, header_charset: str | None = None, encoding: str | None = None
) -> str:
    """Decode an HTML page the way a browser would, so GBK/GB18030 pages read right.

    A charset declared by the header or ``<meta>`` that is no text encoding is ignored. One
    that does not decode the bytes (:data:`_WRONG_SHARE`) gives way to the other declaration,
    then to UTF-8 and detection, whichever decodes them without errors: a server that labels
    every page UTF-8 must not turn a GBK page into replacement characters.
    """
    return decode_html_utf8(data, source, header_charset, encoding)[0]


def decode_html_utf8(
    data: bytes, source: str, header_charset: str | None = None, encoding: str | None = None
) -> tuple[str, bytes | None]:
    """:func:`decode_html`, and ``data`` itself when the text is all of it read as UTF-8 (the
    usual case); else None.

    lexbor parses UTF-8 bytes: given the text, it encodes it back to the bytes it came from
    (about 30 us for a 60 KB page in Chinese), which ``data`` spares.
    """
    if encoding:
        return decode_text_capture(data, source, encoding), None
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, errors="replace"), None
    declared = _declared(header_charset, data)
    for codec in declared:
        with suppress(UnicodeDecodeError):
            return data.decode(codec), data if codec == "utf-8" else None
    for codec in declared:
        text = data.decode(codec, errors="replace")
        if not _mostly_wrong(text):
            return text, None  # a stray bad byte or two: the declaration is right
    if "utf-8" not in declared:
        with suppress(UnicodeDecodeError):
            return data.decode("utf-8"), data
    detected = _detected(data)
    if detected and detected not in declared:
        with suppress(UnicodeDecodeError):
            return data.decode(detected), None
    return data.decode(declared[0] if declared else detected or "cp1252", errors="replace"), None


def _declared(header_charset: str | None, data: bytes) -> list[str]:
    """The codecs the header and the ``<meta>`` name, in that order, without repeats and
    without labels that are no text encoding."""
    found = []
    header = text_codec(header_charset) if header_charset else None
    if header:
        found.append(header)
    meta_label = _meta_charset(data)
    meta = text_codec(meta_label) if meta_label else None
    if meta in _META_UTF16:
        meta = "utf-8"
    if meta and meta not in found:
        found.append(meta)
    return found


def _mostly_wrong(text: str) -> bool:
    """Whether replacement characters are more than :data:`_WRONG_SHARE` of the non-ASCII ones."""
    bad = text.count("\ufffd")
    if not bad:
        return False
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    return bad > _WRONG_SHARE * non_ascii


def _detected(data: bytes) -> str | None:
    """The text encoding charset-normalizer finds in the page's first 64 KiB, if any."""
    guess = _guess(data)
    return text_codec(guess.encoding) if guess else None


def _guess(data: bytes) -> CharsetMatch | None:
    """charset-normalizer's best guess from the first 64 KiB. Imported here, on the rare page
    that needs a guess, so that a run of well-labelled pages never loads it."""
    from charset_normalizer import from_bytes

    return from_bytes(data[:65536]).best()


def _meta_charset(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii") if match else None
