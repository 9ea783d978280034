"""Hostile pages for the fuzzer: Hypothesis strategies that build captures meant to break parsers.

Four families, each a strategy giving a :class:`Page` (bytes, and whether it is imported as .html
or .txt):

* :func:`arbitrary_bytes` and :func:`arbitrary_text`: anything at all, text in any encoding;
* :func:`mutated_pages`: real listing pages (the fixtures, and the corpus of real blogs read
  from ``../shared/corpus`` at run time, never copied) with byte flips, cuts, splices of other
  pages, inserted hazards, a new charset or a whole re-encoding;
* :func:`hostile_html`: listing pages in the fixture site's markup, whose cards carry hazards:
  deep nesting, long runs of one character, huge attributes, odd ``<meta>`` charsets, control
  characters, runs of dots ("Chapter 1 ....... 5"), long ``datetime`` attributes, links with huge
  numbers;
* :func:`hostile_text`: text captures in the seed format (category, date and excerpt lines)
  with the same hazards.

Every size is drawn as a power of two plus a remainder, so sizes spread over orders of magnitude
and Hypothesis shrinks a failure to the smallest size that still fails. A page carries one or two
hazard families, not all: a page holding every hazard would only ever show the slowest one.
"""

from __future__ import annotations

import codecs
import html
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
BASE_URL = "http://fuzz.test/"
T = TypeVar("T")

#: Largest run of one character (about 256 K): longer than any real title or excerpt, still
#: parsed in milliseconds by a linear parser.
MAX_RUN_EXP = 18
#: Deepest nesting drawn (2**17 = 131,072 elements, about 650 KB of markup).
MAX_DEPTH_EXP = 17
#: Longest attribute value (2**20 = 1 MiB).
MAX_ATTR_EXP = 20
#: Largest count of repeated small things (digits of a number, parts of a URL or a date).
MAX_REPEAT_EXP = 12


@dataclass(frozen=True, slots=True)
class Page:
    """One capture to try: its bytes and the kind it is imported as ('html' or 'text')."""

    data: bytes
    kind: str
    label: str

    def describe(self) -> str:
        return f"{self.label}, {len(self.data):,} bytes as .{'html' if self.kind == 'html' else 'txt'}"


@dataclass(frozen=True, slots=True)
class Source:
    """A real page to mutate."""

    name: str
    data: bytes
    kind: str


def load_sources(corpus: Path | None) -> list[Source]:
    """The fixture pages and seeds, and the corpus pages when the folder is there."""
    paths = sorted(FIXTURES.glob("site/**/*.html")) + sorted(FIXTURES.glob("html/*.html"))
    paths += sorted(FIXTURES.glob("seeds/*.txt"))
    if corpus is not None and corpus.is_dir():
        paths += sorted(corpus.glob("*/page*.html"))
    return [
        Source(str(p.relative_to(p.parents[1])), p.read_bytes(), "text" if p.suffix == ".txt" else "html")
        for p in paths
    ]


def sized(max_exp: int) -> st.SearchStrategy[int]:
    """1 .. 2**max_exp, spread over orders of magnitude, shrinking towards 1."""
    return st.integers(0, max_exp).flatmap(lambda e: st.integers(1 << e, (1 << (e + 1)) - 1))


# -- text hazards ---------------------------------------------------------------------------------

RUN_CHARS = [".", "…", "．", "‥", "。", "·", " ", "\n", "\t", "-", "=", "*", "<", ">", "&", "中", "a",
             "0", "\u200b", "\u00a0", "\ufeff", "/", "'", '"', "#", "e\u0301", "\U0001f600",
             "\u202e"]  # fmt: skip
DOT_SEPARATORS = [".", ". ", " .", "…", "．", "‥", "。", "·", "-", "_", " "]
TAILS = ["...", " ...", "…", " […]", " [...]", " Read more", " read more »", " 阅读全文", " 继续阅读 →", "»"]
WORDS = ["Transformer", "注意力机制", "LoRA 微调", "Chapter", "The quick brown fox", "한국어 글",
         "日本語の記事", "مقالة", "Ελληνικά", "C++ & <templates>", "a", "", "Deep Learning", "2024-01-01",
         "Python"]  # fmt: skip
