"""HTML listing pages to cards: extraction with a site profile's CSS selectors.

This module is the one place that turns selectors into card fields. The zero-configuration
detector (:mod:`archiver.parse.auto`) does not extract anything itself: it *infers* a
:class:`Profile` and runs it through :func:`extract_cards` here, so what ``archiver probe`` prints
as a profile reproduces exactly the cards the detector found.

Selector semantics (see :mod:`archiver.parse.profile` for the file format):

* ``card`` is matched in the whole page; a match nested in another match is ignored, and a match
  with no title, permalink or excerpt (a spacer, an empty template) gives no card;
* the other card selectors are matched inside each card (lexbor's ``css`` includes the card
  element itself); ``SELECTOR @attr`` reads an attribute instead of the default value;
* ``next_page`` is matched in the whole page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from urllib.parse import urljoin, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from archiver.errors import ProfileError
from archiver.models import Card, ParsedPage
from archiver.parse.dates import find_date, parse_date
from archiver.parse.limits import CACHE_ENTRIES, MAX_CACHED_KEY_CHARS, MAX_LINK_CHARS, MAX_PAGE_DIGITS
from archiver.parse.profile import Profile
from archiver.parse.visible import PAGE_CACHE, visible_text

_ATTR_SUFFIX = re.compile(r"^(?P<sel>.+?)\s+@(?P<attr>[A-Za-z_:][-\w:.]*)$")
#: A meta-line segment that is a reading time, a word or view count, or an author credit,
#: never a category.
_NOT_A_CATEGORY = re.compile(
    r"^(?:[\d.,]+\s*[kKwW万千]?\s*(?:字|词|分钟|小时|秒|min|mins|minutes?|hours?|words?|views?"
    r"|次阅读|阅读|reads?)\b.*|(?:约|大约|预计阅读|阅读时长|阅读|共)\s*[\d.,]+.*|\d+"
    r"|(?:by|posted\s+by|written\s+by|作者|发表|发布|更新)\b.*)$",
    re.IGNORECASE,
)
_NEXT_TEXT = re.compile(
    r"^(?:next(?:\s+page)?|older(?:\s+posts|\s+entries)?|more\s+posts|下一页|下页|后一页"
    r"|更早(?:的文章)?|次のページ)?\s*[›»→>]*$",
    re.IGNORECASE,
)
#: A page number: at most :data:`MAX_PAGE_DIGITS` digits (a longer one is no page number).
_PAGE_NUMBER = (
    re.compile(rf"(?P<pre>/page/?)(?P<n>\d{{1,{MAX_PAGE_DIGITS}}})(?P<post>/?(?:index\.html?)?)$"),
    re.compile(rf"(?P<pre>[?&]page=)(?P<n>\d{{1,{MAX_PAGE_DIGITS}}})(?P<post>)$"),
)


@dataclass(frozen=True, slots=True)
class Selector:
    """One profile selector split into its CSS part and the attribute it reads (if any)."""

    css: str
    attr: str | None = None

    @classmethod
    def parse(cls, text: str | None) -> Selector | None:
        """``"h2 a @href"`` -> ``Selector("h2 a", "href")``; ``None`` stays ``None``."""
        if not text:
            return None
        return _parse_selector(text) if len(text) <= MAX_CACHED_KEY_CHARS else _split_selector(text)


def _split_selector(text: str) -> Selector:
    """:meth:`Selector.parse` of a non-empty text."""
    match = _ATTR_SUFFIX.match(text.strip())
    if match:
        return Selector(match["sel"], match["attr"])
    return Selector(text.strip())


#: Detection tries the same candidates often.
_parse_selector = lru_cache(maxsize=CACHE_ENTRIES["selectors"])(_split_selector)


def parse_html(
    html: str, *, base_url: str | None = None, profile: Profile | None = None, utf8: bytes | None = None
) -> ParsedPage:
    """The post cards of one listing page, in page order, and the next page's absolute URL.

    With a profile its selectors decide; without one the page structure is analysed
    (:func:`archiver.parse.auto.detect`). Nothing found is an empty card list, never an
    exception: the caller decides whether zero cards is an error. ``utf8``, when the caller
    has it, is ``html`` encoded in UTF-8, what lexbor parses (it is spared encoding it again).
    """
    tree = LexborHTMLParser(html if utf8 is None else utf8)
    if profile is None:
        # Imported here because auto builds its profiles on this module's extractor.
        from archiver.parse.auto import detect_tree

        detection = detect_tree(tree, base_url=base_url)
        return ParsedPage(detection.cards, detection.next_url, detection.profile)
    nodes = select_cards(tree, profile.card)
    cards = extract_cards(tree, nodes, profile, base_url)
    return ParsedPage(cards=cards, next_url=find_next_url(tree, base_url, profile, nodes))


def css(node: LexborNode | LexborHTMLParser, selector: str) -> list[LexborNode]:
    """``node.css(selector)``, with an invalid selector reported as a :class:`ProfileError`."""
    try:
        return node.css(selector)
    except SelectolaxError as exc:
        raise ProfileError(f"invalid CSS selector {selector!r}: {exc}") from None


def select_cards(tree: LexborHTMLParser, selector: str) -> list[LexborNode]:
    """The card elements in page order, dropping matches nested inside an earlier match."""
    matches = css(tree, selector)
    return drop_nested(matches, {node.mem_id for node in matches})


def drop_nested(matches: list[LexborNode], ids: set[int]) -> list[LexborNode]:
    """``matches`` (in page order, ``ids`` their ``mem_id``) without those inside another match."""
    if len(matches) < 2:
        return matches
    clear: set[int] = set()  # elements known to have no match among their ancestors
    kept = []
    for node in matches:
        if is_nested(node, ids, clear):
            continue
        kept.append(node)
    return kept


def is_nested(node: LexborNode, ids: set[int], clear: set[int]) -> bool:
    """Whether an ancestor of ``node`` is one of ``ids``.

    ``clear`` collects elements found to have no such ancestor (nor to be one), so walks from
    sibling matches stop where an earlier walk already went.
    """
    walked = []
    parent = node.parent
    while parent is not None:
        parent_id = parent.mem_id
        if parent_id in clear:
            break
        if parent_id in ids:
            return True
        walked.append(parent_id)
        parent = parent.parent
    clear.update(walked)
    return False


def extract_cards(
    tree: LexborHTMLParser, nodes: Sequence[LexborNode], profile: Profile, base_url: str | None
) -> list[Card]:
    """One card per element of ``nodes`` (:func:`select_cards`: none inside another) that shows
    something (title, permalink or excerpt).

    Each field selector is matched once in the whole page and its matches are shared out to the
    cards that hold them: that is what ``card.css`` gives each card (lexbor matches a selector's
    ancestors beyond the element searched from), in the same order, for one query per selector
    instead of one per card and field.
    """
    if not nodes:
        return []  # no query at all: an invalid field selector is no error without a card
    fields = CardFields(profile, base_url)
    owners: dict[int, int] = {}
    for i, node in enumerate(nodes):
        owners.setdefault(node.mem_id, i)  # a card selector list can match one element twice
    slots = [owners[node.mem_id] for node in nodes]
    shared = [share_out(css(tree, query), owners, len(nodes)) for query in fields.queries]
    found = (
        fields.card(node, [by_card[i] for by_card in shared]) for node, i in zip(nodes, slots, strict=True)
    )
    return [card for card in found if card is not None]


def share_out(matches: list[LexborNode], owners: dict[int, int], count: int) -> list[list[LexborNode]]:
    """``matches`` (in page order) split by the card holding each, for ``count`` cards.

    ``owners`` maps each card's ``mem_id`` to its index; it learns every element walked through
    (-1: in no card), so walks from later matches stop where an earlier one went.
    """
    by_card: list[list[LexborNode]] = [[] for _ in range(count)]
    for node in matches:
        owner = owner_of(node, owners)
        if owner >= 0:
            by_card[owner].append(node)
    return by_card


def owner_of(node: LexborNode, owners: dict[int, int]) -> int:
    """The value ``owners`` gives the nearest of ``node`` and its ancestors it knows (-1: none).

    Every element walked through is added with that value, so walks from later nodes stop
    where an earlier one went: each element of the page is walked at most once.
    """
    walked = []
    current: LexborNode | None = node
    owner = -1
    while current is not None:
        current_id = current.mem_id
        known = owners.get(current_id)
        if known is not None:
            owner = known
            break
        walked.append(current_id)
        current = current.parent
    for current_id in walked:
        owners[current_id] = owner
    return owner


class CardFields:
    """A profile's field selectors, parsed once for every card, and how a card element's matches
    of them become a :class:`Card`."""

    __slots__ = ("_pick", "base_url", "formats", "queries", "selectors", "separator")

    def __init__(self, profile: Profile, base_url: str | None) -> None:
        fields = (
            profile.title,
            profile.permalink,
            profile.category,
            profile.tags,
            profile.date,
            profile.excerpt,
        )
        selectors = tuple(Selector.parse(text) for text in fields)
        #: each distinct CSS once, in field order (a title and permalink often share one)
        self.queries = tuple(dict.fromkeys(s.css for s in selectors if s is not None))
        self.selectors = selectors
        #: each field's matches among :meth:`card`'s ``found`` (a field without selector: the
        #: empty list after the last query's)
        self._pick = itemgetter(*(self.queries.index(s.css) if s is not None else -1 for s in selectors))
        self.base_url = base_url
        self.formats = profile.date_formats
        self.separator = profile.category_separator

    def card(self, node: LexborNode, found: list[list[LexborNode]]) -> Card | None:
        """The card ``node`` shows, ``found`` being its matches of each of :attr:`queries`;
        ``None`` when it shows no title, permalink or excerpt."""
        title, permalink, category, tags, date, excerpt = self.selectors
        t, p, c, g, d, e = self._pick([*found, []])
        card = Card(
            title=first_value(t, title),
            url=first_link_of(p, permalink, node, self.base_url),
            categories=all_values(c, category, self.separator),
            tags=all_values(g, tags, None),
            date=first_date_of(d, date, self.formats),
            excerpt=joined_values(e, excerpt, node),
        )
        return card if card.title or card.url or card.excerpt else None


def card_reader(profile: Profile, base_url: str | None) -> Callable[[LexborNode], Card | None]:
    """Read one card element with the profile's selectors (parsed once, for every card); ``None``
    when it shows no title, permalink or excerpt."""
    fields = CardFields(profile, base_url)
    queries = [Selector(query) for query in fields.queries]

    def read(node: LexborNode) -> Card | None:
        return fields.card(node, [_matches(node, query) for query in queries])

    return read


def _matches(node: LexborNode, selector: Selector | None) -> list[LexborNode]:
    if selector is None:
        return []
    page = PAGE_CACHE.get()
    if page is None:
        return css(node, selector.css)
    key = (node.mem_id, selector.css)
    found = page.matches.get(key)
    if found is None:
        found = page.matches[key] = css(node, selector.css)
    return found


def matches(card: LexborNode, selector: Selector | None) -> list[LexborNode]:
    """The selector's matches in the card (remembered in :func:`text_cache`; do not modify)."""
    return _matches(card, selector)


