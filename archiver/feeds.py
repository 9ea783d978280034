"""Feeds of the archive: Atom 1.0 and JSON Feed 1.1 of the newest posts of a site, or of all sites.

Any blog archived becomes a feed with history. One item per post, newest first by when archiver
first saw it; a post found gone stays in the feed as a tombstone (Atom: an RFC 6721
``at:deleted-entry``; JSON Feed: the item with ``"_archiver": {"gone": true, ...}``), so a reader
can drop it. A reader knows an item by its id, so a post's id is made only of what never changes:
its canonical permalink, or for a post shown without one a ``tag:`` URI (RFC 4151) of its site
and a digest of its key, the same in both formats and in every run.

The rendering is pure and a function of the archive alone (a feed's ``updated`` is its newest
post's last change, never the clock). Only the bottom of the module reads the archive and writes
files: :func:`write_feeds` writes a directory of feeds and rewrites only those whose bytes
changed, so that file times say which blogs changed and a static web server can publish the
directory as it is.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from collections.abc import Iterator, Sequence
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from archiver.errors import InputError
from archiver.store import FeedPost, Store

if TYPE_CHECKING:  # feedgen and lxml load in ~50 ms: only the commands that write Atom pay it
    from feedgen.feed import FeedGenerator

#: Posts in a feed unless asked otherwise: the newest hundred cover weeks of even a busy blog
#: (a reader polls far more often), and a feed stays a few hundred KB at most.
FEED_LIMIT = 100
#: The authority and date of the ``tag:`` ids (RFC 4151): '.invalid' (RFC 2606) is nobody's
#: domain, and the date is fixed for good, since an id must never change.
TAG_AUTHORITY = "archiver.invalid,2026"
#: Hex digits of sha256(key) in the id of a post without a permalink: 96 bits, no collision
#: among the posts of one site in any archive.
ID_DIGEST_CHARS = 24
#: Longest name a site's feed file is given, in bytes: file systems allow 255, less room for the
#: '.atom' suffix and the temporary file's dot, random part and '.tmp'.
MAX_NAME_BYTES = 200
#: ``updated`` of a feed with no post: Atom requires one, and the clock would rewrite the file on
#: every run.
NO_POSTS_UPDATED = "1970-01-01T00:00:00Z"
#: The name of the feed of every site (``all.atom``).
ALL = "all"

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
ATOM_NS = "http://www.w3.org/2005/Atom"
TOMBSTONES_NS = "http://purl.org/atompub/tombstones/1.0"

#: Characters XML 1.0 cannot hold at all (C0 controls but tab and newlines, lone surrogates,
#: U+FFFE and U+FFFF): a title carrying one shows U+FFFD in its place.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
#: Characters a terminal acts on that XML and JSON may hold raw (DEL, C1 controls, the Unicode
#: line separators): written as character references / \u escapes, which read back the same.
_RAW_CONTROL = re.compile("[\x7f-\x9f\u2028\u2029]")
#: What a feed file name keeps as it is; everything else is written %XX.
_PLAIN_NAME = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-.")


# -- ids and times ---------------------------------------------------------------------------


def post_id(post: FeedPost) -> str:
    """The post's id in every feed and every run: its canonical permalink, else a ``tag:`` URI of
    its site and key (a text-keyed post's key is its normalised text, fixed once it is stored)."""
    if post.key_kind == "url":
        return post.key
    digest = hashlib.sha256(post.key.encode("utf-8")).hexdigest()[:ID_DIGEST_CHARS]
    return f"tag:{TAG_AUTHORITY}:{_tag_text(post.site)}/{digest}"


def feed_id(site: str | None) -> str:
    """The feed's own id: one per site, and one for the feed of all sites."""
    return f"tag:{TAG_AUTHORITY}:{ALL}" if site is None else f"tag:{TAG_AUTHORITY}:site:{_tag_text(site)}"


def feed_title(site: str | None) -> str:
    return "Every archived blog" if site is None else site


def feed_updated(posts: Sequence[FeedPost]) -> str:
    """When the feed last changed, by its posts: the newest last change or going."""
    times = [time for post in posts for time in (post.updated_at, post.gone_at) if time]
    return _stamp(max(times, key=_instant)) if times else NO_POSTS_UPDATED


def _tag_text(site: str) -> str:
    """A site in a ``tag:`` URI: what a URI path may not hold, percent-encoded."""
    return quote(site, safe=":@")


def _instant(text: str) -> datetime:
    """An archive time ('2026-01-11T08:00:00Z') as an aware datetime in UTC."""
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _stamp(text: str) -> str:
    """An archive time in RFC 3339, as both formats write it."""
    return _instant(text).isoformat().replace("+00:00", "Z")


def _day(date: str | None) -> datetime | None:
    """A post's day ('YYYY-MM-DD') as its midnight in UTC: the time a feed's published needs."""
    return datetime.fromisoformat(date).replace(tzinfo=UTC) if date else None


def _title(post: FeedPost) -> str:
    """A post's title; one shown without (a text-only card) is named by its first words."""
    if post.title:
        return post.title
    text = " ".join((post.excerpt or post.key).split())
    return text if len(text) <= 80 else text[:79] + "…"


def _terms(post: FeedPost) -> list[str]:
    """Its categories, then its tags, each once."""
    return list(dict.fromkeys([*post.categories, *post.tags]))


# -- Atom ------------------------------------------------------------------------------------


def atom_feed(site: str | None, posts: Sequence[FeedPost], home: str | None = None) -> bytes:
    """The Atom 1.0 feed of ``posts`` (of ``site``, or of every site when None): an entry per
    listed post, an ``at:deleted-entry`` tombstone per gone one. ``home``: the listing's URL."""
    from feedgen.feed import FeedGenerator
    from lxml import etree

    feed = FeedGenerator()
    feed.id(feed_id(site))
    feed.title(_xml(feed_title(site)))
    feed.updated(_instant(feed_updated(posts)))
    feed.author({"name": _xml(site or "archiver")})
    feed.generator("archiver")
    if home:
        feed.link(href=home, rel="alternate")
    for post in posts:
        if post.gone_at is None:
            _atom_entry(feed, post)
    root = etree.fromstring(feed.atom_str())
    _add_tombstones(root, [(post_id(post), _stamp(post.gone_at)) for post in posts if post.gone_at])
    etree.indent(root, space="  ")
    text = etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode("utf-8") + "\n"
    return _RAW_CONTROL.sub(lambda match: f"&#x{ord(match.group()):X};", text).encode("utf-8")


def _add_tombstones(root: Any, gone: Sequence[tuple[str, str]]) -> None:
    """An ``at:deleted-entry`` per gone post (its id, when it went), among the feed's own
    elements before its entries: RFC 6721 allows them anywhere in the feed, and RFC 4287's
    schema allows extension elements only there."""
    from lxml import etree

    first_entry = root.find(f"{{{ATOM_NS}}}entry")
    for ref, when in gone:
        tombstone = etree.Element(
            f"{{{TOMBSTONES_NS}}}deleted-entry", ref=ref, when=when, nsmap={"at": TOMBSTONES_NS}
        )
        if first_entry is None:
            root.append(tombstone)
        else:
            first_entry.addprevious(tombstone)
    etree.cleanup_namespaces(root, top_nsmap={"at": TOMBSTONES_NS})


def _atom_entry(feed: FeedGenerator, post: FeedPost) -> None:
    """One listed post as an entry. A post without a permalink has no link for a reader to
    follow, so it carries its text as content (RFC 4287 asks for one or the other)."""
    entry = feed.add_entry(order="append")
    entry.id(post_id(post))
    entry.title(_xml(_title(post)))
    entry.updated(_instant(post.updated_at))
    published = _day(post.date)
    if published is not None:
        entry.published(published)
    if post.url:
        entry.link(href=post.url, rel="alternate")
    else:
        entry.content(_xml(post.excerpt or _title(post)), type="text")
    if post.excerpt:
        entry.summary(_xml(post.excerpt))
    for term in _terms(post):
        entry.category(term=_xml(term))


def _xml(text: str) -> str:
    """Text XML can hold (see :data:`_NOT_XML`)."""
    return _NOT_XML.sub("\ufffd", text)


# -- JSON Feed -------------------------------------------------------------------------------


def json_feed(site: str | None, posts: Sequence[FeedPost], home: str | None = None) -> bytes:
    """The JSON Feed 1.1 of ``posts`` (of ``site``, or of every site when None); a gone post is
    an item with ``"_archiver": {"gone": true, "gone_at": ...}``. Keys without a value are left
    out, as the format asks."""
    feed: dict[str, Any] = {"version": JSON_FEED_VERSION, "title": feed_title(site)}
    if home:
        feed["home_page_url"] = home
    feed["items"] = [_json_item(post) for post in posts]
    text = json.dumps(feed, ensure_ascii=False, indent=2) + "\n"
    return _RAW_CONTROL.sub(lambda match: f"\\u{ord(match.group()):04x}", text).encode("utf-8")


def _json_item(post: FeedPost) -> dict[str, Any]:
    published = _day(post.date)
    item: dict[str, Any] = {
        "id": post_id(post),
        "url": post.url,
        "title": post.title,
        "content_text": post.excerpt or _title(post),
        "summary": post.excerpt,
        "tags": _terms(post) or None,
        "date_published": published.isoformat().replace("+00:00", "Z") if published else None,
        "date_modified": _stamp(post.updated_at),
    }
    if post.gone_at is not None:
        item["_archiver"] = {"gone": True, "gone_at": _stamp(post.gone_at)}
    return {key: value for key, value in item.items() if value is not None}


# -- files -----------------------------------------------------------------------------------


def feed_file_name(site: str) -> str:
    """The name (without suffix) of a site's feed files, safe on any file system and distinct for
    every site.

    Lower-case ASCII letters, digits, '-' and '.' stay as they are; every other character is
    written %XX (its UTF-8 bytes, upper-case hex), so ``127.0.0.1:8765`` is ``127.0.0.1%3A8765``,
    ``host/path`` is ``host%2Fpath``, no name holds a separator, and names differ even where
    the file system ignores case. A leading '.' is written %2E (no hidden file, no '..'). A name
    that cannot be used as it is (empty, ``all``, which is the feed of every site, or longer than
    :data:`MAX_NAME_BYTES`) keeps its start and ends in '~' and a digest of the site ('~' is never
    in a name otherwise).
    """
    name = "".join(
        char if char in _PLAIN_NAME else "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))
        for char in site
    )
    if name.startswith("."):
        name = "%2E" + name[1:]
    if name and name != ALL and len(name) <= MAX_NAME_BYTES:
        return name
    start = name[: MAX_NAME_BYTES - ID_DIGEST_CHARS - 1]
    start = start[: start.rfind("%")] if "%" in start[-2:] else start  # never half of a %XX
    return f"{start}~{hashlib.sha256(site.encode('utf-8')).hexdigest()[:ID_DIGEST_CHARS]}"


def rendered_feeds(store: Store, limit: int = FEED_LIMIT) -> Iterator[tuple[str, bytes]]:
    """Every feed file, by name and content: ``<site>.atom`` and ``<site>.json`` of each site
    that has posts (see :func:`feed_file_name`), then ``all.atom``, each of its ``limit`` newest
    posts. One site's at a time, so an archive of many blogs never holds all its feeds at once."""
    for site in store.feed_sites():
        posts, home, name = store.feed_posts(site, limit), store.feed_home(site), feed_file_name(site)
        yield f"{name}.atom", atom_feed(site, posts, home)
        yield f"{name}.json", json_feed(site, posts, home)
    yield f"{ALL}.atom", atom_feed(None, store.feed_posts(None, limit))


def write_feeds(store: Store, directory: Path, *, limit: int = FEED_LIMIT) -> list[Path]:
    """Write the feeds of :func:`rendered_feeds` into ``directory`` (made when missing), each
    atomically (a temporary file in the directory, then renamed over the feed: os.replace), and
    only those whose bytes changed: a reader or web server never sees half a feed, and a feed's
    file time is when it last changed. The paths rewritten, in order."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{directory}: cannot make the feeds directory: {exc.strerror}") from None
    written = []
    for name, content in rendered_feeds(store, limit):
        path = directory / name
        if _differs(path, content):
            write_atomically(path, content)
            written.append(path)
    return written


def _differs(path: Path, content: bytes) -> bool:
    try:
        return path.read_bytes() != content
    except OSError:  # missing, or unreadable: writing it says what is wrong
        return True


def write_atomically(path: Path, content: bytes) -> None:
    """Replace ``path`` by ``content`` in one rename, synced first, so that it is either the old
    file or the new one, even after a crash. The file gets the usual mode (0666 less the umask)."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    made = False
    try:
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        made = True
        with os.fdopen(handle, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        temporary.replace(path)
    except OSError as exc:
        if made:
            with suppress(OSError):  # the error that stopped the write is the one to report
                temporary.unlink()
        raise InputError(f"{path}: cannot write the feed: {exc.strerror}") from None