DATETIMES = ["2024-01-01", "2024-02-30", "2024-13-45", "0000-00-00", "-0001-01-01",
             "2024-01-01T25:61:61Z", "2024-W53-8", "１２３４-０１-０１", "२०२४-०१-०१", "2024年13月45日",
             "Mon, 99 Foo 2024 99:99:99 GMT", "9999-12-31T23:59:59.999999999+99:99", "1e400", "NaN",
             "2024/1/1", "  2024-01-01  "]  # fmt: skip
CHARSETS = ["utf-8", "UTF8", "utf-16", "utf-16le", "utf-16be", "utf-32", "utf-7", "utf_8_sig", "gb2312",
            "gbk", "gb18030", "big5", "big5hkscs", "shift_jis", "euc-jp", "iso-2022-jp", "euc-kr", "johab",
            "koi8-r", "koi8-u", "windows-1251", "cp1252", "latin1", "iso-8859-8-i", "mac-roman", "tis-620",
            "cp037", "cp500", "cp875", "hz", "x-user-defined", "replacement", "undefined", "rot13",
            "rot_13", "base64", "hex", "zlib", "bz2", "uu", "quopri", "idna", "punycode", "unicode_escape",
            "raw_unicode_escape", "charmap", "mbcs", "oem", "cp65001", "ascii", "us-ascii", "x", "-",
            "utf-8.", "a" * 300]  # fmt: skip
HUGE_HREFS = ["/page/{n9}/", "http://fuzz.test:{n9}/p/", "/posts/{pff}", "http://[{v6}]/", "http://{dots}test/",
              "?page={n9}", "http://0x{nf}/", "http://fuzz.test/{up}x", "//{n9}/", "http://fuzz.test/p?{amp}",
              "http://fuzz.test/p#{nx}", "http://u:{nx}@fuzz.test/", "http://xn--{nx}.test/", "http://{zh}.test/",
              "/posts/{n9}", "http://fuzz.test/posts/{n9}.html", "javascript:{nx}", "http://{n9}.{n9}.0.1/",
              "http://fuzz.test/%{nx}", "http://fuzz.test/\x00/{nx}"]  # fmt: skip

_CONTROL = [*range(0, 32), 0x7F, *range(0x80, 0xA0), 0xFFFE, 0xFFFF, 0xD800, 0xDFFF, 0x2028, 0x2029, 0xFEFF]


def _run(char: str, n: int) -> str:
    return char * n


def weighted(choices: list[tuple[int, st.SearchStrategy[T]]]) -> st.SearchStrategy[T]:
    """One of ``choices``, each as often as its weight; shrinks towards the first."""
    table = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.integers(0, len(table) - 1).flatmap(lambda index: table[index])


#: One piece of a field's text. Mostly plain words: the hazards that hang the current code
#: (runs of dots, truncation markers over and over) must not be in every page, or they would
#: hide every other failure behind them.
text_piece = weighted(
    [
        (20, st.sampled_from(WORDS)),
        (3, st.builds(_run, st.sampled_from(RUN_CHARS), sized(MAX_RUN_EXP))),
        (
            1,
            st.builds(
                lambda k, sep, n, m: f"Chapter {k} {sep * n} {m}",
                st.integers(0, 99),
                st.sampled_from(DOT_SEPARATORS),
                sized(MAX_RUN_EXP),
                st.sampled_from(["5", "x", "", "中", "5..."]),
            ),
        ),
        (
            1,
            st.builds(
                lambda t, n, end: t * n + end, st.sampled_from(TAILS), sized(10), st.sampled_from(["", "x"])
            ),
        ),
        (
            3,
            st.lists(st.sampled_from(_CONTROL), min_size=1, max_size=20).map(
                lambda cs: "".join(map(chr, cs))
            ),
        ),
        (
            2,
            st.builds(
                lambda f, n: f.format("9" * n),
                st.sampled_from(["&#{};", "&#x{};", "&{};", "{}"]),
                sized(MAX_REPEAT_EXP),
            ),
        ),
    ]
)
#: A field's text: a few pieces, hazards or words.
text_value = st.lists(text_piece, min_size=1, max_size=4).map("".join)


@st.composite
def href(draw: st.DrawFn) -> str:
    """A link, sometimes with huge numbers or long parts in every place a URL has them."""
    if draw(st.booleans()):
        return draw(
            st.sampled_from(["/posts/a/", "http://fuzz.test/posts/b/", "posts/c", "", "#", "/page/2/"])
        )
    n = draw(sized(MAX_REPEAT_EXP))
    return draw(st.sampled_from(HUGE_HREFS)).format(
        n9="9" * n, nf="f" * n, nx="x" * n, pff="%FF" * n, v6="1:" * n, dots="a." * n, up="../" * n,
        amp="&a=1" * n, zh="中" * n,
    )  # fmt: skip


