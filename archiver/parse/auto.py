"""Zero-configuration card detection: find the post list in any blog theme's listing page.

The detector never extracts fields itself. It finds the card elements, writes a
:class:`~archiver.parse.profile.Profile` (CSS selectors) that describes them, and runs that profile
through :func:`archiver.parse.html.extract_cards`. So ``archiver probe`` can print the profile and
the user gets exactly the detected cards back when they pin it, and a profile only ever has to be
written when detection is wrong.

How the post list is found (one pass over the page's links, no per-theme rules):

1. every link to an internal page that is not a taxonomy, archive, pagination or asset URL is a
   *post link*;
2. walking up from each post link records, for every element, which post links it contains;
   sibling elements with the same tag under same-looking parents form *candidate groups* (so a
   grid of rows still forms one group);
3. a group scores by its members: each contributes more when it holds one permalink (not many),
   a heading, a date and text beyond its title; groups inside navigation, sidebars, footers and
   widgets are discounted. The best group's members are the cards;
4. a card selector is derived from the members' shared tag/classes (with parent context or
   ``:not(.x)`` when needed) and checked against the whole page; field selectors are chosen per
   field by how many cards they read the same way as the per-card analysis did.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from archiver.errors import ProfileError
from archiver.models import Card
from archiver.parse.dates import find_date, parse_date
from archiver.parse.html import (
    Selector,
    card_reader,
    css,
    find_next_url,
    first_date,
    first_link,
    first_text,
    is_nested,
    joined_text,
    matches,
    node_date,
    node_link,
    owner_of,
    select_cards,
    split_meta_line,
)
from archiver.parse.limits import CACHE_ENTRIES, MAX_CACHED_KEY_CHARS, MAX_LINK_CHARS
from archiver.parse.profile import Profile
from archiver.parse.visible import text_cache, visible_text, without_text_cache

#: Path segments of index pages: categories, tags, authors, search, feeds.
_TAXONOMY = frozenset(
    {
        "tags", "tag", "categories", "category", "author", "authors", "search", "feed", "rss",
        "topics", "topic", "label", "labels", "series",
    }
)  # fmt: skip
_ASSET = re.compile(r"\.(?:png|jpe?g|gif|webp|svg|ico|css|js|xml|json|txt|pdf|zip|gz|mp3|mp4|woff2?)$", re.I)
_CHROME = re.compile(
    r"(?:^|[\s_-])(?:sidebar|side|widget|widgets|aside|footer|nav|navbar|navigation|menu|toc"
    r"|related|comments?|breadcrumbs?|pagination|pager|header|topbar|tagcloud|tag-cloud"
    r"|archive-list|profile|author)(?:$|[\s_-])",
    re.I,
)
_CHROME_TAGS = frozenset({"nav", "aside", "footer", "header"})
_SIMPLE_CLASS = re.compile(r"^-?[A-Za-z_][\w-]*$")
_HEADINGS = "h1, h2, h3, h4, h5, h6"
_HEADLINE = "[itemprop~=headline], [property=headline]"
_TITLE_HEADINGS = f"{_HEADINGS}, .h1, .h2, .h3, .h4, .h5, .h6"
#: What :func:`_pick_title` takes for a heading.
_ANY_HEADING = f"{_HEADLINE}, {_TITLE_HEADINGS}"
_TIME_SELECTORS = (
    "time[itemprop~=datePublished]",
    "time[itemprop~=dateCreated]",
    "time",
    "[itemprop~=datePublished]",
    "[property=datePublished]",
    'meta[property="article:published_time"]',
    "[itemprop~=dateCreated]",
)
#: The most a member can add to its group's score (see :func:`_card_quality`).
_MAX_QUALITY = 6.0
#: A cheap "there is a date in here" test for scoring (see :func:`_looks_dated`); fields use
#: :func:`find_date`. Every form holds a year.
_LOOKS_DATED = re.compile(
    r"(?:19|20)\d\d\s*[-/.年]\s*\d{1,2}|\b[A-Za-z]{3,9}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+(?:19|20)\d\d"
    r"|\b\d{1,2}\s+[A-Za-z]{3,9}\.?,?\s+(?:19|20)\d\d|月\s*\d{1,2}\s*,?\s*(?:19|20)\d\d"
)
#: The forms of :data:`_LOOKS_DATED` that start with the year or a literal (fast to search for).
_DATED_YEAR_FIRST = re.compile(r"(?:19|20)\d\d\s*[-/.年]\s*\d{1,2}|月\s*\d{1,2}\s*,?\s*(?:19|20)\d\d")
#: The forms that end with ``<space> year`` and start with a word or a day (slow to search for
#: in long texts, so only searched for just before each spaced year).
_DATED_YEAR_LAST = re.compile(
    r"\b[A-Za-z]{3,9}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+(?:19|20)\d\d"
    r"|\b\d{1,2}\s+[A-Za-z]{3,9}\.?,?\s+(?:19|20)\d\d"
)
_SPACED_YEAR = re.compile(r"\s(?:19|20)\d\d")
#: Scoring looks for a date in this much of a member's text.
_DATED_WINDOW = 3000
_SEMANTIC_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "time", "article"})
_HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
#: Headings and dated elements, for :func:`_card_quality`.
_QUALITY_CSS = f"{_HEADINGS}, {_HEADLINE}, time, [itemprop~=datePublished], [property=datePublished]"
#: The rules of :data:`_TIME_SELECTORS` that may match other elements than ``time``.
_UNTIMED_SELECTORS = ", ".join(_TIME_SELECTORS[3:])
#: A card's links, as :func:`_links` reads them.
_LINKS = Selector("a[href]")
#: What separates the words of ``[attr~=word]`` (ASCII whitespace only, as in CSS).
_ASCII_SPACE = re.compile(r"[ \t\n\f\r]+")
_YEAR = re.compile(r"(?:19|20)\d\d")
_SEPARATORS = ("·", "|", "•", "/", "—", "｜")
#: A credit line ("By Jane Doe", "作者：张三"): when short, never a card's summary.
_BYLINE = re.compile(r"^(?:by|posted\s+by|written\s+by|author|作者)\b\s*[:：]?", re.I)
#: Longest one-word label (``raspberry-pi``, ``游戏开发``), in Latin and in CJK script.
_LABEL = 30
_CJK_LABEL = 6
_ANY_SPACE = re.compile(r"\s")
#: Longest meta line, in characters other than spaces (see :func:`_is_meta_line`).
_META_LINE = 80
_COUNT_LIKE = re.compile(r"^[\W\d\s]*$|^.{0,12}\d+\s*(?:字|分钟|min|words?|views?)", re.I)
#: Most cards analysed in full to choose field selectors (spread over the page): enough to see
#: every card variant, few enough to keep detection cheap on 70-card pages. The other cards are
#: looked at for the fields none of these shows (see :func:`_infer_profile`).
_SAMPLE = 5


@dataclass
class Detection:
    """What zero-configuration analysis found on a page, and the profile that reproduces it."""

    cards: list[Card]
    profile: Profile | None
    #: 0..1: how sure the detector is that these are the page's post cards
    confidence: float
    next_url: str | None


@dataclass
class _Group:
    """Candidate card elements: same tag, same-looking parents, each holding post links."""

    members: list[LexborNode] = field(default_factory=list)
    keys: list[set[str]] = field(default_factory=list)
    score: float = 0.0
    #: each member's :func:`_card_quality`, once scored
    qualities: list[float] = field(default_factory=list)


def detect(html: str, *, base_url: str | None = None) -> Detection:
    """Find the post cards of a listing page without any configuration."""
    return detect_tree(LexborHTMLParser(html), base_url=base_url)


def detect_tree(tree: LexborHTMLParser, *, base_url: str | None = None) -> Detection:
    """:func:`detect` on an already parsed page (``parse_html`` parses only once)."""
    with text_cache():
        try:
            return _detect(tree, base_url)
        except (ProfileError, SelectolaxError):
            # A selector built from the page's own markup that CSS cannot express (broken markup
            # such as a tag named `h2"`): no cards found, never an error about a profile the
            # user did not give.
            return Detection([], None, 0.0, None)


def _detect(tree: LexborHTMLParser, base_url: str | None) -> Detection:
    groups, edges, links = _candidate_groups(tree, base_url)
    if not groups:
        return Detection([], None, 0.0, find_next_url(tree, base_url, None, [], (links.anchors, links.hrefs)))
    _score_groups(groups)
    best = groups[0]
    members = _descend(_climb(best.members, edges))
    threshold = 0.5 * sorted(best.qualities)[len(best.qualities) // 2]
    card_selector, nodes = _card_selector(tree, members, threshold, links.posts)
    sample, rest = _sample(nodes, {n.mem_id for n in members})
    profile, analysed = _infer_profile(tree, sample, rest, card_selector, base_url, links)
    if _only_links(profile, nodes):
        return Detection([], None, 0.0, find_next_url(tree, base_url, None, [], (links.anchors, links.hrefs)))
    cards = _extract(nodes, profile, base_url, {n.mem_id for n in sample + analysed})
    # A rival is a list of *other* posts (the same cards seen one level up or down is not).
    posts = set().union(*best.keys)
    rivals = [g.score for g in groups[1:] if len(set().union(*g.keys) & posts) * 2 < len(posts)]
    runner_up = max(rivals, default=0.0)
    complete = sum(1 for c in cards if c.title and c.url) / len(cards) if cards else 0.0
    confidence = complete * min(1.0, len(cards) / 3) * (1 - 0.5 * min(1.0, runner_up / best.score))
    return Detection(
        cards=cards,
        profile=profile if cards else None,
        confidence=round(max(0.0, min(1.0, confidence)), 3),
        next_url=find_next_url(tree, base_url, profile, nodes, (links.anchors, links.hrefs)),
    )


def _only_links(profile: Profile, cards: list[LexborNode]) -> bool:
    """Whether the cards show nothing but a link: no date, summary, category or tags, and no
    heading.

    Every blog's post list shows at least one of those. A list of bare links is a directory
    listing (``python -m http.server``), a link list or a menu: taking it for posts would
    archive file names as posts. (A blog whose list really is bare titles needs a profile.)
    """
    if profile.date or profile.excerpt or profile.category or profile.tags:
        return False
    return not any(card.css_first(_ANY_HEADING) is not None for card in cards)


# --- finding the post list -------------------------------------------------------------------


def _post_key(href: str | None, base_url: str | None, base_host: str | None) -> str | None:
    """A comparable key for a link that may be a post permalink, else ``None``.

    Taxonomy/archive/pagination/asset links and links off the site are never permalinks, and
    the fragment is dropped so ``/post/#more`` is the same post as ``/post/``. Remembered per
    page URL (captures of one page repeat nearly all their links) and, below, per site; never
    for long links (:data:`~archiver.parse.limits.MAX_CACHED_KEY_CHARS`), and a link too long to
    follow (:data:`~archiver.parse.limits.MAX_LINK_CHARS`) is none.
    """
    if len(href or "") + len(base_url or "") <= MAX_CACHED_KEY_CHARS:
        return _remembered_post_key(href, base_url, base_host)
    return _link_key(href, base_url, base_host) if len(href or "") <= MAX_LINK_CHARS else None


def _link_key(href: str | None, base_url: str | None, base_host: str | None) -> str | None:
    """:func:`_post_key`, worked out."""
    if not href:
        return None
    href = href.strip()
    if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
        return None
    if (
        href[0] == "/"
        and not href.startswith("//")
        and base_url
        and base_url.startswith(("http://", "https://"))
        and not _URL_UNSAFE.search(href)
    ):
        # A link to a path on the page's own site, as most are: split as urlsplit would.
        path = href.partition("#")[0]
        path, _, query = path.partition("?")
        return _path_key(
            _netloc(base_url) if len(base_url) <= MAX_CACHED_KEY_CHARS else _host(base_url),
            path,
            query,
            base_host,
        )
    try:
        if href.startswith(("http://", "https://")) or not base_url:
            parts = urlsplit(href)
        else:
            parts = urlsplit(urljoin(base_url, href))
    except ValueError:  # http://[::1 and the like: not a link anyone can follow
        return None
    if parts.scheme not in ("http", "https", ""):
        return None
    return _path_key(parts.netloc.lower(), parts.path, parts.query, base_host)


_remembered_post_key = lru_cache(maxsize=CACHE_ENTRIES["post keys (per page URL)"])(_link_key)
#: What urlsplit removes from a URL before splitting it.
_URL_UNSAFE = re.compile(r"[\t\r\n]")


def _host(base_url: str) -> str:
    """The page URL's host (and port), in lower case."""
    return urlsplit(base_url).netloc.lower()