def _value(node: LexborNode, selector: Selector) -> str:
    """The matched element's text (visible, collapsed) or the selected attribute, collapsed."""
    if selector.attr:
        return " ".join((node.attributes.get(selector.attr) or "").split())
    return visible_text(node)


def first_text(card: LexborNode, selector: Selector | None) -> str | None:
    """The first non-empty text (or attribute) the selector gives in the card."""
    return first_value(_matches(card, selector), selector)


def first_value(matches: list[LexborNode], selector: Selector | None) -> str | None:
    """:func:`first_text` of a card whose matches of ``selector`` are ``matches``."""
    for node in matches:
        assert selector is not None
        value = _value(node, selector)
        if value:
            return value
    return None


def all_texts(card: LexborNode, selector: Selector | None, separator: str | None) -> tuple[str, ...]:
    """Every distinct non-empty value the selector gives, in page order.

    With a ``separator`` each value is a meta line like ``"技术 · 开源 · Jul 11, 2026 · 4 分钟"``:
    it is split, and the segments before the date that are not counts or credits are kept.
    """
    return all_values(_matches(card, selector), selector, separator)


def all_values(
    matches: list[LexborNode], selector: Selector | None, separator: str | None
) -> tuple[str, ...]:
    """:func:`all_texts` of a card whose matches of ``selector`` are ``matches``."""
    values: list[str] = []
    for node in matches:
        assert selector is not None
        text = _value(node, selector)
        if not separator:
            if text and text not in values:
                values.append(text)
            continue
        values += [piece for piece in split_meta_line(text, separator) if piece and piece not in values]
    return tuple(values)


