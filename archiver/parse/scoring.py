"""How much a group of candidate cards looks like the page's post list.

A group scores by its members: each contributes more when it holds one permalink (not many), a
heading, a date and text beyond its title; groups inside navigation, sidebars, footers and
widgets are discounted.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborNode

from archiver.parse.dates import looks_dated
from archiver.parse.dom import ancestors, owner_of
from archiver.parse.groups import Group
from archiver.parse.markup import HEADING_TAGS, HEADINGS, HEADLINE, parent_id, words_of

_CHROME = re.compile(
    r"(?:^|[\s_-])(?:sidebar|side|widget|widgets|aside|footer|nav|navbar|navigation|menu|toc"
    r"|related|comments?|breadcrumbs?|pagination|pager|header|topbar|tagcloud|tag-cloud"
    r"|archive-list|profile|author)(?:$|[\s_-])",
    re.I,
)
_CHROME_TAGS = frozenset({"nav", "aside", "footer", "header"})
#: How much a list inside such chrome counts.
_CHROME_FACTOR = 0.25
#: The most a member can add to its group's score (see :func:`card_quality`).
_MAX_QUALITY = 6.0
#: Headings and dated elements, for :func:`card_quality`.
_QUALITY_CSS = f"{HEADINGS}, {HEADLINE}, time, [itemprop~=datePublished], [property=datePublished]"


def score_groups(groups: list[Group]) -> None:
    """Score the groups, best first, skipping those that cannot beat the best so far.

    A member scores at most :data:`_MAX_QUALITY`, so a group's size bounds its score; most
    groups (one-element wrappers, rows of a grid) are never looked at closely.
    """
    factors: dict[int, float] = {}
    chrome: dict[int, bool] = {}
    bounds = []
    for group in groups:
        key = parent_id(group.members[0])
        if key not in factors:
            factors[key] = context_factor(group.members[0], chrome)
        bounds.append(len(group.members) * _MAX_QUALITY * factors[key])
    order = sorted(range(len(groups)), key=lambda i: -bounds[i])
    top = 0.0
    for i in order:
        if bounds[i] <= top:
            break
        groups[i].score = _score(groups[i], factors[parent_id(groups[i].members[0])])
        top = max(top, groups[i].score)
    groups.sort(key=lambda g: g.score, reverse=True)


def _score(group: Group, context: float) -> float:
    """How much a group looks like the page's post list (see the module docstring)."""
    total = 0.0
    parts = 0
    previous: tuple[int, set[str]] | None = None
    for node, keys, quality in zip(group.members, group.keys, card_qualities(group.members), strict=True):
        group.qualities.append(quality)
        total += quality / len(keys)
        parent = parent_id(node)
        if previous is not None and previous[0] == parent and previous[1] & keys:
            parts += 1  # the same post as the previous sibling: both are parts of one card
        previous = (parent, keys)
    total *= 1 - parts / len(group.members)
    if len(group.members) == 1:
        total *= 0.5
    return total * context


def card_quality(node: LexborNode) -> float:
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


def card_qualities(nodes: list[LexborNode]) -> list[float]:
    """:func:`card_quality` of each node; siblings are searched with one ``css`` call on their
    parent (in page order, so each node's first heading is the first one seen inside it)."""
    siblings: dict[int, list[int]] = {}
    for i, node in enumerate(nodes):
        siblings.setdefault(parent_id(node), []).append(i)
    headings: list[LexborNode | None] = [None] * len(nodes)
    dated = [False] * len(nodes)
    qualities: list[float | None] = [None] * len(nodes)
    for parent, indexes in siblings.items():
        container = nodes[indexes[0]].parent
        if container is None or len(indexes) < 4:
            for i in indexes:
                qualities[i] = card_quality(nodes[i])
            continue
        # Which node each element walked through is inside (-1: none, or the parent itself);
        # siblings' walks stop where an earlier walk already went.
        owner = {nodes[i].mem_id: i for i in indexes}
        owner[parent] = -1
        for found in container.css(_QUALITY_CSS):
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
    if tag in HEADING_TAGS:
        return (found if heading is None else heading), marked_date
    if tag == "time":
        return heading, True
    attrs = found.attrs
    words = words_of(attrs.get("itemprop"))
    prop = attrs.get("property")
    if heading is None and ("headline" in words or prop == "headline"):
        heading = found
    return heading, marked_date or "datePublished" in words or prop == "datePublished"


def _quality(node: LexborNode, heading: LexborNode | None, marked_date: bool) -> float:
    text = node.text(deep=True)
    length = len(text) - text.count(" ") - text.count("\n")
    title_length = len(heading.text().strip()) if heading is not None else min(length, 40)
    dated = marked_date or looks_dated(text)
    extra = max(0, length - title_length)
    return 1.0 + (heading is not None) + dated + min(extra, 300) / 100


def context_factor(node: LexborNode, known: dict[int, bool] | None = None) -> float:
    """Discount for lists inside navigation, sidebars, footers and widgets.

    ``known`` remembers, per element already walked, whether it is inside (or is) such chrome,
    so walks from other lists stop where an earlier walk went.
    """
    walked = []
    inside = False
    for current in ancestors(node):
        if current.tag in ("body", "html"):
            break
        current_id = current.mem_id
        if known is not None and (seen := known.get(current_id)) is not None:
            inside = seen
            break
        if _is_chrome(current):
            inside = True
            if known is not None:
                known[current_id] = True
            break
        walked.append(current_id)
    if known is not None:
        for current_id in walked:
            known[current_id] = inside
    return _CHROME_FACTOR if inside else 1.0


def _is_chrome(node: LexborNode) -> bool:
    """Navigation, a sidebar, a footer or a widget, by its tag, class, id or role."""
    attrs = node.attributes
    hint = f"{attrs.get('class') or ''} {attrs.get('id') or ''}"
    return node.tag in _CHROME_TAGS or bool(_CHROME.search(hint)) or attrs.get("role") == "navigation"