_netloc = lru_cache(maxsize=CACHE_ENTRIES["page hosts"])(_host)


def _path_key(netloc: str, path: str, query: str, base_host: str | None) -> str | None:
    """:func:`_post_key` of a split link (``netloc`` in lower case). The same on every page of
    a site, so remembered across pages: a site repeats its menus and tag links everywhere."""
    if len(netloc) + len(path) + len(query) <= MAX_CACHED_KEY_CHARS:
        return _remembered_path_key(netloc, path, query, base_host)
    return _split_key(netloc, path, query, base_host)


def _split_key(netloc: str, path: str, query: str, base_host: str | None) -> str | None:
    """:func:`_path_key`, worked out."""
    if base_host and netloc and netloc != base_host:
        return None
    segments = [s for s in path.lower().split("/") if s]
    if not segments or _ASSET.search(path):
        return None
    archive = True  # every segment so far can be part of a date archive: /archives/2021/05/
    for segment in segments:
        if segment in _TAXONOMY or (segment[:4] == "page" and (segment == "page" or segment[4:].isdecimal())):
            return None  # an index of posts (/tags/x/), or one of its pages (/page2/)
        if archive and not (
            segment in ("archive", "archives")
            or (len(segment) == 4 and segment.isdecimal())
            or (len(segment) <= 2 and segment.isdigit())
        ):
            archive = False
    if archive:
        return None
    return f"{netloc}{path.rstrip('/')}?{query}"


