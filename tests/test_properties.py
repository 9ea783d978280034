"""Property-based tests (Hypothesis) of the identity and version rules.

Each property is checked on many generated inputs, not on a handful of hand-picked ones:

* importing the five seed captures in any order gives the same entries;
* importing anything twice changes nothing but last-seen bookkeeping;
* normalisation (and URL canonicalisation) is idempotent;
* a card never matches two entries, and two cards of one capture never merge.

The generated cards are built to collide: a few texts share a long stem (like the PEFT pair of
seed 004), excerpts are cut at random points with random truncation markers, and permalinks are
spelt in the many ways that canonicalise to one URL. Example counts are kept small enough for CI
(``HYPOTHESIS_PROFILE=thorough`` runs 20 times as many).
"""

from __future__ import annotations

import hashlib
import itertools
import sqlite3
from collections.abc import Sequence

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from archiver.identity import (
    MIN_PREFIX_CHARS,
    canonical_url,
    normalize,
    pick_text_match,
    same_text,
    text_key,
)
from archiver.ingest import ingest
from archiver.models import Card
from archiver.parse import parse_capture
from archiver.store import CaptureRecord, Store

from conftest import SEEDS
from helpers import examples

# -- inputs ------------------------------------------------------------------------------------

SEED_CAPTURES: list[tuple[str, bytes, list[Card]]] = [
    (str(path), data, parse_capture(data, kind="text", source=str(path)).cards)
    for path in sorted(SEEDS.glob("*.txt"))
    for data in [path.read_bytes()]
]

#: Two posts that share a stem much longer than MIN_PREFIX_CHARS (like seed 004's PEFT pair),
#: posts that are cuts of nothing else, and short ones (a shared prefix below 64 chars proves nothing).
_STEM = (
    "背景 随着预训练语言模型的规模越来越大, 全量微调的成本越来越高, "
    "于是出现了参数高效微调 (PEFT) 的方法, 这里比较两种做法: 例如 "
)
TEXTS = [
    _STEM + "Adapter tuning: 在每一层插入小的适配模块, 只训练这些模块.",
    _STEM + "LoRA: 用低秩矩阵近似权重的更新, 推理时可以合并回原权重.",
    "FlashAttention tiles the attention matrix and uses an online softmax, so the full N x N "
    "matrix never leaves on-chip SRAM.",
    "Gaze estimation",
    "Gaze estimation with transformers",
    "Short post about Python packaging and the many ways to build a wheel from a source tree today.",
]
MARKERS = ["", "...", "…", " [...]", " […]", " Read more", " 阅读全文"]
URLS = [
    ["http://blog.test/posts/a/", "HTTP://Blog.Test/posts/a", "http://blog.test:80/posts/a/#more",
     "http://blog.test/posts/a/?utm_source=rss", "http://blog.test/posts/a/index.html"],
    ["http://blog.test/posts/b/", "http://blog.test/posts/%62/", "http://blog.test/posts/b?fbclid=x"],
    ["http://blog.test/posts/中文/", "http://blog.test/posts/%E4%B8%AD%E6%96%87"],
]  # fmt: skip


