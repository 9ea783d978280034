"""Which links of a listing page may be post permalinks, as keys to compare them by.

Taxonomy, archive, pagination and asset links and links off the site are never permalinks, and
the fragment is dropped so ``/post/#more`` is the same post as ``/post/``. Remembered per page URL
(captures of one page repeat nearly all their links), and per site for links that mean the same on
every page of it (absolute and root-relative: a site repeats its menus and tag links on every
page); never for long links
(:data:`~archiver.parse.limits.MAX_CACHED_KEY_CHARS`), and a link too long to follow
(:data:`~archiver.parse.limits.MAX_LINK_CHARS`) is none.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from archiver.parse.limits import MAX_CACHED_KEY_CHARS, MAX_LINK_CHARS, remember
from archiver.parse.links import is_web_scheme, link_target

#: Path segments of index pages: categories, tags, authors, search, feeds.
_TAXONOMY = frozenset(
    {
        "tags", "tag", "categories", "category", "author", "authors", "search", "feed", "rss",
        "topics", "topic", "label", "labels", "series",
    }
)  # fmt: skip
_ASSET = re.compile(r"\.(?:png|jpe?g|gif|webp|svg|ico|css|js|xml|json|txt|pdf|zip|gz|mp3|mp4|woff2?)$", re.I)
#: What urlsplit removes from a URL before splitting it.
_URL_UNSAFE = re.compile(r"[\t\r\n]")


def post_keys(hrefs: list[str | None], base_url: str | None, base_host: str | None) -> list[str | None]:
    """:func:`post_key` of every href (a page repeats the same hrefs many times).

    An absolute or root-relative href means the same on every page of a site, so it is looked
    up against the site's root rather than the page's URL: the menus, tag links and sidebars
    that every page of a site repeats are worked out once per site, not once per page.
    """
    root = _site_root(base_url) if base_url and len(base_url) <= MAX_CACHED_KEY_CHARS else None
    known = {}
    for href in dict.fromkeys(hrefs):
        # The same everywhere on the site: an absolute href, or one from the site's root.
        same = (
            root
            and href
            and (href.startswith(("http://", "https://")) or (href[0] == "/" and href[1:2] != "/"))
        )
        known[href] = post_key(href, root if same else base_url, base_host)
    return [known[href] for href in hrefs]


def _root(base_url: str) -> str | None:
    """``scheme://host/`` of a web page URL; None for any other."""
    if not base_url.startswith(("http://", "https://")) or _URL_UNSAFE.search(base_url):
        return None
    try:
        parts = urlsplit(base_url)
    except ValueError:
        return None
    return f"{parts.scheme}://{parts.netloc}/"


_site_root = remember("page sites", _root)


def post_key(href: str | None, base_url: str | None, base_host: str | None) -> str | None:
    """A comparable key for a link that may be a post permalink, else ``None`` (see the module
    docstring). ``base_host``: the only host a permalink may have (None: any)."""
    if len(href or "") + len(base_url or "") <= MAX_CACHED_KEY_CHARS:
        return _remembered_post_key(href, base_url, base_host)
    return _link_key(href, base_url, base_host) if len(href or "") <= MAX_LINK_CHARS else None


def _link_key(href: str | None, base_url: str | None, base_host: str | None) -> str | None:
    """:func:`post_key`, worked out."""
    href = link_target(href)
    if href is None:
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
    if not is_web_scheme(parts.scheme):
        return None
    return _path_key(parts.netloc.lower(), parts.path, parts.query, base_host)


_remembered_post_key = remember("post keys (per page URL, or per site)", _link_key)


def _host(base_url: str) -> str:
    """The page URL's host (and port), in lower case."""
    return urlsplit(base_url).netloc.lower()


_netloc = remember("page hosts", _host)


def _path_key(netloc: str, path: str, query: str, base_host: str | None) -> str | None:
    """:func:`post_key` of a split link (``netloc`` in lower case). The same on every page of
    a site, so remembered across pages."""
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
    if any(map(_is_index, segments)) or all(map(_may_be_archive, segments)):
        return None
    return f"{netloc}{path.rstrip('/')}?{query}"


_remembered_path_key = remember("link paths (per site)", _split_key)


def _is_index(segment: str) -> bool:
    """An index of posts (``/tags/x/``), or one of its pages (``/page2/``)."""
    return segment in _TAXONOMY or (segment[:4] == "page" and (segment == "page" or segment[4:].isdecimal()))


def _may_be_archive(segment: str) -> bool:
    """A segment of a date archive (``/archives/2021/05/``)."""
    return (
        segment in ("archive", "archives")
        or (len(segment) == 4 and segment.isdecimal())
        or (len(segment) <= 2 and segment.isdigit())
    )