_remembered_path_key = lru_cache(maxsize=CACHE_ENTRIES["link paths (per site)"])(_split_key)


def _signature(node: LexborNode | None) -> str:
    """tag#id.classes: what makes two containers "the same" for grouping."""
    if node is None:
        return ""
    attrs = node.attributes
    classes = ".".join(sorted(_simple_classes(attrs.get("class"))))
    ident = attrs.get("id") or ""
    return f"{node.tag}#{ident}.{classes}"


def _split_classes(value: str) -> tuple[str, ...]:
    return tuple(c for c in value.split() if _SIMPLE_CLASS.match(c))


_class_list = lru_cache(maxsize=CACHE_ENTRIES["class lists"])(_split_classes)


def _compound(tag: str, value: str | None) -> str:
    """``tag.class1.class2`` of an element with that tag and class attribute."""
    if value is None or len(value) <= MAX_CACHED_KEY_CHARS:
        return _remembered_compound(tag, value)
    return _join_compound(tag, value)


def _join_compound(tag: str, value: str | None) -> str:
    return tag + "".join(f".{c}" for c in _simple_classes(value))


_remembered_compound = lru_cache(maxsize=CACHE_ENTRIES["tag.class compounds"])(_join_compound)


def _simple_classes(value: str | None) -> tuple[str, ...]:
    """Class names usable in a selector without escaping (skips ``md:hover:x`` utilities)."""
    if not value:
        return ()
    return _class_list(value) if len(value) <= MAX_CACHED_KEY_CHARS else _split_classes(value)


#: An element that holds post links: ``(keys, parent_id, parent, parent_tag, node, tag)``, the
#: post keys inside it, its parent (``mem_id``, node, tag), itself and its tag. Tags and ids are
#: read from the tree once, when the element is first reached. (A tuple: pages have hundreds.)
_Edge = tuple[set[str], int, LexborNode, "str | None", LexborNode, "str | None"]
_Edges = dict[int, _Edge]
_TOP_TAGS = frozenset({"html", "-document", None})


class _PageLinks(NamedTuple):
    """The page's ``a[href]`` elements, read once for every step that looks at links."""

    anchors: list[LexborNode]
    hrefs: list[str | None]
    #: ``mem_id`` of the anchors that link to a post (:func:`_post_key`)
    posts: set[int]


def _candidate_groups(
    tree: LexborHTMLParser, base_url: str | None
) -> tuple[list[_Group], _Edges, _PageLinks]:
    """Every group of same-tag elements under same-looking parents that hold post links.

    Also returns, per element that holds post links, its parent and the post keys inside it,
    and the page's links.
    """
    base_host = urlsplit(base_url).netloc.lower() if base_url else None
    anchors = tree.css("a[href]")
    hrefs = [a.attrs.get("href") for a in anchors]
    keys = _post_keys(hrefs, base_url, base_host)
    if base_host and not any(keys):
        # Permalinks may point to another host (a custom domain): accept any host.
        keys = _post_keys(hrefs, base_url, None)
    here = _post_key(base_url, base_url, None) if base_url else None
    edges: _Edges = {}
    tops: set[int] = set()  # elements whose parent is the document (no card above them)
    posts: set[int] = set()
    for anchor, key in zip(anchors, keys, strict=True):
        if not key or key == here:
            continue
        node_id = anchor.mem_id
        posts.add(node_id)
        entry = edges.get(node_id)
        if entry is None:
            parent = anchor.parent
            if parent is None:
                continue
            parent_tag = parent.tag
            if parent_tag in _TOP_TAGS:
                continue
            entry = edges[node_id] = (set(), parent.mem_id, parent, parent_tag, anchor, "a")
        while True:
            inside = entry[0]
            if key in inside:
                break  # this key was already walked up from here
            inside.add(key)
            node_id = entry[1]
            outer = edges.get(node_id)
            if outer is None:
                if node_id in tops:
                    break
                node = entry[2]
                parent = node.parent
                parent_tag = parent.tag if parent is not None else None
                if parent is None or parent_tag in _TOP_TAGS:
                    tops.add(node_id)
                    break
                outer = edges[node_id] = (set(), parent.mem_id, parent, parent_tag, node, entry[3])
            entry = outer
    groups: dict[tuple[str, str, str], _Group] = {}
    sig_cache: dict[int, str] = {}
    for inside, parent_id, parent, parent_tag, node, tag in edges.values():
        if tag in ("a", "body"):
            continue
        outer = edges.get(parent_id)
        if outer is not None and outer[0] == inside and parent_tag not in ("body", "main"):
            # The parent holds the same posts: it is the same card seen from outside (or a
            # card made of parts), and :func:`_climb` would step out to it anyway.
            continue
        parent_sig = sig_cache.get(parent_id)
        if parent_sig is None:
            parent_sig = sig_cache[parent_id] = _signature(parent)
        if outer is not None:
            grand_sig = sig_cache.get(outer[1])
            if grand_sig is None:
                grand_sig = sig_cache[outer[1]] = _signature(outer[2])
        else:
            grand = parent.parent
            grand_sig = _signature(grand) if grand is not None else ""
        group_key = (grand_sig, parent_sig, tag or "")
        group = groups.get(group_key)
        if group is None:
            group = groups[group_key] = _Group()
        group.members.append(node)
        group.keys.append(inside)
    # Anchors were walked in document order, so members already are in page order.
    return list(groups.values()), edges, _PageLinks(anchors, hrefs, posts)


