"""Untrusted input never crashes archiver: pages from the web, files on disk, text a user types.

* The HTML and text parsers, given arbitrary bytes (random, mutated real pages, generated tag
  soup), return cards or raise an :class:`InputError` naming the source: never anything else.
* ``search`` and ``history`` take what a user types as data: FTS5 syntax, quotes, SQL, odd
  digits and undecodable bytes give results or one clear message, never a traceback.

Hypothesis runs a bounded number of examples per test (``HYPOTHESIS_PROFILE=thorough`` runs
more; ``benchmarks`` are not needed). Every example also has a time limit (deadline), so a parser
that hangs or goes quadratic on some input fails here too.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from archiver.cli import app
from archiver.cli._common import resolve_entry
from archiver.errors import ArchiverError, InputError
from archiver.models import ParsedPage
from archiver.parse import load_profile, parse_capture
from archiver.store import Store

from conftest import SEEDS, SITE, SITE_PROFILE, SITE_URL, Result, Runner
from helpers import dump, examples

#: Every example has this time limit: a parser that hangs or goes quadratic fails the test.
PARSE_DEADLINE = timedelta(seconds=2)
FUZZ = settings(max_examples=examples(150), deadline=PARSE_DEADLINE)

PROFILE = load_profile(SITE_PROFILE)
PAGE = (SITE / "index.html").read_bytes()
SEED = (SEEDS / "000_9b671d25390876c8.txt").read_bytes()

#: How many inputs the parsers were given in the last run (RELIABILITY.md quotes the total).
TRIED = {"parser inputs": 0}


def _parse_all_ways(data: bytes, base_url: str | None = SITE_URL) -> None:
    """Every parser entry point on ``data``: a ParsedPage or an InputError naming the source."""
    for kind, profile in (("html", None), ("html", PROFILE), ("text", None)):
        TRIED["parser inputs"] += 1
        try:
            page = parse_capture(data, kind=kind, source="fuzz.bin", base_url=base_url, profile=profile)
        except InputError as exc:
            assert "fuzz.bin" in str(exc), exc
            continue
        assert isinstance(page, ParsedPage)
        for card in page.cards:
            assert card.title or card.url or card.excerpt
            for value in (card.title, card.url, card.excerpt, card.date, *card.categories):
                assert value is None or isinstance(value, str)


# -- arbitrary bytes -----------------------------------------------------------------------------


@given(st.binary(max_size=4096))
@FUZZ
@example(b"")
@example(b"\x00" * 10)
@example(b"\xff\xfe" + "<html>".encode("utf-16-le"))
@example(b"\xef\xbb\xbf")
@example(b"<" * 5000)
@example(b"<meta charset='x-no-such-codec'><article>hi</article>")
@example(b"<meta charset=utf-7>+ADw-script+AD4-")
def test_parsers_never_raise_on_arbitrary_bytes(data: bytes) -> None:
    _parse_all_ways(data)


@given(st.text(max_size=2000))
@FUZZ
def test_parsers_never_raise_on_arbitrary_text(text: str) -> None:
    _parse_all_ways(text.encode("utf-8", errors="surrogatepass"))


@given(st.data())
@settings(FUZZ, max_examples=examples(80))
def test_parsers_never_raise_on_mutated_real_pages(data: st.DataObject) -> None:
    """Byte flips, cuts, splices and duplications of the fixture page and a seed capture."""
    name = data.draw(st.sampled_from(["fixtures/site/index.html", "seed 000"]), label="page")
    source = bytearray(PAGE if name.startswith("fixtures") else SEED)
    rng = random.Random(data.draw(st.integers(0, 2**32), label="seed"))
    for _ in range(data.draw(st.integers(1, 40), label="mutations")):
        op = rng.randrange(5)
        at = rng.randrange(len(source) + 1)
        if op == 0 and source:  # flip a byte
            source[min(at, len(source) - 1)] = rng.randrange(256)
        elif op == 1:  # cut the page short
            del source[at:]
        elif op == 2:  # drop a span
            del source[at : at + rng.randrange(200)]
        elif op == 3:  # duplicate a span elsewhere
            span = source[at : at + rng.randrange(400)]
            where = rng.randrange(len(source) + 1)
            source[where:where] = span
        else:  # insert hostile markup
            source[at:at] = rng.choice(HOSTILE_SNIPPETS)
        if not source:
            break
    _parse_all_ways(bytes(source))


HOSTILE_SNIPPETS = [
    b'<a href="javascript:alert(1)">x</a>',
    b'<a href="JaVaScRiPt:alert(1)">x</a>',
    b'<a href="file:///etc/passwd">x</a>',
    b'<a href="http://[::1">x</a>',
    b'<a href="http://a:99999999/">x</a>',
    b'<a href="//evil.example/p/">x</a>',
    b'<time datetime="9999-99-99T99:99">x</time>',
    b'<time datetime="0000-00-00">x</time>',
    b'<time datetime="2026-02-30">x</time>',
    b"<article class='post-card'></article>" * 50,
    b"<div>" * 3000,
    b"</div>" * 3000,
    b"<!--",
    b"<![CDATA[",
    b"<script>",
    b"<meta charset='utf-16'>",
    b"\xe4\xb8",
    b"&#0;&#xD800;&#x110000;&#99999999999;",
    b"\x00",
]


# -- generated tag soup --------------------------------------------------------------------------

_hrefs = st.sampled_from(
    [
        "/posts/a/", "posts/b", "http://blog.fixture.test/posts/c/", "//other.example/x/",
        "javascript:alert(1)", "JavaScript:void(0)", " java\tscript:alert(1)", "file:///etc/passwd",
        "data:text/html,<script>", "mailto:a@b", "http://[::1", "http://a:70000/", "#top", "",
        "/page/2/", "?page=2", "http://blog.fixture.test/posts/%zz/",
    ]
)  # fmt: skip
_words = st.text(alphabet=st.sampled_from(list("ab 中文…. \n<&;")), max_size=30)


def _element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda tag, cls, href, kids: f'<{tag} class="{cls}" href="{href}">{"".join(kids)}</{tag}>',
        st.sampled_from(["article", "div", "a", "h2", "time", "p", "span", "li", "ul", "section"]),
        st.sampled_from(["post-card", "post-title", "post-excerpt", "post-category", "next", "x"]),
        _hrefs,
        st.lists(children, max_size=5),
    )


tag_soup = st.recursive(_words, _element, max_leaves=40)


@given(tag_soup)
@FUZZ
def test_parsers_never_raise_on_generated_markup(soup: str) -> None:
    _parse_all_ways(f"<html><body>{soup}</body></html>".encode())
    _parse_all_ways(soup.encode(), base_url=None)


@given(st.lists(tag_soup, min_size=1, max_size=4), _hrefs)
@settings(FUZZ, max_examples=examples(60))
def test_card_permalinks_are_web_urls(parts: list[str], href: str) -> None:
    """A card never carries a javascript:, file:, data: or mailto: permalink: the page is data."""
    cards_html = "".join(
        f'<article class="post-card"><h2 class="post-title"><a href="{href}">Post {n}</a></h2>'
        f'<div class="post-excerpt">{part}</div></article>'
        for n, part in enumerate(parts)
    )
    page = f"<html><body><main>{cards_html}</main></body></html>".encode()
    for profile in (PROFILE, None):
        TRIED["parser inputs"] += 1
        try:
            found = parse_capture(page, kind="html", source="x.html", base_url=SITE_URL, profile=profile)
        except InputError:
            continue
        for card in found.cards:
            if card.url is not None:
                assert card.url.startswith(("http://", "https://")), card.url
        if found.next_url is not None:
            assert found.next_url.startswith(("http://", "https://")), found.next_url


@pytest.mark.parametrize(
    "href", ["javascript:alert(1)", "JavaScript:alert(1)", " java\tscript:alert(1)", "file:///etc/passwd",
             "data:text/html,x", "vbscript:msgbox(1)"],
)  # fmt: skip
def test_a_card_linking_to_a_non_web_scheme_has_no_permalink(href: str) -> None:
    page = (
        '<html><body><article class="post-card"><h2 class="post-title">'
        f'<a href="{href}">A post</a></h2><div class="post-excerpt">Text of the post.</div>'
        f'</article><a class="next" href="{href}">next</a></body></html>'
    ).encode()
    found = parse_capture(page, kind="html", source="x.html", base_url=SITE_URL, profile=PROFILE)
    assert [(c.title, c.url) for c in found.cards] == [("A post", None)]
    assert found.next_url is None


# -- the CLI on hostile files --------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"", b"\x00\x01\x02" * 100, b"\xff" * 300, b"<" * 20000, b"<html>" + b"<div>" * 20000, PAGE[:1234]],
    ids=["empty", "binary", "ff", "angles", "deep", "cut"],
)
@pytest.mark.parametrize("suffix", [".html", ".txt"])
def test_parse_command_on_hostile_files_gives_cards_or_one_message(
    run: Runner, tmp_path: Path, content: bytes, suffix: str
) -> None:
    path = tmp_path / f"page{suffix}"
    path.write_bytes(content)
    result = run("parse", path, "--format", "jsonl")
    assert "Traceback" not in result.stdout + result.stderr
    assert "internal error" not in result.stderr
    if result.exit_code:
        assert result.exit_code == 1
        assert str(path) in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


# -- what a user types: search and history -------------------------------------------------------

NASTY_QUERIES = [
    '"', '""', "'", "''", '"unbalanced', "a OR b", "OR", "AND", "NOT", "NEAR(a b)", "NEAR(", "*",
    "a*", "^abc", "title:abc", "{title excerpt}:abc", "(", ")", "()", "-abc", "+", ":", "a:b:c",
    "%", "_", "\\", "%_\\", "'; DROP TABLE entry; --", "1 OR 1=1", "注意力", "注意", "注",
    "Transformer", "   ", "\t", "a" * 5000, "💥💥💥", "\u0000abc", "abc\u0000", "\ud800abc",
    "\udcff\udcfe", "ﬁ", "Ａｔｔｅｎｔｉｏｎ",
]  # fmt: skip
NASTY_ENTRY_REFS = [
    "0", "-1", "1.5", "1e3", "99999999999999999999999999", "9223372036854775808", "²", "١٢", "٣",
    "'; DROP TABLE entry; --", "1 OR 1=1", "http://", "http://[::1", "http://a:99999/x",
    "javascript:alert(1)", "\u0000", "\udcff", "", " ", "%", "http://blog.fixture.test/posts/%zz/",
]  # fmt: skip


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeds and the fixture site in one archive (made once for the module)."""
    db = tmp_path_factory.mktemp("queries") / "archive.db"
    runner = CliRunner()
    for args in (["import", SEEDS], ["import", SITE, "--base-url", SITE_URL]):
        result = runner.invoke(app, [*map(str, args), "--db", str(db)], catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
    return db


def _one_clear_message(result: Result) -> None:
    """Exit 0, or 1 with one `archiver: error:` line, or 2 for an option-like value or a blank
    search (usage: click's message, or one `archiver: error:` line)."""
    assert result.exit_code in (0, 1, 2), result
    one_line = result.stderr.startswith("archiver: error: ") and len(result.stderr.splitlines()) == 1
    if result.exit_code == 1:
        assert one_line
    if result.exit_code == 2:
        assert "No such option" in result.stderr or one_line


@pytest.mark.parametrize("query", NASTY_QUERIES)
def test_search_takes_any_text_as_text(run: Runner, archive: Path, query: str) -> None:
    before = dump(archive)
    result = run("search", query, "--db", archive, "--json")
    assert "Traceback" not in result.stdout + result.stderr
    assert "internal error" not in result.stderr, result.stderr
    _one_clear_message(result)
    assert dump(archive) == before


def test_search_finds_text_that_looks_like_syntax(archive: Path) -> None:
    with Store(archive) as store:
        assert store.search("注意力"), "a Chinese substring is found"
        assert store.search("Transformer")
        for syntax in ("AND", "NOT", "NEAR", '"', "*", "a*"):
            for row in store.search(syntax):  # each is a substring search, case-insensitive
                assert syntax.lower() in ((row["title"] or "") + (row["excerpt"] or "")).lower()


@given(st.text(max_size=60))
@settings(FUZZ, max_examples=examples(300))
@example("\x00")
@example('"')
def test_search_never_raises_anything_but_a_clear_error(archive: Path, query: str) -> None:
    with Store(archive, create=False) as store:
        try:
            rows = store.search(query)
        except ArchiverError as exc:
            assert str(archive) in str(exc) or "search" in str(exc)
            return
        needle = query.strip().lower()
        if len(needle) >= 3 and "\x00" not in needle:
            for row in rows:
                haystack = ((row["title"] or "") + " " + (row["excerpt"] or "")).lower()
                assert needle in haystack


@pytest.mark.parametrize("ref", NASTY_ENTRY_REFS)
def test_history_takes_any_entry_reference_as_data(run: Runner, archive: Path, ref: str) -> None:
    result = run("history", ref, "--db", archive)
    assert "Traceback" not in result.stdout + result.stderr
    assert "internal error" not in result.stderr, result.stderr
    _one_clear_message(result)
    with sqlite3.connect(archive) as conn:
        assert conn.execute("SELECT count(*) FROM entry").fetchone()[0] == 92
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@given(st.text(max_size=40))
@settings(FUZZ, max_examples=examples(200))
def test_history_resolves_any_text_or_says_which_entry_is_missing(archive: Path, ref: str) -> None:
    with Store(archive, create=False) as store:
        try:
            entry_id = resolve_entry(store, ref)
        except ArchiverError as exc:
            assert isinstance(exc, InputError), exc
            return
        assert store.history(entry_id)