def split_meta_line(text: str, separator: str) -> list[str]:
    """The category-like segments of a separated meta line: everything before the date."""
    kept = []
    for segment in (part.strip() for part in text.split(separator)):
        if find_date(segment):
            break
        if segment and not _NOT_A_CATEGORY.match(segment):
            kept.append(segment)
    return kept


def first_date(card: LexborNode, selector: Selector | None, formats: Sequence[str]) -> str | None:
    """The first readable date among the matches, as ``YYYY-MM-DD``."""
    return first_date_of(_matches(card, selector), selector, formats)


def first_date_of(matches: list[LexborNode], selector: Selector | None, formats: Sequence[str]) -> str | None:
    """:func:`first_date` of a card whose matches of ``selector`` are ``matches``."""
    for node in matches:
        assert selector is not None
        found = node_date(node, selector.attr, formats)
        if found:
            return found
    return None


def node_date(node: LexborNode, attr: str | None, formats: Sequence[str]) -> str | None:
    """The date one element shows: its ``attr``, else its text, else ``datetime``/``content``.

    The visible text wins over the attributes because that is the day readers see (a
    ``datetime`` in UTC can be a day off); attributes cover dates that scripts fill in later and
    exist only in markup (``<meta property=datePublished>``). A date inside a longer text
    (``"发表于 2022-06-26"``) is the last resort.
    """
    page = PAGE_CACHE.get()
    if page is None:
        return _node_date(node, attr, formats)
    key = (node.mem_id, attr, tuple(formats))
    if key not in page.dates:
        page.dates[key] = _node_date(node, attr, formats)
    return page.dates[key]


