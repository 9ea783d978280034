"""Identity and change: which stored entry a card is, and whether it changed.

The rules are the README's "How posts are recognised and versioned".

Pure functions, no I/O: the store asks these what to do and does it. Normalisation is only ever
used for comparing and hashing; stored text stays exactly as captured.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from archiver.models import CARD_FIELDS, Card

#: Below this many normalised characters a shared prefix proves nothing.
MIN_PREFIX_CHARS = 64

_WHITESPACE = re.compile(r"\s+")
#: What may follow a truncation marker: "Read more »", "阅读全文 →".
_ARROWS = frozenset("»>→\u203a")
#: Truncation phrases that end a cut excerpt (compared ignoring case).
_MARKER_PHRASES = ("阅读全文", "繼續閱讀", "继续阅读")
_TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "yclid", "mc_cid", "mc_eid", "_ga", "igshid", "spm"}
)
#: The port a URL of each scheme means when it names none (left out of keys and site names).
DEFAULT_PORTS = {"http": 80, "https": 443}
_PERCENT_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def normalize(text: str | None) -> str:
    """NFKC, whitespace collapsed and trimmed, trailing truncation markers removed."""
    if not text:
        return ""
    text = _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip()
    return text[: _truncation_start(text)].rstrip()


def _truncation_start(text: str) -> int:
    """Where the run of truncation markers that ends ``text`` starts (``len(text)`` if none).

    The tail is one or more *units*: spaces, a marker (``...`` or more dots, ``…``, ``[...]``,
    ``[…]``, "read more", "阅读全文", "繼續閱讀", "继续阅读"), spaces, arrows (``»``). Read
    backwards one unit at a time, each character is looked at a bounded number of times: a
    backtracking regex took minutes on a table-of-contents line (``Chapter 1 ........ 5``).
    """
    start = end = len(text)
    while True:
        end = _skip_back(text, end, _ARROWS.__contains__)
        end = _skip_back(text, end, str.isspace)
        marker = _marker_start(text, end)
        if marker is None:
            return start
        start = end = _skip_back(text, marker, str.isspace)


def _skip_back(text: str, end: int, wanted: Callable[[str], bool]) -> int:
    """The start of the run of ``wanted`` characters that ends at ``end``."""
    while end > 0 and wanted(text[end - 1]):
        end -= 1
    return end


def _marker_start(text: str, end: int) -> int | None:
    """Where the truncation marker that ends at ``end`` starts, or None if none does."""
    if end == 0:
        return None
    last = text[end - 1]
    if last == "…":
        return end - 1
    if last == ".":
        dots = _skip_back(text, end, ".".__eq__)
        return dots if end - dots >= 3 else None
    if last == "]":
        return _bracket_start(text, end)
    if text[max(0, end - 4) : end].lower() == "more":
        gap = _skip_back(text, end - 4, str.isspace)
        if gap < end - 4 and text[max(0, gap - 4) : gap].lower() == "read":
            return gap - 4
        return None
    return next((end - len(p) for p in _MARKER_PHRASES if text.endswith(p, 0, end)), None)


def _bracket_start(text: str, end: int) -> int | None:
    """Where a bracketed marker (``[...]``, ``[…]``, spaces allowed inside) ending at ``end`` starts."""
    inner = _skip_back(text, end - 1, str.isspace)
    if text.endswith("…", 0, inner):
        inner -= 1
    elif text.endswith("...", 0, inner) and not text.endswith("....", 0, inner):
        inner -= 3
    else:
        return None
    opening = _skip_back(text, inner, str.isspace) - 1
    return opening if opening >= 0 and text[opening] == "[" else None


def canonical_url(url: str) -> str:
    """The permalink form used as an entry key: one spelling for every way a link is written."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    port = parts.port if parts.port and parts.port != DEFAULT_PORTS.get(scheme) else None
    netloc = f"{host}:{port}" if port else host
    path = _normalize_escapes(quote(parts.path, safe="/%:@!$&'()*+,;=~"))
    for index_file in ("/index.html", "/index.htm"):
        if path.endswith(index_file):
            path = path[: -len(index_file) + 1]
    path = path.rstrip("/") or ("/" if netloc else "")
    query = urlencode(
        [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not k.lower().startswith("utm_") and k.lower() not in _TRACKING_PARAMS
        ]
    )
    return urlunsplit((scheme, netloc, path, query, ""))


