"""The next (older) listing page a page links to.

In order: the profile's ``next_page`` selector (matched in the whole page), ``rel=next``, a link
labelled "Next"/"Older posts"/"下一页" or whose class says ``next``, then a link to page N+1 in
the ``/page/N/`` or ``?page=N`` scheme. Links inside cards are ignored so a post titled "Next
steps" is not taken for pagination.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from urllib.parse import urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.parse.dom import Selector, css, owner_of
from archiver.parse.limits import MAX_PAGE_DIGITS
from archiver.parse.links import absolute, drop_fragment, link_target
from archiver.parse.profile import Profile

_NEXT_TEXT = re.compile(
    r"^(?:next(?:\s+page)?|older(?:\s+posts|\s+entries)?|more\s+posts|下一页|下页|后一页"
    r"|更早(?:的文章)?|次のページ)?\s*[›»→>]*$",
    re.IGNORECASE,
)
_ARROWS = re.compile(r"[›»→>]+")
#: A page number: at most :data:`MAX_PAGE_DIGITS` digits (a longer one is no page number).
_PAGE_NUMBER = (
    re.compile(rf"(?P<pre>/page/?)(?P<n>\d{{1,{MAX_PAGE_DIGITS}}})(?P<post>/?(?:index\.html?)?)$"),
    re.compile(rf"(?P<pre>[?&]page=)(?P<n>\d{{1,{MAX_PAGE_DIGITS}}})(?P<post>)$"),
)

#: A page's ``a[href]`` elements and their hrefs.
Links = tuple[Sequence[LexborNode], Sequence[str | None]]


def find_next_url(
    tree: LexborHTMLParser,
    base_url: str | None,
    profile: Profile | None,
    cards: Sequence[LexborNode],
    links: Links | None = None,
) -> str | None:
    """The next listing page's absolute URL, without fragment (see the module docstring).

    ``links`` are the page's ``a[href]`` elements and their hrefs when the caller already has
    them.
    """
    found = (
        _by_profile(tree, base_url, profile)
        or _by_rel(tree, base_url)
        or _by_links(tree, base_url, cards, links)
    )
    return drop_fragment(found) if found else None


def _by_profile(tree: LexborHTMLParser, base_url: str | None, profile: Profile | None) -> str | None:
    if profile is None or not profile.next_page:
        return None
    return first_link_in_page(tree, Selector.parse(profile.next_page), base_url)


def _by_rel(tree: LexborHTMLParser, base_url: str | None) -> str | None:
    for node in css(tree, "link[rel~=next][href], a[rel~=next][href]"):
        link = absolute(node.attributes.get("href") or "", base_url)
        if link:
            return link
    return None


def _by_links(
    tree: LexborHTMLParser, base_url: str | None, cards: Sequence[LexborNode], links: Links | None
) -> str | None:
    """A link outside the cards labelled as the next page, else one to the next page number."""
    by_label = by_number = None
    wanted = _next_page_number(base_url)
    for node, url in _other_pages(tree, base_url, cards, links):
        if by_label is None and _looks_like_next(node):
            by_label = url
        if by_number is None and wanted and _page_number(url) == wanted:
            by_number = url
    return by_label or by_number


def _other_pages(
    tree: LexborHTMLParser, base_url: str | None, cards: Sequence[LexborNode], links: Links | None
) -> Iterator[tuple[LexborNode, str]]:
    """The page's links outside the cards to web pages other than this one, with their URLs."""
    here = _page_key(base_url) if base_url else None
    if links is None:
        anchors = css(tree, "a[href]")
        links = anchors, [node.attributes.get("href") for node in anchors]
    # 1 for an element inside a card, else 0 or -1 (see owner_of): a card, or any element below
    # the root (a card matching the root itself holds nothing: the walk stops there).
    owners = dict.fromkeys((node.mem_id for node in cards), 1)
    root = tree.root
    if root is not None:
        owners[root.mem_id] = 0
    for node, raw in zip(*links, strict=True):
        href = link_target(raw)
        url = absolute(href, base_url) if href is not None else None
        if url is None or _page_key(url) == here:
            continue
        parent = node.parent
        if parent is None or owner_of(parent, owners) != 1:
            yield node, url


def first_link_in_page(tree: LexborHTMLParser, selector: Selector | None, base: str | None) -> str | None:
    """The href (or attribute) of the first page-wide match of ``selector``."""
    if selector is None:
        return None
    for node in css(tree, selector.css):
        href = node.attributes.get(selector.attr) if selector.attr else node.attributes.get("href")
        if not href and not selector.attr:
            inner = node.css_first("a[href]")
            href = inner.attributes.get("href") if inner is not None else None
        link = absolute(href, base) if href and href.strip() else None
        if link:
            return link
    return None


def _looks_like_next(node: LexborNode) -> bool:
    attrs = node.attributes
    classes = (attrs.get("class") or "").lower().split()
    if any(c == "next" or c.endswith(("-next", "_next")) or c.startswith("next") for c in classes):
        return True
    for raw in (node.text(deep=True), attrs.get("aria-label") or "", attrs.get("title") or ""):
        label = " ".join(raw.split())
        if label and _NEXT_TEXT.match(label) and not _ARROWS.fullmatch(label):
            return True
    return False


def _page_key(url: str) -> str:
    """A key to tell whether a link leads back to this page: no fragment, no trailing slash.

    Only for comparing; never returned as a URL (``/page/2`` and ``/page/2/`` may differ).
    """
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), parts.query, ""))


def _page_number(url: str) -> int | None:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    for pattern in _PAGE_NUMBER:
        match = pattern.search(target)
        if match:
            return int(match["n"])
    return None


def _next_page_number(base_url: str | None) -> int | None:
    """The number the next page has: N+1 on ``/page/N/``, 2 on a first page, None without a URL."""
    if not base_url:
        return None
    return (_page_number(base_url) or 1) + 1