def _node_date(node: LexborNode, attr: str | None, formats: Sequence[str]) -> str | None:
    if attr:
        return find_date(node.attributes.get(attr) or "", formats)
    text = visible_text(node)
    found = parse_date(text, formats) if text else None
    if found:
        return found  # the attributes are not even read: building their dict costs more
    attrs = node.attributes
    for name in ("datetime", "content"):
        found = found or find_date(attrs.get(name) or "", formats)
    return found or (find_date(text, formats) if text else None)


def joined_text(card: LexborNode, selector: Selector | None) -> str | None:
    """All matches' texts joined (``.entry-content p`` gives every paragraph), or ``None``."""
    return joined_values(_matches(card, selector), selector, card)


def joined_values(matches: list[LexborNode], selector: Selector | None, card: LexborNode) -> str | None:
    """:func:`joined_text` of ``card``, whose matches of ``selector`` are ``matches``."""
    if not matches or selector is None:
        return None
    if len(matches) == 1:  # nothing it could be inside of
        return _value(matches[0], selector) or None
    ids = {node.mem_id for node in matches}
    texts = []
    for node in matches:
        if not _inside(node, ids, card):
            value = _value(node, selector)
            if value:
                texts.append(value)
    return " ".join(texts) or None


def _inside(node: LexborNode, ids: set[int], stop: LexborNode) -> bool:
    """Whether an ancestor of ``node`` (below ``stop``) is one of ``ids``."""
    parent = node.parent
    while parent is not None and parent.mem_id != stop.mem_id:
        if parent.mem_id in ids:
            return True
        parent = parent.parent
    return False


def first_link(card: LexborNode, selector: Selector | None, base_url: str | None) -> str | None:
    """The permalink: the first match's href (its own, a descendant's or its enclosing link's)."""
    return first_link_of(_matches(card, selector), selector, card, base_url)


