"""Which hrefs of a page are links to web pages, and the absolute URLs they lead to.

A page is data: what it links to is never a permalink or a next page unless it is http(s). The
one filter for that is here, in two steps: :func:`link_target` drops what is no link at all
(empty, a fragment of this page, a script, mail, phone or inline data), and
:func:`is_web_scheme` what resolves to another scheme, however it is spelt.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from archiver.parse.limits import MAX_CACHED_KEY_CHARS, MAX_LINK_CHARS, remember

#: Hrefs that lead to no other page, by how they start.
_NOT_A_LINK = ("#", "javascript:", "mailto:", "tel:", "data:")
#: Schemes of web pages ("" for a link without one, relative to the page).
_WEB_SCHEMES = ("http", "https", "")


def link_target(href: str | None) -> str | None:
    """``href`` without surrounding spaces, or None when it is no link to another page."""
    href = (href or "").strip()
    return href if href and not href.startswith(_NOT_A_LINK) else None


def is_web_scheme(scheme: str) -> bool:
    """Whether a URL with this scheme is a web page (or relative to one)."""
    return scheme.lower() in _WEB_SCHEMES


def absolute(href: str, base_url: str | None) -> str | None:
    """``href`` resolved against the page's URL (left as written when there is no base).

    None when it is no web link: another scheme (``javascript:``, ``file:``, ``data:``...,
    however it is spelt) or a URL that cannot be parsed (``http://[::1``, port 99999), or when
    it is longer than :data:`~archiver.parse.limits.MAX_LINK_CHARS`.
    Remembered: a page repeats the same few hrefs (title, thumbnail, "read more") many times.
    """
    if len(href) + len(base_url or "") <= MAX_CACHED_KEY_CHARS:
        return _remembered_absolute(href, base_url)
    return _absolute(href, base_url) if len(href) <= MAX_LINK_CHARS else None


def _absolute(href: str, base_url: str | None) -> str | None:
    href = href.strip()
    try:
        url = urljoin(base_url, href) if base_url else href
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a port out of range
    except ValueError:
        return None
    return url if is_web_scheme(parts.scheme) else None


_remembered_absolute = remember("absolute links", _absolute)


def drop_fragment(url: str) -> str:
    """The URL without its ``#fragment``.

    Pagination links often jump to an anchor (``/page/2/#board``); the page is what counts.
    """
    return url.split("#", 1)[0]
