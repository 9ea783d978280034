"""The card selector of a detected post list: a page-wide CSS selector that matches its members.

It is derived from the members' shared tag and classes (with parent context or ``:not(.x)``
when needed) and checked against the whole page, so a profile written from it selects the
same cards.
"""

from __future__ import annotations

from collections.abc import Sequence

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.parse.dom import ancestors, css, is_nested, select_cards
from archiver.parse.markup import SIMPLE_CLASS, common_classes, simple_classes
from archiver.parse.scoring import card_quality


def card_selector(
    tree: LexborHTMLParser, members: list[LexborNode], threshold: float, post_links: set[int]
) -> tuple[str, list[LexborNode]]:
    """A page-wide CSS selector that matches the members (plus harmless extras), and the cards
    it selects (:func:`~archiver.parse.dom.select_cards`).

    Extras are acceptable when they give no card (empty spacers) or are cards themselves
    (pinned posts in their own container: a post link and at least ``threshold`` quality);
    anything else makes the selector more specific.
    """
    member_ids = {n.mem_id for n in members}
    tag = members[0].tag or "div"
    fallback: tuple[int, str, list[LexborNode]] | None = None
    for selector in _candidates(members, tag):
        if selector == tag and any(parent.tag == tag for parent in ancestors(members[0])):
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


def _candidates(members: list[LexborNode], tag: str) -> list[str]:
    """Selectors to try, most general first: the tag, with each shared class, with all of
    them, then each of those under the members' shared parent."""
    common = common_classes(members)
    # In the markup's order: themes put the defining class first ("card post featured").
    classes = [c for c in simple_classes(members[0].attributes.get("class")) if c in common]
    parent_sel = _shared_selector([n.parent for n in members if n.parent is not None])
    bases = [tag] + [f"{tag}.{c}" for c in classes[:3]]
    if len(classes) > 1:
        bases.append(tag + "".join(f".{c}" for c in classes))
    return bases + ([f"{parent_sel} > {b}" for b in bases] if parent_sel else [])


def _shared_selector(nodes: Sequence[LexborNode]) -> str | None:
    """``tag.class`` (or ``#id``) shared by all the nodes, for a ``parent > card`` selector."""
    nodes = list({n.mem_id: n for n in nodes}.values())  # siblings' parents: often one node
    if not nodes or len({n.tag for n in nodes}) != 1:
        return None
    ids = {n.attributes.get("id") for n in nodes}
    if len(ids) == 1 and (ident := ids.pop()) and SIMPLE_CLASS.match(ident):
        return f"#{ident}"
    return (nodes[0].tag or "div") + "".join(f".{c}" for c in sorted(common_classes(nodes)))


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
    matched = _selected(tree, selector, member_ids)
    if matched is None:
        return None
    bad = [
        node
        for node in matched
        if node.mem_id not in member_ids and not is_empty(node) and not _is_card(node, threshold, post_links)
    ]
    return bad, matched


def _selected(tree: LexborHTMLParser, selector: str, member_ids: set[int]) -> list[LexborNode] | None:
    """:func:`select_cards` of ``selector``, or None when it misses a member or a member is
    nested in another match."""
    matches = css(tree, selector)
    ids = {n.mem_id for n in matches}
    if not member_ids <= ids:
        return None
    known = dict.fromkeys(ids, 1)
    members = [n for n in matches if n.mem_id in member_ids]
    if any(is_nested(n, known) for n in members):
        return None
    if len(matches) < 2:
        return matches
    # As drop_nested(matches, ids), knowing the members are not nested.
    return [n for n in matches if n.mem_id in member_ids or not is_nested(n, known)]


def _is_card(node: LexborNode, threshold: float, post_links: set[int]) -> bool:
    """A post card of its own: a post link, and at least ``threshold`` quality."""
    has_post_link = any(a.mem_id in post_links for a in node.css("a[href]"))
    return has_post_link and card_quality(node) >= threshold


def is_empty(node: LexborNode) -> bool:
    """Neither text nor a link: a spacer or a placeholder, never a wrong card."""
    return not node.text(deep=True).strip() and node.css_first("a[href]") is None


def _exclude(selector: str, bad: list[LexborNode], members: list[LexborNode]) -> str | None:
    """``selector:not(.x)`` for a class every bad match has and no member has."""
    member_classes: set[str] = set()
    for node in members:
        member_classes.update(simple_classes(node.attributes.get("class")))
    usable = sorted(common_classes(bad) - member_classes)
    return f"{selector}:not(.{usable[0]})" if usable else None