@st.composite
def datetime_value(draw: st.DrawFn) -> str:
    """A ``datetime`` attribute: odd, or long (a date repeated, digits without end)."""
    base = draw(st.sampled_from(DATETIMES))
    n = draw(sized(MAX_REPEAT_EXP))
    return draw(st.sampled_from([base, base * n, "9" * n, base + "0" * n, "2024-01-01T" + "1" * n]))


def _escape(text: str, raw: bool) -> str:
    return text if raw else html.escape(text)


# -- HTML hazards ---------------------------------------------------------------------------------

NEST_TAGS = ["div", "span", "a", "p", "li", "ul", "table", "td", "b", "i", "font", "article", "section",
             "h2", "time", "select", "svg", "math", "template", "button", "form", "nobr", "em"]  # fmt: skip


@st.composite
def nesting(draw: st.DrawFn) -> str:
    """Elements nested ``depth`` deep, closed or not, one tag or a misnested pair."""
    depth = draw(sized(MAX_DEPTH_EXP))
    first, second = draw(st.sampled_from(NEST_TAGS)), draw(st.sampled_from(NEST_TAGS))
    inner = html.escape(draw(st.sampled_from(WORDS)))
    shape = draw(st.sampled_from(["closed", "open", "misnested", "cards"]))
    if shape == "closed":
        return f"<{first}>" * depth + inner + f"</{first}>" * depth
    if shape == "open":
        return f"<{first} class='post-card'>" * depth + inner
    if shape == "misnested":
        return f"<{first}><{second}>" * depth + inner + f"</{first}>" * depth
    return '<article class="post-card"><h2 class="post-title"><a href="/p/">x</a></h2>' * depth


@st.composite
def html_hazard(draw: st.DrawFn) -> str:
    """One hostile piece of markup."""
    family = draw(st.sampled_from(["nest", "attr", "link", "time", "comment", "text", "entity", "meta"]))
    if family == "nest":
        return draw(nesting())
    if family == "attr":
        n = draw(sized(MAX_ATTR_EXP))
        char = draw(st.sampled_from(RUN_CHARS))
        name = draw(st.sampled_from(["class", "href", "title", "datetime", "data-x", "x" * 100]))
        return f'<div {name}="{html.escape(char * n)}">x</div>'
    if family == "link":
        return f'<a href="{html.escape(draw(href()))}">link</a>'
    if family == "time":
        return (
            f'<time datetime="{html.escape(draw(datetime_value()))}">{html.escape(draw(text_value))}</time>'
        )
    if family == "comment":
        body = draw(text_value)
        return draw(
            st.sampled_from([f"<!--{body}-->", f"<!--{body}", f"<![CDATA[{body}]]>", f"<script>{body}"])
        )
    if family == "entity":
        return "&#" + "9" * draw(sized(MAX_REPEAT_EXP)) + ";"
    if family == "meta":
        return f'<meta charset="{draw(st.sampled_from(CHARSETS))}">'
    return _escape(draw(text_value), draw(st.booleans()))


def card_html(title: str, link: str, when: str, date_text: str, category: str, excerpt: str) -> str:
    """A card in the fixture site's markup (fixtures/site/profile.toml finds every field)."""
    return (
        f'<article class="post-card"><header><h2 class="post-title"><a href="{html.escape(link)}">'
        f'{title}</a></h2><div class="post-meta"><time datetime="{html.escape(when)}">{date_text}</time>'
        f'<span class="post-category"><a href="/categories/c/">{category}</a></span></div></header>'
        f'<div class="post-excerpt"><p>{excerpt}</p></div></article>\n'
    )


@st.composite
def hostile_card(draw: st.DrawFn, family: str, hazard: str | None) -> str:
    """A card; ``hazard`` (a text) goes in the field ``family`` names, or in any for 'mixed'."""

    def field(kind: str) -> str:
        if hazard is not None and (kind == family or (family == "mixed" and draw(st.booleans()))):
            return _escape(hazard, raw=draw(st.booleans()))
        return html.escape(draw(st.sampled_from(WORDS[:12])))

    link = draw(href()) if family in ("link", "mixed") else f"/posts/{draw(st.integers(0, 10**6))}/"
    when = draw(datetime_value()) if family in ("time", "mixed") else "2024-05-01"
    return card_html(field("title"), link, when, field("time"), field("category"), field("excerpt"))


