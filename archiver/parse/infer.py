"""The field selectors of detected cards: per field, the selector that reads the most cards the
same way as the per-card analysis (:mod:`archiver.parse.picks`) did.

Candidates come from the picked elements' own tag, classes and attributes and their path from
the card, plus generic selectors; the first that reads every card right wins, else the one that
reads the most right.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.parse.dom import Selector
from archiver.parse.fields import first_date, first_link, first_text, joined_text, node_link
from archiver.parse.groups import PageLinks
from archiver.parse.markup import TIME_SELECTORS, candidates_for
from archiver.parse.picks import links_to_post, pick_date, pick_excerpt, pick_link, pick_title
from archiver.parse.profile import Profile
from archiver.parse.reader import Reader
from archiver.parse.taxonomy import (
    LABELLED,
    Inside,
    category_selector,
    labelled_categories,
    tag_selector,
    taxonomy_rules,
)

_SEMANTIC_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "time", "article"})
#: How many cards with a picked element give candidates: two cards' markup give every useful one.
_SOURCES = 2

#: How a candidate selector reads a card, to compare with the picked element's value.
Read = Callable[[LexborNode, Selector], str | tuple[str, ...] | None]


class Cards:
    """The cards detection analyses: the sampled ones and the rest, on one page."""

    __slots__ = ("base_url", "links", "reader", "rest", "sample", "tree")

    def __init__(
        self,
        reader: Reader,
        tree: LexborHTMLParser,
        sample: list[LexborNode],
        rest: list[LexborNode],
        base_url: str | None,
        links: PageLinks,
    ) -> None:
        self.reader = reader
        self.tree = tree
        self.sample = sample
        self.rest = rest
        self.base_url = base_url
        self.links = links


class Inferred(NamedTuple):
    """What :func:`infer_profile` found."""

    profile: Profile
    #: the cards outside the sample that were analysed too
    analysed: list[LexborNode]
    #: the share of sampled cards whose title links to the post (the title is, holds or sits
    #: in a link), a sign of a post list (:mod:`~archiver.parse.confidence`)
    linked: float


def infer_profile(cards: Cards, card: str) -> Inferred:
    """Field selectors that read the sampled cards the way the per-card analysis does, the
    other cards (``cards.rest``) that were analysed too, and how many titles link to a post.

    Every card counts: a field that no sampled card shows (a category on one card of twenty)
    is looked for in the other cards, and those that show it join the comparison for that
    field; taxonomy links, cheap to find, are looked for in every card.
    """
    reader, sample = cards.reader, cards.sample
    post_links = cards.links.posts
    titles = [pick_title(reader, n, post_links) for n in sample]
    title = best_selector(
        sample, titles, lambda c, s: first_text(reader, c, s), lambda n: reader.text(n) or None
    )
    permalink = _permalink(cards, titles)
    dates = [pick_date(reader, n) for n in sample]
    date, date_cards = _date(cards, [d for d, _ in dates])
    used = taxonomy_rules(cards.tree, sample + cards.rest, cards.links)
    category, separator = category_selector(reader, sample, dates, used)
    if category is None and cards.rest:
        inside = Inside(cards.rest)
        category = labelled_categories(reader, [node for node in cards.tree.css(LABELLED) if inside(node)])
    tags = tag_selector(used)
    # Read as the extraction will (and remembered for it): the order and repeats of the
    # avoided elements do not matter.
    avoid = [selector for s in (category, tags) if (selector := Selector.parse(s))]
    excerpt, excerpt_cards = _excerpt(cards, titles, [d for d, _ in dates], avoid)
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
    return Inferred(profile, list(analysed.values()), _linked(reader, sample, titles, post_links))


def _linked(
    reader: Reader, sample: list[LexborNode], titles: list[LexborNode | None], post_links: set[int]
) -> float:
    """The share of sampled cards that link to their post the way post lists do
    (:func:`~archiver.parse.picks.links_to_post`)."""
    linked = sum(links_to_post(reader, n, t, post_links) for n, t in zip(sample, titles, strict=True))
    return linked / len(sample) if sample else 0.0


def _permalink(cards: Cards, titles: list[LexborNode | None]) -> str | None:
    reader, base_url = cards.reader, cards.base_url
    links = [pick_link(reader, n, t, cards.links.posts) for n, t in zip(cards.sample, titles, strict=True)]
    return best_selector(
        cards.sample,
        links,
        lambda c, s: first_link(reader, c, s, base_url),
        lambda n: node_link(n, None, n, base_url),
        extra=("a[href]",),
    )


def _date(cards: Cards, picks: list[LexborNode | None]) -> tuple[str | None, list[LexborNode]]:
    """The date selector, and the cards it was chosen from."""
    reader = cards.reader
    date_cards, date_picks = showing(cards.sample, picks, cards.rest, lambda n: pick_date(reader, n)[0])
    date = best_selector(
        date_cards,
        date_picks,
        lambda c, s: first_date(reader, c, s, ()),
        lambda n: reader.date(n, None, ()),
        extra=TIME_SELECTORS,
    )
    return date, date_cards


def _excerpt(
    cards: Cards, titles: list[LexborNode | None], dates: list[LexborNode | None], avoid: list[Selector]
) -> tuple[str | None, list[LexborNode]]:
    """The excerpt selector, and the cards it was chosen from."""
    reader, post_links = cards.reader, cards.links.posts
    excerpts = [
        excerpt_pick(reader, n, t, d, avoid) for n, t, d in zip(cards.sample, titles, dates, strict=True)
    ]
    excerpt_cards, excerpt_picks = showing(
        cards.sample,
        excerpts,
        cards.rest,
        lambda n: excerpt_pick(reader, n, pick_title(reader, n, post_links), pick_date(reader, n)[0], avoid),
    )
    excerpt = best_selector(
        excerpt_cards,
        excerpt_picks,
        lambda c, s: joined_text(reader, c, s),
        lambda n: reader.text(n) or None,
    )
    return excerpt, excerpt_cards


def showing(
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


def excerpt_pick(
    reader: Reader, card: LexborNode, title: LexborNode | None, date: LexborNode | None, avoid: list[Selector]
) -> LexborNode | None:
    """:func:`~archiver.parse.picks.pick_excerpt` of a card, avoiding its title, date and
    ``avoid`` matches."""
    avoided = [x for x in (title, date) if x is not None]
    for selector in avoid:
        avoided += reader.matches(card, selector.css)
    return pick_excerpt(card, avoided)


def best_selector(
    cards: list[LexborNode],
    picks: Sequence[LexborNode | None],
    read: Read,
    value_of: Callable[[LexborNode], str | None],
    extra: Sequence[str] = (),
) -> str | None:
    """The candidate selector that reads the most cards the same way as the picked elements.

    Ties go to a qualified selector (see :func:`_qualified`), then to the shortest, as the
    easiest to read and edit in a profile.
    """
    wanted = [value_of(p) if p is not None else None for p in picks]
    if not any(wanted):
        return None
    candidates = _candidates(cards, picks, extra)
    # Usually a candidate reads every card right: find the first such one, dropping each
    # candidate at its first wrong card.
    verdicts: list[list[bool]] = []
    for candidate in candidates:
        verdict = _verdict(cards, wanted, read, candidate)
        if all(verdict):
            return candidate
        verdicts.append(verdict)
    # None does: the one that reads the most cards right (the first of equals), giving up on
    # a candidate as soon as it can no longer read more cards right than the best so far.
    best: tuple[int, str] | None = None
    for candidate, verdict in zip(candidates, verdicts, strict=True):
        agree = _agreement(cards, wanted, read, candidate, verdict, best[0] if best is not None else None)
        if best is None or agree > best[0]:
            best = (agree, candidate)
    return best[1] if best and best[0] > 0 else None


def _candidates(
    cards: list[LexborNode], picks: Sequence[LexborNode | None], extra: Sequence[str]
) -> list[str]:
    """Candidate selectors, best first (so the first that reads every card right is the answer)."""
    candidates: list[str] = []
    sources = [(card, pick) for card, pick in zip(cards, picks, strict=True) if pick is not None]
    for card, pick in sources[:_SOURCES]:
        for candidate in candidates_for(card, pick):
            if candidate not in candidates:
                candidates.append(candidate)
    candidates += [e for e in extra if e not in candidates]
    candidates.sort(key=lambda c: (not _qualified(c), len(c)))
    return candidates


def _verdict(cards: list[LexborNode], wanted: list[str | None], read: Read, candidate: str) -> list[bool]:
    """Whether ``candidate`` reads each card as wanted, up to the first card it reads wrong."""
    selector = Selector.parse(candidate)
    assert selector is not None
    verdict = []
    for card, want in zip(cards, wanted, strict=True):
        verdict.append(read(card, selector) == want)
        if not verdict[-1]:
            break
    return verdict


def _agreement(
    cards: list[LexborNode],
    wanted: list[str | None],
    read: Read,
    candidate: str,
    verdict: list[bool],
    bound: int | None,
) -> int:
    """How many cards ``candidate`` reads as wanted, ``verdict`` being the first ones' answers;
    counting stops once it cannot beat ``bound``."""
    selector = Selector.parse(candidate)
    assert selector is not None
    agree = sum(verdict)
    left = len(cards) - len(verdict)
    for card, want in zip(cards[len(verdict) :], wanted[len(verdict) :], strict=True):
        if bound is not None and agree + left <= bound:
            break
        agree += read(card, selector) == want
        left -= 1
    return agree


def _qualified(selector: str) -> bool:
    """Whether a selector says *what* it selects (a class, an attribute value, a heading or
    ``time``) rather than being a bare ``p``/``span`` that only happens to fit these cards."""
    return "." in selector or "=" in selector or selector in _SEMANTIC_TAGS
