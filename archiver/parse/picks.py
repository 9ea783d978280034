"""The per-card analysis of detection: which element of one card is its title, permalink, date
and summary.

These picks are not the cards' fields: detection then chooses, per field, the selector that
reads the most cards the same way as these picks (:mod:`archiver.parse.infer`), and the fields
are read with that selector.
"""

from __future__ import annotations

import re
from collections import Counter

from selectolax.lexbor import LexborNode

from archiver.parse.dates import find_date, has_year, parse_date
from archiver.parse.dom import ancestors, enclosing_link
from archiver.parse.markup import COUNT_LIKE, HEADLINE, TIME_SELECTORS, TITLE_HEADINGS, words_of
from archiver.parse.reader import Reader

#: The rules of :data:`TIME_SELECTORS` that may match other elements than ``time``.
_UNTIMED_SELECTORS = ", ".join(TIME_SELECTORS[3:])
#: A credit line ("By Jane Doe", "作者：张三"): when short, never a card's summary.
_BYLINE = re.compile(r"^(?:by|posted\s+by|written\s+by|author|作者)\b\s*[:：]?", re.I)
#: Longest one-word label (``raspberry-pi``, ``游戏开发``), in Latin and in CJK script.
_LABEL = 30
_CJK_LABEL = 6
_ANY_SPACE = re.compile(r"\s")
#: Longest meta line, in characters other than spaces (see :func:`_is_meta_line`).
_META_LINE = 80
#: Longest title: a link with more text is a paragraph.
_TITLE = 200


def links_of(reader: Reader, card: LexborNode) -> list[LexborNode]:
    """The ``a[href]`` elements of a card (or of its title), read once per element for every
    field that looks at links (and for the permalink candidate ``a[href]``)."""
    return reader.matches(card, "a[href]")


def pick_title(reader: Reader, card: LexborNode, post_links: set[int]) -> LexborNode | None:
    """The headline: a marked-up headline, a heading, else the longest short post link."""
    marked = card.css_first(HEADLINE)
    if marked is not None and marked.text().strip():
        return marked
    for heading in card.css(TITLE_HEADINGS):
        if heading.text().strip():
            return _link_in_heading(reader, heading, post_links)
    # A post link's text, not a longer category or "Read more" link beside it.
    links = links_of(reader, card)
    posts = [a for a in links if a.mem_id in post_links]
    found = _longest_text(posts) or _longest_text(links)
    return _title_in_link(reader, found) if found is not None else None


def _link_in_heading(reader: Reader, heading: LexborNode, post_links: set[int]) -> LexborNode:
    """The heading, or the one post link in it when the heading shows more than that link (a
    date split into spans, a star glyph, a badge): the post's title is the link's own text."""
    links = links_of(reader, heading)
    if len(links) != 1 or links[0].mem_id not in post_links:
        return heading
    # Raw texts first (cheap): a heading that is its link, as most are, needs no more reading.
    if links[0].text().strip() == heading.text().strip() or not reader.text(links[0]):
        return heading
    return links[0] if reader.text(links[0]) != reader.text(heading) else heading


def _title_in_link(reader: Reader, link: LexborNode) -> LexborNode:
    """The link, or the element in it that shows the title when the link wraps a whole card
    (its picture, title, date and summary): one whose class names a title, else the first
    element with text of its own that is no date."""
    parts = [child for child in link.iter() if reader.text(child)]
    if len(parts) < 2:
        return link
    named = link.css_first("[class*=title]")
    if named is not None and reader.text(named):
        return named
    for node in link.traverse():
        text = reader.text(node) if node.mem_id != link.mem_id else ""
        if text and node.text(deep=False).strip() and not parse_date(text) and len(text) <= _TITLE:
            return node
    return link


def _longest_text(links: list[LexborNode]) -> LexborNode | None:
    """The link with the longest text of at most :data:`_TITLE` characters."""
    best: LexborNode | None = None
    best_length = 0
    for link in links:
        text = link.text().strip()
        if best_length < len(text) <= _TITLE:
            best, best_length = link, len(text)
    return best


def pick_link(
    reader: Reader, card: LexborNode, title: LexborNode | None, post_links: set[int]
) -> LexborNode | None:
    """The permalink anchor: the one around or inside the title, else the most repeated href."""
    own = title_link(reader, title, card) if title is not None else None
    if own is not None:
        return own
    anchors = [a for a in links_of(reader, card) if a.mem_id in post_links]
    if not anchors:
        return None
    counts = Counter(_page_of(a) for a in anchors)
    top = counts.most_common(1)[0][0]
    return next(a for a in anchors if _page_of(a) == top)


def title_link(reader: Reader, title: LexborNode, card: LexborNode) -> LexborNode | None:
    """The link the title is, holds or sits inside (in ``card``); None for a title that links
    nowhere, as a single article's own heading or an FAQ question does."""
    if title.tag == "a" and title.attributes.get("href"):
        return title
    inner = links_of(reader, title)
    if inner:
        return inner[0]
    return enclosing_link(title, card)