def _post_keys(hrefs: list[str | None], base_url: str | None, base_host: str | None) -> list[str | None]:
    """:func:`_post_key` of every href (a page repeats the same hrefs many times)."""
    known = {href: _post_key(href, base_url, base_host) for href in dict.fromkeys(hrefs)}
    return [known[href] for href in hrefs]


def _score_groups(groups: list[_Group]) -> None:
    """Score the groups, best first, skipping those that cannot beat the best so far.

    A member scores at most :data:`_MAX_QUALITY`, so a group's size bounds its score; most
    groups (one-element wrappers, rows of a grid) are never looked at closely.
    """
    factors: dict[int, float] = {}
    chrome: dict[int, bool] = {}
    bounds = []
    for group in groups:
        key = _parent_id(group.members[0])
        if key not in factors:
            factors[key] = _context_factor(group.members[0], chrome)
        bounds.append(len(group.members) * _MAX_QUALITY * factors[key])
    order = sorted(range(len(groups)), key=lambda i: -bounds[i])
    top = 0.0
    for i in order:
        if bounds[i] <= top:
            break
        groups[i].score = _score(groups[i], factors[_parent_id(groups[i].members[0])])
        top = max(top, groups[i].score)
    groups.sort(key=lambda g: g.score, reverse=True)


def _parent_id(node: LexborNode) -> int:
    parent = node.parent
    return parent.mem_id if parent is not None else 0


def _score(group: _Group, context: float) -> float:
    """How much a group looks like the page's post list (see the module docstring)."""
    total = 0.0
    parts = 0
    previous: tuple[int, set[str]] | None = None
    for node, keys, quality in zip(group.members, group.keys, _card_qualities(group.members), strict=True):
        group.qualities.append(quality)
        total += quality / len(keys)
        parent = node.parent
        parent_id = parent.mem_id if parent is not None else 0
        if previous is not None and previous[0] == parent_id and previous[1] & keys:
            parts += 1  # the same post as the previous sibling: both are parts of one card
        previous = (parent_id, keys)
    total *= 1 - parts / len(group.members)
    if len(group.members) == 1:
        total *= 0.5
    return total * context


def _card_quality(node: LexborNode) -> float:
    """1 for a post link, plus a heading, a date and up to 3 for text beyond the title.

    The heading is the first ``h1``-``h6`` or marked-up headline; the date a ``<time>``, a
    ``datePublished`` or a date-like text (one ``css`` call finds both kinds of element).
    """
    heading: LexborNode | None = None
    marked_date = False
    for found in node.css(_QUALITY_CSS):
        heading, marked_date = _classify(found, heading, marked_date)
        if heading is not None and marked_date:
            break
    return _quality(node, heading, marked_date)


def _card_qualities(nodes: list[LexborNode]) -> list[float]:
    """:func:`_card_quality` of each node; siblings are searched with one ``css`` call on their
    parent (in page order, so each node's first heading is the first one seen inside it)."""
    siblings: dict[int, list[int]] = {}
    for i, node in enumerate(nodes):
        siblings.setdefault(_parent_id(node), []).append(i)
    headings: list[LexborNode | None] = [None] * len(nodes)
    dated = [False] * len(nodes)
    qualities: list[float | None] = [None] * len(nodes)
    for parent_id, indexes in siblings.items():
        parent = nodes[indexes[0]].parent
        if parent is None or len(indexes) < 4:
            for i in indexes:
                qualities[i] = _card_quality(nodes[i])
            continue
        # Which node each element walked through is inside (-1: none, or the parent itself);
        # siblings' walks stop where an earlier walk already went.
        owner = {nodes[i].mem_id: i for i in indexes}
        owner[parent_id] = -1
        for found in parent.css(_QUALITY_CSS):
            i = owner_of(found, owner)
            if i >= 0 and (headings[i] is None or not dated[i]):
                headings[i], dated[i] = _classify(found, headings[i], dated[i])
    return [
        _quality(node, heading, marked) if quality is None else quality
        for node, heading, marked, quality in zip(nodes, headings, dated, qualities, strict=True)
    ]


def _classify(
    found: LexborNode, heading: LexborNode | None, marked_date: bool
) -> tuple[LexborNode | None, bool]:
    """The first heading and whether a marked-up date was seen, after one more match of
    :data:`_QUALITY_CSS`: headings and ``time`` by their tag, anything else by its markup."""
    tag = found.tag
    if tag in _HEADING_TAGS:
        return (found if heading is None else heading), marked_date
    if tag == "time":
        return heading, True
    attrs = found.attrs
    itemprop = attrs.get("itemprop")
    words = _ASCII_SPACE.split(itemprop) if itemprop else ()
    prop = attrs.get("property")
    if heading is None and ("headline" in words or prop == "headline"):
        heading = found
    return heading, marked_date or "datePublished" in words or prop == "datePublished"


def _quality(node: LexborNode, heading: LexborNode | None, marked_date: bool) -> float:
    text = node.text(deep=True)
    length = len(text) - text.count(" ") - text.count("\n")
    title_length = len(heading.text().strip()) if heading is not None else min(length, 40)
    dated = marked_date or _looks_dated(text)
    extra = max(0, length - title_length)
    return 1.0 + (heading is not None) + dated + min(extra, 300) / 100


def _looks_dated(text: str) -> bool:
    """``_LOOKS_DATED.search(text, 0, _DATED_WINDOW) is not None``, without scanning long texts
    with the slow forms: those end with a spaced year, so they are looked for only just before
    each one (a word or day, a space run, at most 11 other characters, a space run, the year).
    """
    window = text[:_DATED_WINDOW]
    if _DATED_YEAR_FIRST.search(window):
        return True
    for match in _SPACED_YEAR.finditer(window):
        start = match.start()  # the last space before the year
        before = len(window[:start].rstrip())  # where that space run starts
        stop = max(0, before - 11)
        while before > stop and not window[before - 1].isspace():
            before -= 1
        if before == 0 or not window[before - 1].isspace():
            continue  # no space run within reach: neither form can end at this year
        before = len(window[:before].rstrip())
        if _DATED_YEAR_LAST.search(window, max(0, before - 10), match.end()):
            return True
    return False


