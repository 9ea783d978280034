"""Candidate post lists: groups of same-tag elements under same-looking parents that hold post
links.

Walking up from each post link (:mod:`archiver.parse.postlinks`) records, for every element,
which post links it contains; sibling elements with the same tag under same-looking parents form
a group (so a grid of rows still forms one group). Once the best group is chosen
(:mod:`archiver.parse.scoring`), :func:`climb` and :func:`descend` settle the level of its
members that makes the cards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.parse.markup import signature
from archiver.parse.postlinks import post_key, post_keys

#: An element that holds post links: ``(keys, parent_id, parent, parent_tag, node, tag)``, the
#: post keys inside it, its parent (``mem_id``, node, tag), itself and its tag. Tags and ids are
#: read from the tree once, when the element is first reached. (A tuple: pages have hundreds.)
Edge = tuple[set[str], int, LexborNode, "str | None", LexborNode, "str | None"]
Edges = dict[int, Edge]
_TOP_TAGS = frozenset({"html", "-document", None})


class PageLinks(NamedTuple):
    """The page's ``a[href]`` elements, read once for every step that looks at links."""

    anchors: list[LexborNode]
    hrefs: list[str | None]
    #: ``mem_id`` of the anchors that link to a post (:func:`~archiver.parse.postlinks.post_key`)
    posts: set[int]


@dataclass
class Group:
    """Candidate card elements: same tag, same-looking parents, each holding post links."""

    members: list[LexborNode] = field(default_factory=list)
    keys: list[set[str]] = field(default_factory=list)
    score: float = 0.0
    #: each member's :func:`~archiver.parse.scoring.card_quality`, once scored
    qualities: list[float] = field(default_factory=list)


def candidate_groups(tree: LexborHTMLParser, base_url: str | None) -> tuple[list[Group], Edges, PageLinks]:
    """Every group of same-tag elements under same-looking parents that hold post links.

    Also returns, per element that holds post links, its parent and the post keys inside it,
    and the page's links.
    """
    base_host = urlsplit(base_url).netloc.lower() if base_url else None
    anchors = tree.css("a[href]")
    hrefs = [a.attrs.get("href") for a in anchors]
    keys = post_keys(hrefs, base_url, base_host)
    if base_host and not any(keys):
        # Permalinks may point to another host (a custom domain): accept any host.
        keys = post_keys(hrefs, base_url, None)
    here = post_key(base_url, base_url, None) if base_url else None
    edges, posts = _walk_up(anchors, keys, here)
    # Anchors were walked in document order, so members are in page order.
    return _group(edges), edges, PageLinks(anchors, hrefs, posts)


def _walk_up(anchors: list[LexborNode], keys: list[str | None], here: str | None) -> tuple[Edges, set[int]]:
    """The edges from every post link (a key that is not the page itself) up to the top, and
    the ``mem_id`` of the post links."""
    edges: Edges = {}
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
            parent_tag = parent.tag if parent is not None else None
            if parent is None or parent_tag in _TOP_TAGS:
                continue
            entry = edges[node_id] = (set(), parent.mem_id, parent, parent_tag, anchor, "a")
        # Record the key in every element above, up to where it already is (an earlier link
        # to the same post walked up from there).
        while key not in entry[0]:
            entry[0].add(key)
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
    return edges, posts


def _group(edges: Edges) -> list[Group]:
    """The elements of ``edges`` grouped by their grandparent's and parent's signature and tag."""
    groups: dict[tuple[str, str, str], Group] = {}
    signatures: dict[int, str] = {}
    for inside, parent_id, parent, parent_tag, node, tag in edges.values():
        if tag in ("a", "body"):
            continue
        outer = edges.get(parent_id)
        if outer is not None and outer[0] == inside and parent_tag not in ("body", "main"):
            # The parent holds the same posts: it is the same card seen from outside (or a
            # card made of parts), and :func:`climb` would step out to it anyway.
            continue
        parent_sig = signatures.get(parent_id)
        if parent_sig is None:
            parent_sig = signatures[parent_id] = signature(parent)
        if outer is None:
            grand_sig = signature(parent.parent)
        else:
            known = signatures.get(outer[1])
            grand_sig = known if known is not None else signatures.setdefault(outer[1], signature(outer[2]))
        group_key = (grand_sig, parent_sig, tag or "")
        group = groups.get(group_key)
        if group is None:
            group = groups[group_key] = Group()
        group.members.append(node)
        group.keys.append(inside)
    return list(groups.values())


def climb(members: list[LexborNode], edges: Edges) -> list[LexborNode]:
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


def descend(members: list[LexborNode]) -> list[LexborNode]:
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
