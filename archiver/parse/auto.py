"""Zero-configuration card detection: find the post list in any blog theme's listing page.

The detector never extracts fields itself. It finds the card elements, writes a
:class:`~archiver.parse.profile.Profile` (CSS selectors) that describes them, and reads the cards
with that profile (:mod:`archiver.parse.fields`). So ``archiver probe`` can print the profile and
the user gets exactly the detected cards back when they pin it, and a profile only ever has to be
written when detection is wrong.

How the post list is found (one pass over the page's links, no per-theme rules), one module a
step:

1. every link to an internal page that is not a taxonomy, archive, pagination or asset URL is a
   *post link* (:mod:`~archiver.parse.postlinks`);
2. walking up from each post link records, for every element, which post links it contains;
   sibling elements with the same tag under same-looking parents form *candidate groups*
   (:mod:`~archiver.parse.groups`; so a grid of rows still forms one group);
3. a group scores by its members: each contributes more when it holds one permalink (not many),
   a heading, a date and text beyond its title; groups inside navigation, sidebars, footers and
   widgets are discounted (:mod:`~archiver.parse.scoring`). The best group's members are the
   cards;
4. a card selector is derived from the members' shared tag/classes (with parent context or
   ``:not(.x)`` when needed) and checked against the whole page
   (:mod:`~archiver.parse.cardselector`); field selectors are chosen per field by how many
   cards they read the same way as the per-card analysis did (:mod:`~archiver.parse.picks`,
   :mod:`~archiver.parse.infer`, :mod:`~archiver.parse.taxonomy`).
"""

from __future__ import annotations

from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from archiver.errors import ProfileError
from archiver.models import Card
from archiver.parse.cardselector import card_selector, is_empty
from archiver.parse.confidence import judge
from archiver.parse.fields import card_reader
from archiver.parse.groups import Group, PageLinks, candidate_groups, climb, descend
from archiver.parse.infer import Cards, infer_profile
from archiver.parse.markup import ANY_HEADING
from archiver.parse.nextpage import find_next_url
from archiver.parse.profile import Profile
from archiver.parse.reader import PLAIN, PageReader, Reader
from archiver.parse.scoring import score_groups

#: Most cards analysed in full to choose field selectors (spread over the page): enough to see
#: every card variant, few enough to keep detection cheap on 70-card pages. The other cards are
#: looked at for the fields none of these shows (see :func:`~archiver.parse.infer.infer_profile`).
_SAMPLE = 5


@dataclass
class Detection:
    """What zero-configuration analysis found on a page, and the profile that reproduces it."""

    cards: list[Card]
    profile: Profile | None
    #: 0..1: how sure the detector is that these are the page's post cards
    confidence: float
    next_url: str | None
    #: why the confidence is below 1, in words (:func:`~archiver.parse.confidence.judge`)
    doubts: tuple[str, ...] = ()


def detect(html: str, *, base_url: str | None = None) -> Detection:
    """Find the post cards of a listing page without any configuration."""
    return detect_tree(LexborHTMLParser(html), base_url=base_url)


def detect_tree(tree: LexborHTMLParser, *, base_url: str | None = None) -> Detection:
    """:func:`detect` on an already parsed page (``parse_html`` parses only once)."""
    try:
        return _detect(PageReader(tree), tree, base_url)
    except (ProfileError, SelectolaxError):
        # A selector built from the page's own markup that CSS cannot express (broken markup
        # such as a tag named `h2"`): no cards found, never an error about a profile the
        # user did not give.
        return Detection([], None, 0.0, None)


def _detect(reader: PageReader, tree: LexborHTMLParser, base_url: str | None) -> Detection:
    groups, edges, links = candidate_groups(tree, base_url)
    if not groups:
        return _nothing(tree, base_url, links)
    score_groups(groups)
    best = groups[0]
    members = descend(climb(best.members, edges))
    threshold = 0.5 * sorted(best.qualities)[len(best.qualities) // 2]
    selector, nodes = card_selector(tree, members, threshold, links.posts)
    sample, rest = _sample(nodes, {n.mem_id for n in members})
    profile, analysed, linked = infer_profile(Cards(reader, tree, sample, rest, base_url, links), selector)
    if _only_links(profile, nodes):
        return _nothing(tree, base_url, links)
    cards = _extract(reader, nodes, profile, base_url, {n.mem_id for n in sample + analysed})
    confidence, doubts = judge(cards, linked, _rival(best, groups))
    return Detection(
        cards=cards,
        profile=profile if cards else None,
        confidence=confidence,
        next_url=find_next_url(tree, base_url, profile, nodes, (links.anchors, links.hrefs)),
        doubts=doubts,
    )


def _nothing(tree: LexborHTMLParser, base_url: str | None, links: PageLinks) -> Detection:
    """No cards; the page may still link to a next page."""
    return Detection([], None, 0.0, find_next_url(tree, base_url, None, [], (links.anchors, links.hrefs)))


def _rival(best: Group, groups: list[Group]) -> float:
    """The best score of a list of *other* posts over the chosen list's (0: none); the same
    cards seen one level up or down is no rival."""
    posts = set().union(*best.keys)
    rivals = [g.score for g in groups[1:] if len(set().union(*g.keys) & posts) * 2 < len(posts)]
    return max(rivals, default=0.0) / best.score if best.score else 0.0


def _only_links(profile: Profile, cards: list[LexborNode]) -> bool:
    """Whether the cards show nothing but a link: no date, summary, category or tags, and no
    heading.

    Every blog's post list shows at least one of those. A list of bare links is a directory
    listing (``python -m http.server``), a link list or a menu: taking it for posts would
    archive file names as posts. (A blog whose list really is bare titles needs a profile.)
    """
    if profile.date or profile.excerpt or profile.category or profile.tags:
        return False
    return not any(card.css_first(ANY_HEADING) is not None for card in cards)


def _sample(nodes: list[LexborNode], member_ids: set[int]) -> tuple[list[LexborNode], list[LexborNode]]:
    """At most :data:`_SAMPLE` of the cards, spread over the page, and the other cards, leaving
    out empty matches (a spacer the card selector also matches tells nothing about the fields)."""
    shown = [n for n in nodes if n.mem_id in member_ids or not is_empty(n)]
    nodes = shown or nodes
    if len(nodes) <= _SAMPLE:
        return nodes, []
    picked = {round(i * (len(nodes) - 1) / (_SAMPLE - 1)) for i in range(_SAMPLE)}
    return [nodes[i] for i in sorted(picked)], [n for i, n in enumerate(nodes) if i not in picked]


def _extract(
    reader: Reader, nodes: list[LexborNode], profile: Profile, base_url: str | None, analysed: set[int]
) -> list[Card]:
    """The cards ``profile`` reads, reusing what ``reader`` remembers of the ``analysed`` cards;
    the other cards are read as with a given profile (nothing read before, nothing worth
    remembering)."""
    seen = card_reader(profile, base_url, reader)
    fresh = card_reader(profile, base_url, PLAIN)
    found = [seen(node) if node.mem_id in analysed else fresh(node) for node in nodes]
    return [card for card in found if card is not None]