def _context_factor(node: LexborNode, known: dict[int, bool] | None = None) -> float:
    """Discount for lists inside navigation, sidebars, footers and widgets.

    ``known`` remembers, per element already walked, whether it is inside (or is) such chrome,
    so walks from other lists stop where an earlier walk went.
    """
    walked = []
    inside = False
    current = node.parent
    while current is not None:
        tag = current.tag
        if tag in ("body", "html"):
            break
        current_id = current.mem_id
        if known is not None and (seen := known.get(current_id)) is not None:
            inside = seen
            break
        attrs = current.attributes
        hint = f"{attrs.get('class') or ''} {attrs.get('id') or ''}"
        if tag in _CHROME_TAGS or _CHROME.search(hint) or attrs.get("role") == "navigation":
            inside = True
            break
        walked.append(current_id)
        current = current.parent
    if known is not None:
        for current_id in walked:
            known[current_id] = inside
        if inside and current is not None:
            known[current.mem_id] = True
    return 0.25 if inside else 1.0


def _climb(members: list[LexborNode], edges: _Edges) -> list[LexborNode]:
    """Step out to the parents while each parent holds the same posts as its one member.

    The best-scoring level can be the text column of a card whose thumbnail link sits beside
    it; the parent is the whole card. A single member is never climbed (its parent could be
    the whole list).
    """
    while len(members) > 1:
        parents = []
        for node in members:
            own = edges.get(node.mem_id)
            if own is None:
                return members
            outer = edges.get(own[1])
            if outer is None or outer[0] != own[0]:
                return members
            parent = own[2]
            if own[3] in ("body", "main") or parent.attributes.get("role") == "main":
                return members
            parents.append(parent)
        if len({p.mem_id for p in parents}) != len(parents) or len({p.tag for p in parents}) != 1:
            return members
        members = parents
    return members


def _descend(members: list[LexborNode]) -> list[LexborNode]:
    """Step into single-child wrappers (``li > article``) while every member is one.

    The inner element usually carries the classes that make a good card selector.
    """
    while True:
        inner = []
        for node in members:
            children = list(node.iter())
            own_text = node.text(deep=False).strip()
            if len(children) != 1 or own_text or children[0].tag == "a":
                return members
            inner.append(children[0])
        if len({n.tag for n in inner}) != 1:
            return members
        members = inner


# --- the card selector -----------------------------------------------------------------------


def _card_selector(
    tree: LexborHTMLParser, members: list[LexborNode], threshold: float, post_links: set[int]
) -> tuple[str, list[LexborNode]]:
    """A page-wide CSS selector that matches the members (plus harmless extras), and the cards
    it selects (:func:`select_cards`).

    Extras are acceptable when they give no card (empty spacers) or are cards themselves
    (pinned posts in their own container: a post link and at least ``threshold`` quality);
    anything else makes the selector more specific.
    """
    member_ids = {n.mem_id for n in members}
    tag = members[0].tag or "div"
    common = set(_simple_classes(members[0].attributes.get("class")))
    for node in members[1:]:
        common &= set(_simple_classes(node.attributes.get("class")))
    # In the markup's order: themes put the defining class first ("card post featured").
    classes = [c for c in _simple_classes(members[0].attributes.get("class")) if c in common]
    parents = [n.parent for n in members if n.parent is not None]
    parent_sel = _shared_selector(parents)
    bases = [tag] + [f"{tag}.{c}" for c in classes[:3]]
    if len(classes) > 1:
        bases.append(tag + "".join(f".{c}" for c in classes))
    candidates = bases + ([f"{parent_sel} > {b}" for b in bases] if parent_sel else [])
    fallback: tuple[int, str, list[LexborNode]] | None = None
    for selector in candidates:
        if selector == tag and _has_ancestor_tag(members[0], tag):
            continue  # the bare tag matches an ancestor of a member, so that member is nested
        checked = _unacceptable(tree, selector, member_ids, threshold, post_links)
        if checked is None:
            continue
        bad, cards = checked
        if not bad:
            return selector, cards
        refined = _exclude(selector, bad, members)
        if refined:
            again = _unacceptable(tree, refined, member_ids, threshold, post_links)
            if again is not None and not again[0]:
                return refined, again[1]
        if fallback is None or len(bad) < fallback[0]:
            fallback = (len(bad), selector, cards)
    if fallback:
        return fallback[1], fallback[2]
    return tag, select_cards(tree, tag)


def _has_ancestor_tag(node: LexborNode, tag: str) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.tag == tag:
            return True
        parent = parent.parent
    return False


def _shared_selector(nodes: Sequence[LexborNode]) -> str | None:
    """``tag.class`` (or ``#id``) shared by all the nodes, for a ``parent > card`` selector."""
    nodes = list({n.mem_id: n for n in nodes}.values())  # siblings' parents: often one node
    if not nodes or len({n.tag for n in nodes}) != 1:
        return None
    ids = {n.attributes.get("id") for n in nodes}
    if len(ids) == 1 and (ident := ids.pop()) and _SIMPLE_CLASS.match(ident):
        return f"#{ident}"
    common = set(_simple_classes(nodes[0].attributes.get("class")))
    for node in nodes[1:]:
        common &= set(_simple_classes(node.attributes.get("class")))
    return (nodes[0].tag or "div") + "".join(f".{c}" for c in sorted(common))


def _unacceptable(
    tree: LexborHTMLParser,
    selector: str,
    member_ids: set[int],
    threshold: float,
    post_links: set[int],
) -> tuple[list[LexborNode], list[LexborNode]] | None:
    """Matches of ``selector`` that would be wrong cards, and :func:`select_cards` of it;
    ``None`` if it misses a member.

    Same as checking :func:`select_cards`, but a selector that misses a member, or matches an
    ancestor of one, is rejected before the (page-wide) nesting check of every match.
    """
    matches = css(tree, selector)
    ids = {n.mem_id for n in matches}
    if not member_ids <= ids:
        return None
    clear: set[int] = set()
    members = [n for n in matches if n.mem_id in member_ids]
    if any(is_nested(n, ids, clear) for n in members):
        return None
    # As drop_nested(matches, ids), knowing the members are not nested.
    if len(matches) > 1:
        matched = [n for n in matches if n.mem_id in member_ids or not is_nested(n, ids, clear)]
    else:
        matched = matches
    bad = []
    for node in matched:
        if node.mem_id in member_ids or _is_empty(node):
            continue
        has_post_link = any(a.mem_id in post_links for a in node.css("a[href]"))
        if not (has_post_link and _card_quality(node) >= threshold):
            bad.append(node)
    return bad, matched


