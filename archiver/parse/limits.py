"""How much work one page may cost the parser: the limits, why they are what they are, and the
cheap checks that enforce them before the expensive work starts.

The fetcher caps a page at ``--max-bytes`` (10 MiB), but bytes are not work: lexbor's tree
builder looks through the stack of open elements for many start tags, so markup nested N deep
costs about N x N (20,000 nested lists, 157 KB, took 6.4 s; 80,000, 626 KB, 163 s). Real pages
are nowhere near these figures, so each limit is set far above them and a page beyond one is
refused with an :class:`~archiver.errors.InputError` naming the page and the limit.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TypeVar

from archiver.errors import InputError

_T = TypeVar("_T")

#: Deepest element nesting a page may have. Browsers stop nesting there: Blink's HTML parser
#: (``kMaximumHTMLParserDOMTreeDepth``) puts deeper elements beside their parent instead. The 29
#: real listing pages measured (Hexo, Hugo, Jekyll, Ghost, Astro, VuePress, Next.js, WordPress
#: themes) nest at most 17 deep by :func:`max_depth` (16 in the tree lexbor builds). A 10 MiB
#: page nested 500 deep throughout takes lexbor under a second.
MAX_NESTING = 512

#: Pages with at most this many ``<`` are not scanned for their nesting: they cannot nest deep
#: enough to be slow (8,192 nested ``<ul><li>``, twice as many tags, take lexbor 230 ms; plain
#: ``<div>``s 41 ms), and the scan would cost as much as the parse itself (about 1 ms for a
#: 50 KB page). Real listing pages stay far below: the corpus's biggest has 2,037.
NESTING_SCAN_FROM = 8192

#: Longest text read as a date on its own. The longest form the parser knows,
#: ``Saturday, September 11th, 2026, 10:30:00 p.m. GMT+08:00 (China Standard Time)``, is 80
#: characters; a longer field is not a date (and the date patterns' cost grows with the text).
MAX_DATE_CHARS = 256

#: Most digits a page number in a link (``/page/N/``, ``?page=N``) may have. Python refuses to
#: convert numbers of more than 4,300 digits; no blog has a billion listing pages.
MAX_PAGE_DIGITS = 9

#: Longest href read as a link. Servers refuse longer request lines (Apache's LimitRequestLine
#: is 8190 bytes, nginx's header buffers 8 KB), so nobody can follow a longer link; and Python's
#: ``urllib.parse`` remembers its last 128 splits whatever their size, so parsing links of
#: megabytes would pin hundreds of megabytes there. A longer href is no permalink or next page.
MAX_LINK_CHARS = 8192

#: Longest text (the sum of a call's string arguments) a parser cache remembers a result for.
#: The caches live for the whole run, so a page full of unique megabyte-long hrefs (or a
#: megabyte-long page URL) must not fill them: longer links are worked out again each time,
#: never remembered. The 29 real listing pages' longest href is 228 characters and longest
#: class attribute 238. Each cache entry then holds at most about twice this many characters
#: (key and result), so the parser's caches (:data:`CACHE_ENTRIES`) hold at most
#: ``sum(CACHE_ENTRIES.values()) * 2 * MAX_CACHED_KEY_CHARS`` characters (35 million: 35 MB of
#: ASCII), however many pages a run parses; real links fill a small part of that.
MAX_CACHED_KEY_CHARS = 512

#: How many results each parser cache keeps (least recently used go first).
CACHE_ENTRIES = {
    "post keys (per page URL, or per site)": 8192,
    "link paths (per site)": 8192,
    "absolute links": 4096,
    "class lists": 4096,
    "tag.class compounds": 4096,
    "selectors": 1024,
    "dates": 4096,
    "page hosts": 64,
    "page sites": 64,
}

#: Every cache :func:`remember` made, for :func:`clear_caches`.
_CACHES: list[functools._lru_cache_wrapper[object]] = []


def remember(name: str, function: Callable[..., _T]) -> functools._lru_cache_wrapper[_T]:
    """``function`` remembering its last :data:`CACHE_ENTRIES` ``[name]`` results: the one way
    the parser keeps work across pages, so every such cache is bounded here and can be cleared."""
    cached = functools.lru_cache(maxsize=CACHE_ENTRIES[name])(function)
    _CACHES.append(cached)
    return cached


def clear_caches() -> None:
    """Forget everything the parser remembers across pages (for measuring a page on its own)."""
    for cached in _CACHES:
        cached.cache_clear()


#: Elements that never nest: no content and no end tag, and ``a`` (a link's start tag ends
#: the link that is open, as HTML's adoption agency does).
_NOT_NESTED = frozenset(
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta",
        "param", "source", "track", "wbr", "frame", "basefont", "bgsound", "a",
    }
)  # fmt: skip
#: Elements whose content is text up to their end tag, never markup.
_RAW_TEXT = frozenset(
    {"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "plaintext"}
)
#: Start tags that end a ``<p>``, as HTML's "close a p element" steps do.
_CLOSES_P = (
    "address", "article", "aside", "blockquote", "details", "div", "dl", "fieldset",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hgroup", "hr", "main", "menu", "nav", "ol", "pre", "section", "table", "ul",
)  # fmt: skip
#: What a start tag ends while it is the current element: an item whose end tag is left out
#: (``<li>`` after ``<li>``, ``<tr>`` after ``<td>``), as HTML allows.
_ENDS: dict[str, frozenset[str]] = {
    **{name: frozenset({"p"}) for name in _CLOSES_P},
    "p": frozenset({"p"}),
    "li": frozenset({"li", "p"}),
    "dt": frozenset({"dt", "dd", "p"}),
    "dd": frozenset({"dt", "dd", "p"}),
    "option": frozenset({"option"}),
    "optgroup": frozenset({"option", "optgroup"}),
    "tr": frozenset({"td", "th", "tr"}),
    "td": frozenset({"td", "th"}),
    "th": frozenset({"td", "th"}),
    **{
        name: frozenset({"td", "th", "tr", "tbody", "thead", "tfoot"}) for name in ("tbody", "thead", "tfoot")
    },
    **{name: frozenset({"rb", "rt", "rp", "rtc"}) for name in ("rb", "rt", "rp", "rtc")},
}
_NOTHING: frozenset[str] = frozenset()
_RAW_NAMES = "|".join(sorted(_RAW_TEXT))
#: A tag's attributes, as HTML's tokenizer reads them: a name, then maybe ``=`` and a value,
#: quoted (``<`` and ``>`` inside quotes are text) or not. ``<!--`` inside a tag is part of an
#: attribute's name, not a comment.
_ATTRIBUTES = r"""(?:[\s/]+|[^\s/>][^\s/>=]*(?:\s*=\s*(?:"[^"]*"?|'[^']*'?|[^\s>]*))?)*"""
#: A comment, a raw-text element with its text (to its own end tag), or any other tag with its
#: attributes (group ``name``: ``/name`` for an end tag). Each alternative ends at its closing
#: mark or at the end of the page, so the scan is linear even on a page of unclosed comments.
_TOKEN = re.compile(
    rf"""<(?:!--.*?(?:--!?>|\Z)"""
    rf"""|(?P<raw>{_RAW_NAMES})\b{_ATTRIBUTES}(?:>.*?(?:</(?P=raw)|\Z)|\Z)"""
    rf"""|(?P<name>/?[A-Za-z][^\s/>]*){_ATTRIBUTES})""",
    re.DOTALL | re.IGNORECASE,
)


def check_nesting(html: str, source: str) -> None:
    """Refuse a page nested deeper than :data:`MAX_NESTING` before lexbor is given it.

    Only a page of more than :data:`NESTING_SCAN_FROM` tags can nest deep enough to matter.
    The depth is measured by one pass over the tags that follows HTML's tree building closely
    enough for this bound: void elements and links, end tags that close the elements opened inside them,
    end tags with nothing to close, sibling items (``<li>``, ``<p>``, ``<td>``...) whose end tag
    is left out, comments and script/style text.
    """
    if html.count("<") > NESTING_SCAN_FROM and max_depth(html, MAX_NESTING) > MAX_NESTING:
        raise InputError(
            f"{source}: elements nested more than {MAX_NESTING} deep (the most a browser nests); "
            "refused, as parsing it would take minutes. Is this a real listing page?"
        )


def max_depth(html: str, stop: int) -> int:
    """The deepest nesting of ``html``'s elements, or the first depth beyond ``stop``."""
    stack: list[str] = []
    #: how many of each name are open, so an end tag with nothing to close costs nothing
    count: dict[str, int] = {}
    deepest = 0
    ends = _ENDS.get
    for match in _TOKEN.finditer(html):
        token = match["name"]
        if not token:
            continue  # a comment or a script
        name = token.lower()
        if name[0] == "/":
            name = name[1:]
            if count.get(name):  # close it and every element opened inside it
                while (top := stack.pop()) != name:
                    count[top] -= 1
                count[name] -= 1
        elif name not in _NOT_NESTED:
            ended = ends(name, _NOTHING)
            while stack and stack[-1] in ended:
                count[stack.pop()] -= 1  # the start tag ends the open item
            stack.append(name)
            count[name] = count.get(name, 0) + 1
            if len(stack) > deepest:
                deepest = len(stack)
                if deepest > stop:
                    break
    return deepest