def links_to_post(reader: Reader, card: LexborNode, title: LexborNode | None, post_links: set[int]) -> bool:
    """Whether the card links to its post the way post lists do: from its title, or with a
    link that shows no text of its own (a thumbnail, or a link laid over the whole card)."""
    if title is not None and title_link(reader, title, card) is not None:
        return True
    return any(a.mem_id in post_links and not a.text().strip() for a in links_of(reader, card))


def _page_of(anchor: LexborNode) -> str:
    """The anchor's href without its fragment."""
    return (anchor.attributes.get("href") or "").split("#")[0]


def pick_date(reader: Reader, card: LexborNode) -> tuple[LexborNode | None, bool]:
    """The element that shows the date, and whether the date was found inside longer text.

    Marked-up dates first (``<time>``, ``datePublished``; the published one before a
    modified one), then elements whose class says date/time, then the first text that holds a
    date (``"发表于 2022-06-26"``, a meta line).
    """
    # Most themes mark the date up with <time>, and the first three rules only match those.
    found = _first_marked_date(reader, card.css("time"), range(3))
    if found is None:
        others = [node for node in card.css(_UNTIMED_SELECTORS) if node.tag != "time"]
        found = _first_marked_date(reader, others, range(3, len(TIME_SELECTORS)))
    if found is not None:
        return found, False
    for node in card.css("[class*=date], [class*=time]"):
        text = reader.text(node)
        if text and parse_date(text):
            return node, False
    for node in card.traverse(include_text=True):
        if node.is_text_node:
            text = node.text_content or ""
            if has_year(text) and find_date(text) and node.parent is not None:
                return node.parent, True
    return None, False


def _first_marked_date(reader: Reader, nodes: list[LexborNode], rules: range) -> LexborNode | None:
    """The element with a readable date that the earliest of these :data:`TIME_SELECTORS`
    rules matches (the first in page order among equals)."""
    if not nodes:
        return None
    matched = [time_rules(node) for node in nodes]
    for rule in rules:
        for node, hits in zip(nodes, matched, strict=True):
            if hits[rule] and reader.date(node, None, ()):
                return node
    return None


def time_rules(node: LexborNode) -> tuple[bool, ...]:
    """Which of :data:`TIME_SELECTORS` the element matches (as ``css_matches`` would say)."""
    tag = node.tag
    attrs = node.attrs
    words = words_of(attrs.get("itemprop"))
    published = "datePublished" in words
    created = "dateCreated" in words
    prop = attrs.get("property")
    is_time = tag == "time"
    return (
        is_time and published,
        is_time and created,
        is_time,
        published,
        prop == "datePublished",
        tag == "meta" and prop == "article:published_time",
        created,
    )


def pick_excerpt(card: LexborNode, avoid: list[LexborNode]) -> LexborNode | None:
    """The largest block that holds none of the title, date and category elements.

    Counts, reading times, short credit lines and meta lines (:func:`_is_meta_line`) are not
    excerpts, so a card without a summary gives ``None`` rather than "约 3178 字" or "By Jane".
    """
    holders = _holders(card, avoid)
    best = _largest_summary(card, {n.mem_id for n in avoid}, holders)
    if best is None and card.mem_id not in holders and not avoid:
        return card
    return best


def _holders(card: LexborNode, avoid: list[LexborNode]) -> set[int]:
    """The elements of ``card`` that are or hold one of ``avoid``."""
    card_id = card.mem_id
    holders: set[int] = set()
    for node in avoid:
        if node.mem_id != card_id:
            holders.add(node.mem_id)
            for parent in ancestors(node, card):
                holders.add(parent.mem_id)
    return holders


def _largest_summary(card: LexborNode, avoid_ids: set[int], holders: set[int]) -> LexborNode | None:
    """The element of ``card`` with the longest text that may be a summary, looking inside the
    ``holders`` of avoided elements but never at those."""
    best: LexborNode | None = None
    best_length = 0
    stack = [card]
    while stack:
        node = stack.pop()
        for child in node.iter():
            if child.mem_id in avoid_ids or child.tag in ("script", "style", "svg"):
                continue
            if child.mem_id in holders:
                stack.append(child)
                continue
            if child.first_child is None:
                continue  # an icon, an image, a line break: no text
            text = child.text(deep=True).strip()  # raw text is enough to compare sizes
            if len(text) > best_length and _may_be_summary(text):
                best, best_length = child, len(text)
    return best


def _may_be_summary(text: str) -> bool:
    """Not a count or reading time, a label (one word: a tag, a category), a short credit line
    or a meta line."""
    if COUNT_LIKE.match(text) or _is_meta_line(text):
        return False
    if len(text) <= (_LABEL if text.isascii() else _CJK_LABEL) and not _ANY_SPACE.search(text):
        return False
    return len(text) > _META_LINE or not _BYLINE.match(text)


def _is_meta_line(text: str) -> bool:
    """A date with a few facts around it (``"发表于 2022-06-26"``, ``"技术 · 周六, 七月 11, 2026 ·
    4 分钟"``): short, unlike a summary, which may mention a date too."""
    visible = len(text) - text.count(" ") - text.count("\n") - text.count("\t")
    return visible <= _META_LINE and has_year(text) and find_date(text) is not None