def site_of(url: str | None) -> str | None:
    """The site a page URL belongs to, the scope of its posts' identity: the host (lowercased),
    with the port when it is not the scheme's default, so that two blogs served on one host
    from two ports are two sites (``127.0.0.1:8001``, ``127.0.0.1:8002``) while
    ``https://Blog.example:443/`` is ``blog.example``. None for a URL without a host.
    """
    parts = urlsplit(url) if url else None
    host = parts.hostname if parts else None
    if parts is None or not host:
        return None
    port = parts.port
    if port is None or port == DEFAULT_PORTS.get(parts.scheme.lower()):
        return host.lower()
    shown = f"[{host}]" if ":" in host else host  # an IPv6 address keeps its brackets before a port
    return f"{shown.lower()}:{port}"


def _normalize_escapes(path: str) -> str:
    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()

    return _PERCENT_ESCAPE.sub(fix, path)


def text_key(card: Card) -> str:
    """The normalised text a permalink-less card is known by: title (when shown) and excerpt."""
    return normalize(" ".join(filter(None, (card.title, card.excerpt))))


def text_of(fields: Mapping[str, str | None]) -> str:
    """:func:`text_key` of a stored version's fields, to compare a card's text with."""
    return normalize(" ".join(filter(None, (fields.get("title"), fields.get("excerpt")))))


def key_prefix(text: str) -> str:
    """Index key for truncation-aware lookup: cuts of one text share their first characters."""
    return text[:MIN_PREFIX_CHARS]


def same_text(a: str, b: str, min_prefix: int = MIN_PREFIX_CHARS) -> bool:
    """Equal, or one is a cut of the other and the cut is long enough to mean something."""
    if a == b:
        return True
    shorter, longer = (a, b) if len(a) <= len(b) else (b, a)
    return len(shorter) >= min_prefix and longer.startswith(shorter)


def digest(fields: Mapping[str, str | None]) -> str:
    """A short hash of a card's normalised fields: equal digests mean "nothing to compare"."""
    payload = "\x1f".join(normalize(fields.get(name)) for name in CARD_FIELDS)
    return hashlib.blake2b(payload.encode(), digest_size=12).hexdigest()


class Outcome(Enum):
    """What a card does to the entry's current version."""

    UNCHANGED = "unchanged"
    ENRICHED = "enriched"
    NEW_VERSION = "new_version"


@dataclass(frozen=True, slots=True)
class Merge:
    """The result of comparing a card with the current version."""

    outcome: Outcome
    #: the fields the current (UNCHANGED/ENRICHED) or new (NEW_VERSION) version should hold
    fields: dict[str, str | None]
    #: fields that contradicted the current version (NEW_VERSION only)
    changed: tuple[str, ...] = ()
    #: fields filled in or lengthened in place (UNCHANGED and ENRICHED)
    updated: tuple[str, ...] = ()


def merge(current: Mapping[str, str | None], seen: Mapping[str, str | None]) -> Merge:
    """Compare field by field: silence says nothing, gaps are filled, conflicts make a version."""
    fields = dict(current)
    changed: list[str] = []
    filled: list[str] = []
    lengthened: list[str] = []
    for name in CARD_FIELDS:
        new = seen.get(name)
        if new is None:
            continue
        old = current.get(name)
        if old is None:
            fields[name] = new
            filled.append(name)
            continue
        old_norm, new_norm = _comparable(name, old), _comparable(name, new)
        if old_norm == new_norm:
            continue
        if name == "excerpt" and (old_norm.startswith(new_norm) or new_norm.startswith(old_norm)):
            if len(new_norm) > len(old_norm):
                fields[name] = new
                lengthened.append(name)
            continue
        fields[name] = new
        changed.append(name)
    if changed:
        return Merge(Outcome.NEW_VERSION, fields, changed=tuple(changed))
    if filled:
        return Merge(Outcome.ENRICHED, fields, updated=tuple(filled + lengthened))
    return Merge(Outcome.UNCHANGED, fields, updated=tuple(lengthened))


def _comparable(name: str, value: str) -> str:
    return canonical_url(value) if name == "url" else normalize(value)


def pick_text_match(
    text: str, candidates: Sequence[tuple[int, str]], taken: set[int]
) -> tuple[int | None, list[int]]:
    """Choose the one text-keyed entry a card is, among ``(entry_id, key_text)`` candidates.

    Entries already matched by another card of the same capture are out. Returns the match (or
    None) and, when more than one entry matched, all of them: an ambiguous match is never merged.

    Equal text beats a cut: when several entries match but some hold exactly this text, the card
    is the oldest of those (the entry this very card made or matched before). Without that rule a
    page showing one text twice, or a cut shared by two posts, would make new entries on every
    re-import, and importing a capture twice must change nothing but last-seen bookkeeping.
    """
    hits = [eid for eid, other in candidates if eid not in taken and same_text(text, other)]
    if len(hits) == 1:
        return hits[0], []
    exact = [eid for eid, other in candidates if eid not in taken and other == text]
    if exact:
        return min(exact), []
    return None, hits