def _is_empty(node: LexborNode) -> bool:
    """Neither text nor a link: a spacer or a placeholder, never a wrong card."""
    return not node.text(deep=True).strip() and node.css_first("a[href]") is None


def _exclude(selector: str, bad: list[LexborNode], members: list[LexborNode]) -> str | None:
    """``selector:not(.x)`` for a class every bad match has and no member has."""
    member_classes: set[str] = set()
    for node in members:
        member_classes.update(_simple_classes(node.attributes.get("class")))
    shared = set(_simple_classes(bad[0].attributes.get("class")))
    for node in bad[1:]:
        shared &= set(_simple_classes(node.attributes.get("class")))
    usable = sorted(shared - member_classes)
    return f"{selector}:not(.{usable[0]})" if usable else None


# --- field selectors -------------------------------------------------------------------------


def _sample(nodes: list[LexborNode], member_ids: set[int]) -> tuple[list[LexborNode], list[LexborNode]]:
    """At most :data:`_SAMPLE` of the cards, spread over the page, and the other cards, leaving
    out empty matches (a spacer the card selector also matches tells nothing about the fields)."""
    shown = [n for n in nodes if n.mem_id in member_ids or not _is_empty(n)]
    nodes = shown or nodes
    if len(nodes) <= _SAMPLE:
        return nodes, []
    picked = {round(i * (len(nodes) - 1) / (_SAMPLE - 1)) for i in range(_SAMPLE)}
    return [nodes[i] for i in sorted(picked)], [n for i, n in enumerate(nodes) if i not in picked]


def _extract(
    nodes: list[LexborNode], profile: Profile, base_url: str | None, sampled: set[int]
) -> list[Card]:
    """:func:`extract_cards`, reusing what the analysis of the sampled cards read; the other
    cards are read as with a given profile (nothing read before, nothing worth remembering)."""
    read = card_reader(profile, base_url)
    seen = {node.mem_id: read(node) for node in nodes if node.mem_id in sampled}
    with without_text_cache():
        found = [seen[node.mem_id] if node.mem_id in seen else read(node) for node in nodes]
    return [card for card in found if card is not None]


def _infer_profile(
    tree: LexborHTMLParser,
    sample: list[LexborNode],
    rest: list[LexborNode],
    card: str,
    base_url: str | None,
    page_links: _PageLinks,
) -> tuple[Profile, list[LexborNode]]:
    """Field selectors that read the sampled cards (:func:`_sample`) the way the per-card
    analysis does, and the other cards (``rest``) that were analysed too.

    Every card counts: a field that no sampled card shows (a category on one card of twenty)
    is looked for in the other cards, and those that show it join the comparison for that
    field; taxonomy links, cheap to find, are looked for in every card.
    """
    post_links = page_links.posts
    titles = [_pick_title(n, post_links) for n in sample]
    title = _best(
        sample,
        titles,
        first_text,
        lambda n: visible_text(n) or None,
    )
    links = [_pick_link(n, t, post_links) for n, t in zip(sample, titles, strict=True)]
    permalink = _best(
        sample,
        links,
        lambda c, s: first_link(c, s, base_url),
        lambda n: node_link(n, None, n, base_url),
        extra=("a[href]",),
    )
    dates = [_pick_date(n) for n in sample]
    date_cards, date_picks = _showing(sample, [d for d, _ in dates], rest, lambda n: _pick_date(n)[0])
    date = _best(
        date_cards,
        date_picks,
        lambda c, s: first_date(c, s, ()),
        lambda n: node_date(n, None, ()),
        extra=_TIME_SELECTORS,
    )
    used = _taxonomy_rules(tree, sample + rest, page_links)
    category, separator = _category_selector(sample, dates, used)
    if category is None and rest:
        inside = _Inside(rest)
        category = _labelled_categories([node for node in tree.css(_LABELLED) if inside(node)])
    tags = ", ".join(rule for rule in _TAG_RULES if rule in used) or None
    # Read as the extraction will (and remembered for it): the order and repeats of the
    # avoided elements do not matter.
    avoid = [selector for s in (category, tags) if (selector := Selector.parse(s))]
    excerpts = [_excerpt_pick(n, t, d, avoid) for n, t, (d, _) in zip(sample, titles, dates, strict=True)]
    excerpt_cards, excerpt_picks = _showing(
        sample,
        excerpts,
        rest,
        lambda n: _excerpt_pick(n, _pick_title(n, post_links), _pick_date(n)[0], avoid),
    )
    excerpt = _best(
        excerpt_cards,
        excerpt_picks,
        joined_text,
        lambda n: visible_text(n) or None,
    )
    profile = Profile(
        card=card,
        title=title,
        permalink=permalink,
        category=category,
        tags=tags,
        date=date,
        excerpt=excerpt,
        category_separator=separator,
    )
    analysed = {n.mem_id: n for n in date_cards[len(sample) :] + excerpt_cards[len(sample) :]}
    return profile, list(analysed.values())


def _showing(
    sample: list[LexborNode],
    picks: list[LexborNode | None],
    rest: list[LexborNode],
    pick: Callable[[LexborNode], LexborNode | None],
) -> tuple[list[LexborNode], list[LexborNode | None]]:
    """The cards to choose a field's selector from, and their picked elements: the sample, plus
    the other cards that show the field when no sampled card does."""
    if not rest or any(p is not None for p in picks):
        return sample, picks
    shown = [(n, found) for n in rest if (found := pick(n)) is not None]
    return sample + [n for n, _ in shown], [*picks, *(found for _, found in shown)]


def _excerpt_pick(
    card: LexborNode, title: LexborNode | None, date: LexborNode | None, avoid: list[Selector]
) -> LexborNode | None:
    """:func:`_pick_excerpt` of a card, avoiding its title, date and ``avoid`` matches."""
    avoided = [x for x in (title, date) if x is not None]
    for selector in avoid:
        avoided += matches(card, selector)
    return _pick_excerpt(card, avoided)