@st.composite
def hostile_html(draw: st.DrawFn) -> Page:
    """A listing page in the fixture markup: one hazard text in one to three of its cards, odd
    links or dates in every card, hostile markup between them, maybe an odd charset."""
    family = draw(st.sampled_from(["title", "excerpt", "category", "time", "link", "mixed", "markup"]))
    count = draw(st.integers(1, 25))
    hazard = draw(text_value)
    hit = draw(st.sets(st.integers(0, count - 1), min_size=1, max_size=3))
    cards = [draw(hostile_card(family, hazard if n in hit else None)) for n in range(count)]
    for piece in draw(st.lists(html_hazard(), max_size=3 if family == "markup" else 1)):
        cards.insert(draw(st.integers(0, len(cards))), piece)
    charset = draw(weighted([(3, st.none()), (1, st.sampled_from(CHARSETS))]))
    meta = f'<meta charset="{charset}">' if charset else ""
    page = (
        f"<!doctype html><html><head>{meta}<title>Fuzz blog</title></head><body>"
        f'<main class="content">{"".join(cards)}<a class="next" href="{html.escape(draw(href()))}">next</a>'
        "</main></body></html>"
    )
    codec = charset if charset and draw(st.booleans()) else "utf-8"
    return Page(_encode(page, codec), "html", f"hostile html ({family}, charset {charset})")


def _encode(text: str, codec: str) -> bytes:
    """``text`` in ``codec`` where Python has such a text codec, else UTF-8; never fails."""
    try:
        if codecs.lookup(codec)._is_text_encoding:
            return text.encode(codec, errors="xmlcharrefreplace")
    except (LookupError, UnicodeError, ValueError):
        pass
    return text.encode("utf-8", errors="surrogatepass")


# -- text captures --------------------------------------------------------------------------------

#: Excerpt lines as the seed captures show them (cut, ending in "...").
_EXCERPTS = [
    line.removesuffix("...")
    for path in sorted(FIXTURES.glob("seeds/*.txt"))
    for line in path.read_text("utf-8").splitlines()
    if line.endswith("...")
][:20]
NEWLINES = ["\n", "\r\n", "\r", "\n\n", "\u2028", "\x0b", "\x0c", "\x85", "\n \n"]


@st.composite
def hostile_text(draw: st.DrawFn) -> Page:
    """A text capture in the seed format (chrome, then category? date? excerpt per card), with
    one hazard text in one to three of its lines, odd dates and odd line breaks."""
    newline = draw(st.sampled_from(NEWLINES))
    lines = ["INCOMING TRANSMISSION", "", "LATEST UPDATES"] if draw(st.booleans()) else []
    for _ in range(draw(st.integers(1, 12))):
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from(["Deep Learning", "Python", "中文分类", "3D Model"])))
        if draw(st.booleans()):
            lines.append(draw(weighted([(3, st.sampled_from(DATETIMES[:1])), (1, datetime_value())])))
        lines.append(draw(st.sampled_from(WORDS)) + " " + draw(st.sampled_from(_EXCERPTS)) + "...")
    hazard = draw(text_value)
    for at in draw(st.sets(st.integers(0, len(lines)), min_size=1, max_size=3)):
        lines.insert(at, hazard)
    text = newline.join(lines)
    prefix = draw(st.sampled_from([b"", codecs.BOM_UTF8, b"\xff\xfe"]))
    codec = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-16-le", "gb18030", "latin-1"]))
    return Page(prefix + _encode(text, codec), "text", f"hostile text ({codec}, newline {newline!r})")


# -- anything at all ------------------------------------------------------------------------------


def arbitrary_bytes() -> st.SearchStrategy[Page]:
    return st.builds(
        lambda data, kind: Page(data, kind, "random bytes"),
        st.binary(max_size=8192),
        st.sampled_from(["html", "text"]),
    )


HTMLISH = ["<div>", "</div>", "<a href='/p/1/'>", "</a>", "<article class='post-card'>", "</article>",
           "&amp;", "&#x", "<!--", "-->", "<meta charset=", "...", "…", "<time datetime='", "'>", "<h2>",
           "<p>", "<", ">", "\"", "'", "=", "\x00", "\r", "\n", " "]  # fmt: skip