@st.composite
def excerpts(draw: st.DrawFn) -> str:
    full = draw(st.sampled_from(TEXTS))
    cut = draw(st.integers(min_value=max(1, len(full) // 3), max_value=len(full)))
    text = full[:cut] + (draw(st.sampled_from(MARKERS)) if cut < len(full) else "")
    spacing = draw(st.sampled_from(["", "  ", "\n", "\u3000"]))
    return spacing + text.replace(" ", draw(st.sampled_from([" ", "  ", " \n "]))) + spacing


@st.composite
def cards(draw: st.DrawFn) -> Card:
    url = draw(st.none() | st.sampled_from(URLS).flatmap(st.sampled_from))
    return Card(
        title=draw(st.none() | st.sampled_from(["Title A", "Title B"])) if url else None,
        url=url,
        categories=draw(st.sampled_from([(), ("Python",), ("NLP", "LLM")])),
        date=draw(st.sampled_from([None, "2026-01-11", "2026-02-01"])),
        excerpt=draw(excerpts()),
    )


captures = st.lists(st.lists(cards(), min_size=1, max_size=6), min_size=1, max_size=5)


def _no_nested_cuts(batch: Sequence[Card]) -> bool:
    """No two permalink-less cards of the capture show one text (equal or cuts of each other).

    Such a page is the known limit of the idempotence property: see the two xfail tests
    test_reimporting_a_page_with_nested_cuts and test_reimporting_a_page_with_one_cut_twice.
    """
    texts = [text_key(card) for card in batch if not card.url]
    return not any(same_text(a, b) for a, b in itertools.combinations(texts, 2))


plain_capture = st.lists(cards(), min_size=1, max_size=6).filter(_no_nested_cuts)
plain_captures = st.lists(plain_capture, min_size=1, max_size=5)

# -- helpers -----------------------------------------------------------------------------------


def _record(source: str, data: bytes, n: int, site: str = "local") -> CaptureRecord:
    return CaptureRecord(
        site=site,
        source=source,
        kind="text",
        captured_at=f"2026-01-01T{n // 60:02d}:{n % 60:02d}:00Z",
        sha256=hashlib.sha256(data).hexdigest(),
        parsed_with="text",
    )


def _ingest_all(store: Store, batches: Sequence[Sequence[Card]], start: int = 0) -> list[int]:
    ids = []
    for n, batch in enumerate(batches, start):
        data = repr(batch).encode()
        ids.append(ingest(store, _record(f"capture-{n}", data, n), data, batch).capture_id)
    return ids


def _identity_state(conn: sqlite3.Connection) -> dict[str, list[tuple[object, ...]]]:
    """Everything about entries and versions except last-seen bookkeeping."""
    return {
        "entries": conn.execute(
            "SELECT id, site, key_kind, key, current_version_id FROM entry ORDER BY id"
        ).fetchall(),
        "versions": conn.execute(
            "SELECT id, entry_id, version, title, url, categories, tags, date, excerpt, changed,"
            " digest, first_seen_at, first_capture_id FROM entry_version ORDER BY id"
        ).fetchall(),
        "possible_duplicates": conn.execute(
            "SELECT entry_id, similar_to_id FROM possible_duplicate ORDER BY 1, 2"
        ).fetchall(),
        "blobs": conn.execute("SELECT sha256 FROM blob ORDER BY 1").fetchall(),
    }


def _assert_unchanged(before: dict[str, list[tuple[object, ...]]], conn: sqlite3.Connection) -> None:
    """Fail naming the rows that changed (pytest's dict diff truncates them away)."""
    after = _identity_state(conn)
    for table, rows in before.items():
        gone = [row for row in rows if row not in after[table]]
        new = [row for row in after[table] if row not in rows]
        assert not gone and not new, f"{table} changed: {gone} -> {new}"


def _current_entries(conn: sqlite3.Connection) -> list[tuple[object, ...]]:
    """Current entries by what they hold (ids and times depend on order, the content must not)."""
    return sorted(
        conn.execute(
            "SELECT e.key_kind, e.key, c.title, c.url, c.categories, c.tags, c.date, c.excerpt"
            " FROM current_entries c JOIN entry e ON e.id = c.entry_id"
        ).fetchall(),
        key=repr,
    )


# -- the seeds in any order ----------------------------------------------------------------------


@given(st.permutations(range(len(SEED_CAPTURES))))
@settings(max_examples=examples(40))
def test_seed_captures_in_any_order_give_the_same_entries(order: list[int]) -> None:
    with Store(":memory:") as reference, Store(":memory:") as shuffled:
        for n, (source, data, found) in enumerate(SEED_CAPTURES):
            ingest(reference, _record(source, data, n), data, found)
        for n, index in enumerate(order):
            source, data, found = SEED_CAPTURES[index]
            ingest(shuffled, _record(source, data, n), data, found)
        expected = _current_entries(reference.conn)
        assert len(expected) == 46
        assert _current_entries(shuffled.conn) == expected
        # every card was seen exactly once, by exactly one version
        seen = shuffled.conn.execute("SELECT sum(seen_count) FROM entry_version").fetchone()[0]
        assert seen == sum(len(found) for _, _, found in SEED_CAPTURES) == 60


def test_every_seed_order_gives_46_entries() -> None:
    """Exhaustive for the 120 orders of the five seeds (cheap, in memory): no order is skipped."""
    results = set()
    for order in itertools.permutations(range(len(SEED_CAPTURES))):
        with Store(":memory:") as store:
            for n, index in enumerate(order):
                source, data, found = SEED_CAPTURES[index]
                ingest(store, _record(source, data, n), data, found)
            results.add(tuple(_current_entries(store.conn)))
    assert len(results) == 1
    assert len(next(iter(results))) == 46


# -- importing twice -----------------------------------------------------------------------------


@given(plain_captures, plain_capture)
def test_importing_a_capture_twice_changes_only_last_seen(
    history: list[list[Card]], capture: list[Card]
) -> None:
    """Whatever the archive held before, the second import of a capture only moves last-seen."""
    with Store(":memory:") as store:
        _ingest_all(store, [*history, capture])
        before = _identity_state(store.conn)
        seen_before = store.conn.execute("SELECT sum(seen_count) FROM entry_version").fetchone()[0]
        _ingest_all(store, [capture], start=len(history) + 1)
        _assert_unchanged(before, store.conn)
        seen_after = store.conn.execute("SELECT sum(seen_count) FROM entry_version").fetchone()[0]
        assert seen_after > seen_before


@given(st.permutations(range(len(SEED_CAPTURES))), st.permutations(range(len(SEED_CAPTURES))))
@settings(max_examples=examples(30))
def test_importing_the_seeds_again_in_any_order_changes_only_last_seen(
    first: list[int], again: list[int]
) -> None:
    with Store(":memory:") as store:
        for n, index in enumerate([*first, *again]):
            source, data, found = SEED_CAPTURES[index]
            ingest(store, _record(source, data, n), data, found)
            if n == len(first) - 1:
                before = _identity_state(store.conn)
        _assert_unchanged(before, store.conn)


_STEM_CUT = _STEM[:70]


def test_importing_a_folder_twice_when_a_post_changed_in_it() -> None:
    """The same files again are the same captures: the older one is not read as a revert."""
    old = [Card(url="http://blog.test/posts/a/", categories=("Python",), excerpt=TEXTS[2])]
    new = [Card(url="http://blog.test/posts/a/", categories=("NLP",), excerpt=TEXTS[2])]
    with Store(":memory:") as store:
        _ingest_all(store, [old, new])
        before = _identity_state(store.conn)
        _ingest_all(store, [old, new])
        _assert_unchanged(before, store.conn)
        # a new capture showing the old content is a real revert: version 3
        _ingest_all(store, [old], start=2)
        assert store.conn.execute("SELECT max(version) FROM entry_version").fetchone()[0] == 3


@pytest.mark.xfail(
    strict=True,
    reason="a page showing two cuts of one text (no permalinks) makes two entries, and the "
    "shorter cut then matches both in a later, different capture of that page and becomes a "
    "third entry: the archive does not remember which card texts it identified as which entry "
    "(reported, not fixed)",
)
def test_reimporting_a_page_with_nested_cuts() -> None:
    known = [Card(excerpt=_STEM_CUT + "abc")]
    nested = [Card(excerpt=_STEM_CUT + "ab"), Card(excerpt=_STEM_CUT + "abc")]
    with Store(":memory:") as store:
        _ingest_all(store, [known, nested])
        before = _identity_state(store.conn)
        _ingest_all(store, [nested], start=2)
        _assert_unchanged(before, store.conn)


@pytest.mark.xfail(
    strict=True,
    reason="a page showing one cut twice (a pinned copy) makes a second entry; in a later, "
    "different capture the first card then prefers that equal-text entry, the two cards swap entries and the "
    "first card's category moves to the other entry (reported, not fixed)",
)
def test_reimporting_a_page_with_one_cut_twice() -> None:
    known = [Card(excerpt=_STEM_CUT + "abcdef")]
    page = [Card(excerpt=_STEM_CUT + "abc", categories=("NLP",)), Card(excerpt=_STEM_CUT + "abc")]
    with Store(":memory:") as store:
        _ingest_all(store, [known, page])
        before = _identity_state(store.conn)
        _ingest_all(store, [page], start=2)
        _assert_unchanged(before, store.conn)


def test_a_cut_shared_by_two_posts_is_one_new_entry_not_one_per_import() -> None:
    """Regression: the ambiguous card used to become a new entry on every import (cron growth)."""
    posts = [Card(excerpt=TEXTS[0]), Card(excerpt=TEXTS[1])]
    cut = [Card(excerpt=_STEM_CUT + "...")]
    with Store(":memory:") as store:
        _ingest_all(store, [posts, cut])
        assert store.conn.execute("SELECT count(*) FROM entry").fetchone()[0] == 3
        assert store.conn.execute("SELECT count(*) FROM possible_duplicate").fetchone()[0] == 2
        _ingest_all(store, [cut, posts, cut, cut], start=2)
        assert store.conn.execute("SELECT count(*) FROM entry").fetchone()[0] == 3


def test_one_text_shown_twice_on_a_page_stays_two_entries() -> None:
    """Regression: two equal permalink-less cards made two more entries on every re-import."""
    page = [Card(excerpt=TEXTS[2]), Card(excerpt=TEXTS[2]), Card(excerpt=TEXTS[3])]
    with Store(":memory:") as store:
        for n in range(4):
            _ingest_all(store, [page], start=n)
        assert store.conn.execute("SELECT count(*) FROM entry").fetchone()[0] == 3
        assert store.conn.execute("SELECT sum(seen_count) FROM entry_version").fetchone()[0] == 12


# -- normalisation -------------------------------------------------------------------------------

_MARKER_TEXT = st.text(
    alphabet=st.sampled_from(list(" .…[]»>→\u3000\u00a0\t\nReadmore阅读全文Ａｂ①ﬁ")), max_size=40
)


@given(st.one_of(st.text(), _MARKER_TEXT, excerpts()))
@settings(max_examples=examples(300))
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    assert once == once.strip()
    assert "  " not in once


@given(
    st.one_of(
        st.sampled_from(URLS).flatmap(st.sampled_from),
        st.builds(
            lambda scheme, host, path, query, frag: f"{scheme}://{host}/{path}?{query}#{frag}",
            st.sampled_from(["http", "HTTPS", "https"]),
            st.sampled_from(
                ["Blog.Test", "blog.test:80", "blog.test:443", "blog.test:8080", "xn--bcher-kva.example"]
            ),
            st.text(alphabet=st.sampled_from(list("abc/%2F7e~中 .-_")), max_size=20),
            st.text(alphabet=st.sampled_from(list("a=&b%20utm_src1+")), max_size=20),
            st.text(max_size=5),
        ),
    )
)
@settings(max_examples=examples(300))
def test_canonical_url_is_idempotent(url: str) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once


# -- a card never matches two entries, two cards of a capture never merge ------------------------


@given(
    st.text(min_size=0, max_size=80),
    st.dictionaries(st.integers(1, 8), st.text(max_size=80), max_size=8),
    st.sets(st.integers(1, 8)),
)
@settings(max_examples=examples(300))
def test_pick_text_match_never_picks_among_several(
    text: str, entries: dict[int, str], taken: set[int]
) -> None:
    """One match or none: a cut shared by several entries is ambiguous unless one is equal."""
    candidates = list(entries.items())
    hits = {eid for eid, other in candidates if eid not in taken and same_text(text, other)}
    exact = {eid for eid in hits if entries[eid] == text}
    match, ambiguous = pick_text_match(text, candidates, taken)
    if len(hits) == 1:
        assert (match, ambiguous) == (next(iter(hits)), [])
    elif exact:
        assert (match, ambiguous) == (min(exact), [])
    else:
        assert match is None
        assert sorted(ambiguous) == sorted(hits)


@given(st.text(max_size=200), st.text(max_size=200))
@settings(max_examples=examples(200))
def test_same_text_is_symmetric_and_needs_a_long_cut(a: str, b: str) -> None:
    assert same_text(a, b) == same_text(b, a)
    if same_text(a, b) and a != b:
        assert min(len(a), len(b)) >= MIN_PREFIX_CHARS


@given(captures)
def test_each_card_is_one_sighting_of_one_entry(batches: list[list[Card]]) -> None:
    """Per capture: as many distinct entries are seen as the capture has distinct cards.

    A card matching two entries would touch two; two cards of one capture merged would touch one
    entry for two cards. Only the same permalink twice on one page (a pinned copy) is one sighting.
    """
    with Store(":memory:") as store:
        for n, batch in enumerate(batches):
            seen_before = store.conn.execute(
                "SELECT coalesce(sum(seen_count), 0) FROM entry_version"
            ).fetchone()[0]
            data = repr(batch).encode()
            capture_id = ingest(store, _record(f"c{n}", data, n), data, batch).capture_id
            url_keys = {canonical_url(card.url) for card in batch if card.url}
            expected = len(url_keys) + sum(1 for card in batch if not card.url)
            touched = store.conn.execute(
                "SELECT count(DISTINCT entry_id) FROM entry_version WHERE last_capture_id = ?",
                (capture_id,),
            ).fetchone()[0]
            assert touched == expected
            seen_after = store.conn.execute("SELECT sum(seen_count) FROM entry_version").fetchone()[0]
            assert seen_after - seen_before == expected


@given(st.lists(excerpts(), min_size=2, max_size=8))
def test_cards_of_one_capture_never_merge_even_when_their_texts_match(texts: list[str]) -> None:
    batch = [Card(excerpt=text) for text in texts]
    with Store(":memory:") as store:
        _ingest_all(store, [batch])
        assert store.conn.execute("SELECT count(*) FROM entry").fetchone()[0] == len(batch)


@st.composite
def ambiguous_histories(draw: st.DrawFn) -> list[list[Card]]:
    """Random captures and, among them, the two posts that share a stem, then (in a later
    capture) a cut of that stem: a card that matches both posts' entries. Random captures alone
    seldom hold such a card (a few examples in 60, some runs none)."""
    batches = draw(captures)
    posts = [Card(excerpt=TEXTS[0]), Card(excerpt=TEXTS[1])]
    cut = Card(
        excerpt=_STEM[: draw(st.integers(MIN_PREFIX_CHARS + 2, len(_STEM)))] + draw(st.sampled_from(MARKERS))
    )
    first = draw(st.integers(0, len(batches)))
    batches.insert(first, posts)
    batches.insert(draw(st.integers(first + 1, len(batches))), [cut, *draw(st.lists(cards(), max_size=3))])
    return batches


def test_an_ambiguous_card_is_its_own_entry_and_reported() -> None:
    """Whenever a text card matched several entries it was kept apart and listed as a duplicate.

    The property is checked on every example; the count makes sure that the examples did hold
    ambiguous cards (a strategy that stopped making them would pass the property vacuously).
    """
    reached = {"examples": 0, "ambiguous": 0}

    @given(ambiguous_histories())
    def property_holds(batches: list[list[Card]]) -> None:
        reached["examples"] += 1
        with Store(":memory:") as store:
            _ingest_all(store, batches)
            rows = store.conn.execute(
                "SELECT p.entry_id, p.similar_to_id, e.key_kind FROM possible_duplicate p"
                " JOIN entry e ON e.id = p.entry_id"
            ).fetchall()
        event("an ambiguous card" if rows else "no ambiguous card")
        reached["ambiguous"] += bool(rows)
        for entry_id, similar, kind in rows:
            assert entry_id != similar
            assert kind == "text"
        per_entry: dict[int, int] = {}
        for entry_id, _, _ in rows:
            per_entry[entry_id] = per_entry.get(entry_id, 0) + 1
        assert all(count >= 2 for count in per_entry.values())

    property_holds()
    assert reached["examples"] > 0
    assert reached["ambiguous"] * 2 >= reached["examples"], reached


def test_text_key_of_a_card_is_normalised() -> None:
    card = Card(title=" T ", excerpt="body  text ...")
    assert text_key(card) == normalize(text_key(card)) == "T body text"