def _best(
    cards: list[LexborNode],
    picks: Sequence[LexborNode | None],
    read: Callable[[LexborNode, Selector], str | tuple[str, ...] | None],
    value_of: Callable[[LexborNode], str | None],
    extra: Sequence[str] = (),
) -> str | None:
    """The candidate selector that reads the most cards the same way as the picked elements.

    Candidates come from the picked elements' own tag/classes/attributes and their path from
    the card, plus ``extra`` generic selectors. Ties go to a qualified selector (see
    :func:`_qualified`), then to the shortest, as the easiest to read and edit in a profile.
    """
    wanted = [value_of(p) if p is not None else None for p in picks]
    if not any(wanted):
        return None
    candidates: list[str] = []
    sources = 0
    for card, pick in zip(cards, picks, strict=True):
        if pick is not None and sources < 2:  # two cards' markup give every useful candidate
            sources += 1
            for candidate in _candidates_for(card, pick):
                if candidate not in candidates:
                    candidates.append(candidate)
    candidates += [e for e in extra if e not in candidates]
    # Best-first, so the first selector that reads every card right is the answer.
    candidates.sort(key=lambda c: (not _qualified(c), len(c)))
    # Usually a candidate reads every card right: find the first such one, dropping each
    # candidate at its first wrong card.
    verdicts: list[list[bool]] = []
    for candidate in candidates:
        selector = Selector.parse(candidate)
        assert selector is not None
        verdict = []
        for card, want in zip(cards, wanted, strict=True):
            verdict.append(read(card, selector) == want)
            if not verdict[-1]:
                break
        else:
            return candidate
        verdicts.append(verdict)
    # None does: the one that reads the most cards right (the first of equals), giving up on
    # a candidate as soon as it can no longer read more cards right than the best so far.
    best: tuple[int, str] | None = None
    for candidate, verdict in zip(candidates, verdicts, strict=True):
        selector = Selector.parse(candidate)
        assert selector is not None
        agree = sum(verdict)
        left = len(cards) - len(verdict)
        for card, want in zip(cards[len(verdict) :], wanted[len(verdict) :], strict=True):
            if best is not None and agree + left <= best[0]:
                break
            agree += read(card, selector) == want
            left -= 1
        if best is None or agree > best[0]:
            best = (agree, candidate)
    return best[1] if best and best[0] > 0 else None


def _qualified(selector: str) -> bool:
    """Whether a selector says *what* it selects (a class, an attribute value, a heading or
    ``time``) rather than being a bare ``p``/``span`` that only happens to fit these cards."""
    return "." in selector or "=" in selector or selector in _SEMANTIC_TAGS


def _candidates_for(card: LexborNode, node: LexborNode) -> list[str]:
    """Selectors for ``node`` inside ``card``: attributes, tag.classes, then the path from card."""
    attrs = node.attributes
    tag = node.tag or "*"
    out = []
    for attr in ("itemprop", "property"):
        words = (attrs.get(attr) or "").split()
        if words and _SIMPLE_CLASS.match(words[0]):
            out.append(f"{tag}[{attr}~={words[0]}]")
    value = attrs.get("class")
    own = _compound(tag, value)
    if value and (classes := _simple_classes(value)):
        out += [own, *(f"{tag}.{c}" for c in classes[:4])]
    steps = [own]
    current = node.parent
    card_id = card.mem_id
    while current is not None and current.mem_id != card_id:
        steps.append(_compound(current.tag or "*", current.attributes.get("class")))
        current = current.parent
    if len(steps) > 1:
        out.append(" > ".join(reversed(steps)))
    out.append(tag)
    return out


def _pick_title(card: LexborNode, post_links: set[int]) -> LexborNode | None:
    """The headline: a marked-up headline, a heading, else the longest short post link."""
    marked = card.css_first(_HEADLINE)
    if marked is not None and marked.text().strip():
        return marked
    for heading in card.css(_TITLE_HEADINGS):
        if heading.text().strip():
            return heading
    # A post link's text, not a longer category or "Read more" link beside it.
    links = _links(card)
    posts = [a for a in links if a.mem_id in post_links]
    return _longest_text(posts) or _longest_text(links)


def _links(card: LexborNode) -> list[LexborNode]:
    """The card's ``a[href]`` elements, read once per card for every field that looks at links
    (and for the permalink candidate ``a[href]``)."""
    return matches(card, _LINKS)


def _longest_text(links: list[LexborNode]) -> LexborNode | None:
    """The link with the longest text of at most 200 characters (a title, not a paragraph)."""
    best: LexborNode | None = None
    best_length = 0
    for link in links:
        text = link.text().strip()
        if best_length < len(text) <= 200:
            best, best_length = link, len(text)
    return best


def _pick_link(card: LexborNode, title: LexborNode | None, post_links: set[int]) -> LexborNode | None:
    """The permalink anchor: the one around or inside the title, else the most repeated href."""
    if title is not None:
        if title.tag == "a" and title.attributes.get("href"):
            return title
        inner = title.css_first("a[href]")
        if inner is not None:
            return inner
        parent = title.parent
        while parent is not None and parent.mem_id != card.mem_id:
            if parent.tag == "a" and parent.attributes.get("href"):
                return parent
            parent = parent.parent
    anchors = [a for a in _links(card) if a.mem_id in post_links]
    if not anchors:
        return None
    counts = Counter((a.attributes.get("href") or "").split("#")[0] for a in anchors)
    top = counts.most_common(1)[0][0]
    return next(a for a in anchors if (a.attributes.get("href") or "").split("#")[0] == top)


def _pick_date(card: LexborNode) -> tuple[LexborNode | None, bool]:
    """The element that shows the date, and whether the date was found inside longer text.

    Marked-up dates first (``<time>``, ``datePublished``; the published one before a
    modified one), then elements whose class says date/time, then the first text that holds a
    date (``"发表于 2022-06-26"``, a meta line).
    """
    # Most themes mark the date up with <time>, and the first three rules only match those.
    found = _first_marked_date(card.css("time"), range(3))
    if found is None:
        others = [node for node in card.css(_UNTIMED_SELECTORS) if node.tag != "time"]
        found = _first_marked_date(others, range(3, len(_TIME_SELECTORS)))
    if found is not None:
        return found, False
    for node in card.css("[class*=date], [class*=time]"):
        text = visible_text(node)
        if text and parse_date(text):
            return node, False
    for node in card.traverse(include_text=True):
        if node.is_text_node:
            text = node.text_content or ""
            if _YEAR.search(text) and find_date(text) and node.parent is not None:
                return node.parent, True
    return None, False


def _first_marked_date(nodes: list[LexborNode], rules: range) -> LexborNode | None:
    """The element with a readable date that the earliest of these :data:`_TIME_SELECTORS`
    rules matches (the first in page order among equals)."""
    if not nodes:
        return None
    matched = [_time_rules(node) for node in nodes]
    for rule in rules:
        for node, hits in zip(nodes, matched, strict=True):
            if hits[rule] and node_date(node, None, ()):
                return node
    return None