@st.composite
def arbitrary_text(draw: st.DrawFn) -> Page:
    """Any Unicode (surrogates and controls too) or tag soup, in an encoding that may not fit."""
    alphabet = st.characters(codec=None, blacklist_categories=())
    text = draw(
        st.text(alphabet, max_size=3000)
        | st.lists(st.sampled_from(HTMLISH) | st.text(alphabet, max_size=5), max_size=200).map("".join)
    )
    codec = draw(st.sampled_from(["utf-8", "utf-8", "utf-16", "utf-32", "gb18030", "cp1252", "shift_jis"]))
    return Page(_encode(text, codec), draw(st.sampled_from(["html", "text"])), f"random text ({codec})")


# -- mutated real pages ---------------------------------------------------------------------------

_position = st.integers(0, 1 << 24)


@dataclass(frozen=True, slots=True)
class Edit:
    """One edit of a page, as plain data (so a failing list of edits shrinks)."""

    op: str
    at: int = 0
    size: int = 0
    #: a second position, a byte value or a source index, depending on ``op``
    other: int = 0
    text: str = ""


@st.composite
def mutation(draw: st.DrawFn, sources: int) -> Edit:
    op = draw(
        st.sampled_from(
            ["flip"] * 3
            + ["cut"]
            + ["drop"] * 3
            + ["dup"] * 3
            + ["insert"] * 4
            + ["splice"] * 3
            + ["fill"] * 2
        )
    )
    at = draw(_position)
    if op == "flip":
        return Edit(op, at, other=draw(st.integers(0, 255)))
    if op in ("drop", "dup"):
        return Edit(op, at, draw(sized(14)), draw(_position))
    if op == "insert":
        return Edit(op, at, text=draw(html_hazard()))
    if op == "splice":
        return Edit(op, at, draw(sized(14)), draw(st.integers(0, sources - 1)), text=str(draw(_position)))
    if op == "fill":
        return Edit(op, at, draw(sized(MAX_RUN_EXP)), text=draw(st.sampled_from(RUN_CHARS)))
    return Edit(op, at)


#: What a page may be re-encoded to as a whole (one page in eight gets a charset change).
TRANSCODINGS = ["utf-16", "utf-16-be", "gb18030", "big5", "shift_jis", "cp1252", "utf-7"]
recharset = weighted(
    [
        (14, st.none()),
        (1, st.builds(Edit, st.just("charset"), text=st.sampled_from(CHARSETS))),
        (1, st.builds(Edit, st.just("transcode"), text=st.sampled_from(TRANSCODINGS))),
    ]
)


def apply_mutation(page: bytearray, edit: Edit, sources: list[Source]) -> bytearray:
    """``edit`` applied to ``page``; positions wrap around the page's length."""
    at = edit.at % (len(page) + 1)
    if edit.op == "flip" and page:
        page[min(at, len(page) - 1)] = edit.other
    elif edit.op == "cut":
        del page[at:]
    elif edit.op == "drop":
        del page[at : at + edit.size]
    elif edit.op == "dup":
        span = page[at : at + edit.size]
        where = edit.other % (len(page) + 1)
        page[where:where] = span
    elif edit.op == "insert":
        page[at:at] = edit.text.encode("utf-8", errors="surrogatepass")
    elif edit.op == "splice":
        other = sources[edit.other].data
        start = int(edit.text) % (len(other) + 1)
        page[at:at] = other[start : start + edit.size]
    elif edit.op == "fill":
        run = (edit.text * edit.size).encode("utf-8", errors="surrogatepass")
        page[at : at + len(run)] = run
    elif edit.op == "charset":
        page[0:0] = f'<meta charset="{edit.text}">'.encode()
    elif edit.op == "transcode":
        return bytearray(_encode(page.decode("utf-8", errors="replace"), edit.text))
    return page


def mutated_pages(sources: list[Source]) -> st.SearchStrategy[Page]:
    """A real page or seed with 1-30 edits; the label names the page and the edits' kinds."""

    @st.composite
    def build(draw: st.DrawFn) -> Page:
        index = draw(st.integers(0, len(sources) - 1))
        edits = draw(st.lists(mutation(len(sources)), min_size=1, max_size=30))
        if (whole := draw(recharset)) is not None:
            edits.append(whole)
        page = bytearray(sources[index].data)
        for edit in edits:
            page = apply_mutation(page, edit, sources)
        kinds = ",".join(sorted({e.op for e in edits}))
        return Page(bytes(page), sources[index].kind, f"{sources[index].name} + {len(edits)} edits ({kinds})")

    return build()
