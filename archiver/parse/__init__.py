"""Parsing stage: the bytes of one capture in, its post cards out (no database, no network)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePath

from archiver.errors import CardsNotMatched, InputError, NotAListing
from archiver.models import ParsedPage
from archiver.parse.confidence import LISTING_THRESHOLD
from archiver.parse.decode import decode_html_utf8, decode_text_capture, looks_binary
from archiver.parse.html import parse_html
from archiver.parse.limits import check_nesting
from archiver.parse.profile import (
    Profile,
    kept_profile,
    load_profile,
    parsed_with,
    profile_from_text,
    profile_text_of,
    read_profile_text,
)
from archiver.parse.text import DEFAULT_CHROME_LINES, parse_text

__all__ = [
    "DEFAULT_CHROME_LINES",
    "Profile",
    "capture_kind",
    "kept_profile",
    "load_profile",
    "parse_capture",
    "parsed_with",
    "profile_from_text",
    "profile_text_of",
    "read_profile_text",
    "require_cards",
    "require_listing",
]

_KINDS = {".txt": "text", ".html": "html", ".htm": "html"}


def capture_kind(path: PurePath) -> str | None:
    """'text' or 'html' from the file name, None for files that are not captures."""
    return _KINDS.get(path.suffix.lower())


def parse_capture(
    data: bytes,
    *,
    kind: str,
    source: str,
    base_url: str | None = None,
    profile: Profile | None = None,
    encoding: str | None = None,
    header_charset: str | None = None,
    chrome_lines: Iterable[str] = DEFAULT_CHROME_LINES,
) -> ParsedPage:
    """Decode and parse one capture; unreadable input is an :class:`InputError` naming ``source``."""
    if not data.strip():
        raise InputError(f"{source}: empty capture (0 bytes of content)")
    if looks_binary(data):
        raise InputError(f"{source}: binary data, not a text or HTML capture")
    if kind == "text":
        text = decode_text_capture(data, source, encoding)
        return ParsedPage(cards=parse_text(text, chrome_lines))
    html, utf8 = decode_html_utf8(data, source, header_charset=header_charset, encoding=encoding)
    check_nesting(html, source)
    return parse_html(html, base_url=base_url, profile=profile, utf8=utf8)


def require_cards(page: ParsedPage, source: str, profile: Profile | None) -> ParsedPage:
    """A capture that gives no card is an error for imports: say which rule found nothing."""
    if page.cards:
        return page
    raise CardsNotMatched(source, profile.card if profile is not None else None)


def require_listing(page: ParsedPage, source: str) -> ParsedPage:
    """Cards detection is too unsure of (:data:`LISTING_THRESHOLD`) are no posts to archive:
    refuse the page, saying why. Cards read with a given profile are always taken."""
    if page.cards and page.confidence < LISTING_THRESHOLD:
        raise NotAListing(source, page.confidence, LISTING_THRESHOLD, page.doubts)
    return page