def _time_rules(node: LexborNode) -> tuple[bool, ...]:
    """Which of :data:`_TIME_SELECTORS` the element matches (as ``css_matches`` would say)."""
    tag = node.tag
    attrs = node.attrs
    itemprop = attrs.get("itemprop")
    words = _ASCII_SPACE.split(itemprop) if itemprop else ()
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


_CATEGORY_RULES = (
    "a[rel~=category]",
    'a[href*="/categories/"]',
    'a[href*="/category/"]',
)
_TAG_RULES = (
    "a[rel=tag]",
    'a[href*="/tags/"]',
    'a[href*="/tag/"]',
)
_TAXONOMY_RULES = _CATEGORY_RULES + _TAG_RULES
#: Elements whose class names a category (``category-item``, ``post-categories``).
_LABELLED = "[class*=categor]"
_REL_RULES = (_CATEGORY_RULES[0], _TAG_RULES[0])
#: The other rules, each with the piece of the href it looks for.
_HREF_RULES = tuple((rule, rule.split('"')[1]) for rule in _TAXONOMY_RULES if rule not in _REL_RULES)


def _taxonomy_rules(tree: LexborHTMLParser, cards: list[LexborNode], links: _PageLinks) -> set[str]:
    """The taxonomy link rules (``rel``, ``/categories/`` paths) that match in some card.

    Every card of the page counts, at the cost of a few: a ``rel`` rule is a page-wide query
    whose matches are looked at until one is in a card, the ``href`` rules are read from the
    page's distinct hrefs (``links``, read once), and a link is looked at closely only when it
    could add a rule.
    """
    inside = _Inside(cards)
    used = {rule for rule in _REL_RULES if any(map(inside, tree.css(f"{rule}[href]")))}
    rules_of = {
        href: rules
        for href in dict.fromkeys(links.hrefs)
        if href and ("/tag" in href or "/categor" in href)
        if (rules := {rule for rule, piece in _HREF_RULES if piece in href})
    }
    if rules_of:
        for link, href in zip(links.anchors, links.hrefs, strict=True):
            found = rules_of.get(href) if href else None
            if found is not None and found - used and inside(link):
                used |= found
    return used


class _Inside:
    """Whether an element is one of ``cards`` or inside one (walks up, remembering the
    elements found to be outside, so walks from neighbours stop early)."""

    def __init__(self, cards: list[LexborNode]) -> None:
        self.ids = {card.mem_id for card in cards}
        self.clear: set[int] = set()

    def __call__(self, node: LexborNode) -> bool:
        return node.mem_id in self.ids or is_nested(node, self.ids, self.clear)


def _category_selector(
    cards: list[LexborNode], dates: list[tuple[LexborNode | None, bool]], used: set[str]
) -> tuple[str | None, str | None]:
    """Categories from links, else labelled elements, else the text before a meta line's date.

    ``used`` are the taxonomy link rules that match in some card of the page
    (:func:`_taxonomy_rules`).
    """
    links = ", ".join(rule for rule in _CATEGORY_RULES if rule in used) or None
    if links:
        return links, None
    labelled = _labelled_categories([node for card in cards for node in card.css(_LABELLED)])
    if labelled:
        return labelled, None
    return _meta_line_categories(cards, dates)


def _labelled_categories(labelled: list[LexborNode]) -> str | None:
    """``tag.class`` of innermost elements whose class names a category (``category-item``),
    among ``labelled``: the cards' elements that ``[class*=categor]`` matches."""
    seen: Counter[str] = Counter()
    for node in labelled:
        if len(node.css(_LABELLED)) > 1:
            continue
        text = visible_text(node)
        if not text or len(text) > 40:
            continue
        cls = next((c for c in _simple_classes(node.attributes.get("class")) if "categor" in c), None)
        if cls is not None:  # else only a class no selector can name without escaping says so
            seen[f"{node.tag}.{cls}"] += 1
    return seen.most_common(1)[0][0] if seen else None


def _meta_line_categories(
    cards: list[LexborNode], dates: list[tuple[LexborNode | None, bool]]
) -> tuple[str | None, str | None]:
    """A plain-text meta line ``"技术 · 开源 · Jul 11, 2026 · 4 分钟"``: its leading segments."""
    votes: Counter[tuple[str, str]] = Counter()
    for card, (node, inside_text) in zip(cards, dates, strict=True):
        if node is None or not inside_text or node.css_first("a[href]") is not None:
            continue
        text = visible_text(node)
        for separator in _SEPARATORS:
            if separator in text:
                before = split_meta_line(text, separator)
                if before and not all(_COUNT_LIKE.match(b) for b in before):
                    selector = _candidates_for(card, node)[0]
                    votes[(selector, separator)] += 1
                break
    if not votes or votes.most_common(1)[0][1] * 2 < len(cards):
        return None, None
    return votes.most_common(1)[0][0]


def _may_be_summary(text: str) -> bool:
    """Not a count or reading time, a label (one word: a tag, a category), a short credit line
    or a meta line."""
    if _COUNT_LIKE.match(text) or _is_meta_line(text):
        return False
    if len(text) <= (_LABEL if text.isascii() else _CJK_LABEL) and not _ANY_SPACE.search(text):
        return False
    return len(text) > _META_LINE or not _BYLINE.match(text)


def _is_meta_line(text: str) -> bool:
    """A date with a few facts around it (``"发表于 2022-06-26"``, ``"技术 · 周六, 七月 11, 2026 ·
    4 分钟"``): short, unlike a summary, which may mention a date too."""
    visible = len(text) - text.count(" ") - text.count("\n") - text.count("\t")
    return visible <= _META_LINE and _YEAR.search(text) is not None and find_date(text) is not None


def _pick_excerpt(card: LexborNode, avoid: list[LexborNode]) -> LexborNode | None:
    """The largest block that holds none of the title, date and category elements.

    Counts, reading times, short credit lines and meta lines (:func:`_is_meta_line`) are not
    excerpts, so a card without a summary gives ``None`` rather than "约 3178 字" or "By Jane".
    """
    avoid_ids = {n.mem_id for n in avoid}
    holders: set[int] = set()
    for node in avoid:
        current: LexborNode | None = node
        while current is not None and current.mem_id != card.mem_id:
            holders.add(current.mem_id)
            current = current.parent
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
    if best is None and card.mem_id not in holders and not avoid:
        return card
    return best
