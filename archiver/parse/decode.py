"""Bytes to text: the one place that decides a capture's character encoding.

Order for HTML: an explicit ``--encoding``, a byte-order mark, the HTTP header's charset, the
page's own ``<meta charset>``, then detection (charset-normalizer). Text captures have no header or
meta tag, so they must be UTF-8 (with or without BOM) unless the user names the encoding: guessing
would silently archive mojibake.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

from archiver.errors import InputError

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_\-:.]+)""", re.IGNORECASE)
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
#: Control bytes other than tab, line feed, vertical tab, form feed and carriage return.
_CONTROL_BYTES = bytes([*range(9), *range(14, 32)])
#: Encodings that browsers treat as supersets of what pages declare (WHATWG encoding standard).
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "iso-8859-1": "cp1252", "ascii": "cp1252"}


def looks_binary(data: bytes) -> bool:
    """True for bytes no text or HTML capture would contain (NULs, mostly control bytes)."""
    sample = data[:4096]
    if b"\x00" in sample and not sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    control = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return control > len(sample) // 10


def known_encoding(name: str) -> str:
    """The codec name for ``name`` (widened to its superset), or an error naming the bad value."""
    try:
        canonical = codecs.lookup(name).name
    except LookupError:
        raise InputError(f"unknown encoding {name!r} (try utf-8, gb18030, big5, cp1252)") from None
    return _SUPERSETS.get(canonical, canonical)


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
        guess = from_bytes(data[:65536]).best()
        advice = (
            f"it looks like {guess.encoding}: pass --encoding {guess.encoding}"
            if guess
            else "pass --encoding NAME to read it in another encoding"
        )
        raise InputError(f"{source}: not valid UTF-8 at byte {exc.start}; {advice}") from None


def decode_html(
    data: bytes, source: str, header_charset: str | None = None, encoding: str | None = None
) -> str:
    """Decode an HTML page the way a browser would, so GBK/GB18030 pages read right."""
    if encoding:
        return decode_text_capture(data, source, encoding)
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, errors="replace")
    for declared in (header_charset, _meta_charset(data)):
        if declared:
            try:
                codec = known_encoding(declared)
            except InputError:
                continue
            return data.decode(codec, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    guess = from_bytes(data[:65536]).best()
    return data.decode(guess.encoding if guess else "cp1252", errors="replace")


def _meta_charset(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii") if match else None