def first_link_of(
    matches: list[LexborNode], selector: Selector | None, card: LexborNode, base_url: str | None
) -> str | None:
    """:func:`first_link` of ``card``, whose matches of ``selector`` are ``matches``."""
    for node in matches:
        assert selector is not None
        link = node_link(node, selector.attr, card, base_url)
        if link:
            return link
    return None


def node_link(node: LexborNode, attr: str | None, card: LexborNode, base_url: str | None) -> str | None:
    """The absolute URL one element links to (``attr`` when given, else :func:`href_of`)."""
    href = (node.attributes.get(attr) if attr else href_of(node, card)) or ""
    if not href.strip() or href.strip().startswith(("#", "javascript:", "mailto:")):
        return None
    return absolute(href, base_url)


def href_of(node: LexborNode, card: LexborNode) -> str | None:
    """The href that makes ``node`` a link: its own, its first link's, or its enclosing ``<a>``'s."""
    href = node.attributes.get("href")
    if href:
        return href
    inner = node.css_first("a[href]")
    if inner is not None:
        return inner.attributes.get("href")
    parent = node.parent
    while parent is not None and parent.mem_id != card.mem_id:
        if parent.tag == "a" and parent.attributes.get("href"):
            return parent.attributes.get("href")
        parent = parent.parent
    return None


def absolute(href: str, base_url: str | None) -> str | None:
    """``href`` resolved against the page's URL (left as written when there is no base).

    None when it is no web link: another scheme (``javascript:``, ``file:``, ``data:``...,
    however it is spelt) or a URL that cannot be parsed (``http://[::1``, port 99999). A page
    is data: what it links to is never a permalink or a next page unless it is http(s), nor
    when it is longer than :data:`~archiver.parse.limits.MAX_LINK_CHARS`.
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
    return url if parts.scheme.lower() in ("http", "https", "") else None


_remembered_absolute = lru_cache(maxsize=CACHE_ENTRIES["absolute links"])(_absolute)


def find_next_url(
    tree: LexborHTMLParser,
    base_url: str | None,
    profile: Profile | None,
    cards: Sequence[LexborNode],
    links: tuple[Sequence[LexborNode], Sequence[str | None]] | None = None,
) -> str | None:
    """The next (older) listing page: the profile's selector, ``rel=next``, then link text.

    Fallbacks, in order: a link labelled "Next"/"Older posts"/"下一页" or whose class says
    ``next``, then a link to page N+1 in the ``/page/N/`` or ``?page=N`` scheme. Links inside
    cards are ignored so a post titled "Next steps" is not taken for pagination. ``links`` are
    the page's ``a[href]`` elements and their hrefs when the caller already has them.
    """
    if profile is not None and profile.next_page:
        link = first_link_in_page(tree, Selector.parse(profile.next_page), base_url)
        if link:
            return _drop_fragment(link)
    for node in css(tree, "link[rel~=next][href], a[rel~=next][href]"):
        link = absolute(node.attributes.get("href") or "", base_url)
        if link:
            return _drop_fragment(link)
    card_ids = {node.mem_id for node in cards}
    here = _page_key(base_url) if base_url else None
    by_label = by_number = None
    wanted = _next_page_number(base_url)
    anchors: Sequence[LexborNode]
    hrefs: Sequence[str | None]
    if links is None:
        anchors = css(tree, "a[href]")
        hrefs = [node.attributes.get("href") for node in anchors]
    else:
        anchors, hrefs = links
    for node, raw in zip(anchors, hrefs, strict=True):
        href = (raw or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        url = absolute(href, base_url)
        if url is None or _page_key(url) == here or _inside(node, card_ids, tree.root or node):
            continue
        if by_label is None and _looks_like_next(node):
            by_label = url
        if by_number is None and wanted and _page_number(url) == wanted:
            by_number = url
    found = by_label or by_number
    return _drop_fragment(found) if found else None


def _drop_fragment(url: str) -> str:
    """The URL without its ``#fragment``.

    Pagination links often jump to an anchor (``/page/2/#board``); the page is what counts.
    """
    return url.split("#", 1)[0]


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
        if label and _NEXT_TEXT.match(label) and not re.fullmatch(r"[›»→>]+", label):
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
