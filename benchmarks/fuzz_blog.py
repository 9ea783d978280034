"""Capture sequences of a small synthetic blog, and the invariants an archive must keep after each.

A :class:`Story` is a blog's life and how it was captured:

* a few posts, then states of the blog one day apart, each after edits: a post added on top,
  one removed, a title rewritten, an excerpt rewritten, a category or date changed, two posts
  swapped, an edit reverted (A -> B -> A);
* captures of listing pages of those states (page 1 or 2, 2-5 cards a page), each cut
  differently: excerpts whole or cut at some length with a truncation marker, permalinks on
  every card, none or some (spelt in the many ways that canonicalise to one URL), categories
  and dates shown or not;
* the order they are imported in, any order (an old copy imported late), with repeats: the same
  file again (at its first time, or at a later one: ``--captured-at`` says the page still
  looked like that then), or the same bytes under a new name and a new time (the blog showing
  an old state again).

Every capture is imported with ``archiver import FILE --base-url URL --captured-at T --profile P``
into one archive, and after each import :func:`check_archive` checks what SPEC.md promises. The
profile pins the markup, so what each card shows is known exactly (the fuzzer tests identity and
storage here, not card detection).
"""

from __future__ import annotations

import html
import json
import re
import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urljoin

from hypothesis import strategies as st

from archiver.identity import canonical_url
from archiver.models import json_list

ROOT = Path(__file__).resolve().parent.parent
SITE_URL = "http://blog.fuzz.test/"
SITE = "blog.fuzz.test"
START = datetime(2026, 1, 1, tzinfo=UTC)
PROFILE_TOML = """\
name = "Fuzz blog"
[selectors]
card = "article.post-card"
title = "h2.post-title"
permalink = "h2.post-title a"
category = ".post-category a"
date = "time"
excerpt = ".post-excerpt"
next_page = "a.next"
"""
TOPICS = [
    "Transformer 注意力",
    "LoRA 微调笔记",
    "Gaze estimation",
    "Python packaging",
    "3D 重建入门",
    "FlashAttention",
]
CATEGORIES = ["Deep Learning", "NLP", "Python", "3D Model", "杂谈"]
MARKERS = ["...", "…", " [...]", " […]", " Read more", " 阅读全文"]
#: A long start shared by every excerpt of a story, when it has one (like seed 004's PEFT pair).
STEM = (
    "背景 随着预训练语言模型的规模越来越大, 全量微调的成本越来越高, "
    "于是出现了参数高效微调的方法, 这里比较几种做法: "
)
_EXCERPTS: list[str] = [
    post["excerpt"] for post in json.loads((ROOT / "fixtures/site/posts.json").read_text("utf-8"))
]
_PID = re.compile(r"#(\d+)")


@dataclass(frozen=True, slots=True)
class Post:
    """A post as the blog shows it at one time; ``rev``/``text_rev`` number its edits."""

    pid: int
    rev: int = 0
    text_rev: int = 0
    category: str = CATEGORIES[0]
    date: str = "2025-12-01"

    @property
    def title(self) -> str:
        return f"{TOPICS[self.pid % len(TOPICS)]} #{self.pid}" + (f" (rev {self.rev})" if self.rev else "")

    def excerpt(self, stem: bool) -> str:
        base = _EXCERPTS[self.pid % len(_EXCERPTS)][:400]
        if self.text_rev:
            at = 12 + 7 * self.text_rev % 40
            base = f"{base[:at]}（修订 {self.text_rev}）{base[at:]}"
        return (STEM if stem else "") + f"第 {self.pid} 篇: " + base


@dataclass(frozen=True, slots=True)
class Edit:
    op: str
    arg: int


@dataclass(frozen=True, slots=True)
class Capture:
    """How one listing page of one state was captured."""

    state: int
    page: int
    per_page: int
    permalinks: str  # all, none or some
    spelling: int
    cut: int | None
    marker: int
    show_category: bool
    show_date: bool


@dataclass(frozen=True, slots=True)
class Repeat:
    """An import again of an earlier one: the same file (``again``) or its bytes under a new name."""

    at: int
    of: int
    mode: str
    #: a copy's time: this many hours after the start of the story's states (mod their span)
    hours: int
    same_time: bool


@dataclass(frozen=True, slots=True)
class Story:
    initial: int
    steps: list[list[Edit]]
    captures: list[Capture]
    order: list[int]
    repeats: list[Repeat]
    stem: bool

    def size(self) -> int:
        return len(self.order) + len(self.repeats) + sum(map(len, self.steps)) + self.initial


@dataclass(frozen=True, slots=True)
class Shown:
    """A card as a capture showed it (the truth the archive is checked against)."""

    pid: int
    title: str
    url: str | None
    category: str | None
    date: str | None


@dataclass(slots=True)
class Step:
    """One import: the file, the command's arguments, and the cards it shows."""

    name: str
    data: bytes
    url: str
    captured_at: str
    shown: list[Shown]
    label: str


# -- generating stories ---------------------------------------------------------------------------

EDITS = ["add", "remove", "retitle", "rewrite", "recategorize", "redate", "swap", "revert"]
_edit = st.builds(Edit, st.sampled_from(EDITS), st.integers(0, 20))


@st.composite
def stories(draw: st.DrawFn) -> Story:
    steps = draw(st.lists(st.lists(_edit, min_size=1, max_size=3), max_size=4))
    states = len(steps) + 1
    capture = st.builds(
        Capture, st.integers(0, states - 1), st.integers(1, 2), st.integers(2, 5),
        st.sampled_from(["all", "none", "some"]), st.integers(0, 5), st.none() | st.integers(10, 300),
        st.integers(0, len(MARKERS) - 1), st.booleans(), st.booleans(),
    )  # fmt: skip
    captures = draw(st.lists(capture, min_size=1, max_size=7))
    order = draw(st.permutations(range(len(captures))))
    repeat = st.builds(
        Repeat, st.integers(0, 20), st.integers(0, 20), st.sampled_from(["again", "copy"]),
        st.integers(0, 24 * states), st.booleans(),
    )  # fmt: skip
    repeats = draw(st.lists(repeat, max_size=3))
    return Story(draw(st.integers(1, 6)), steps, captures, list(order), repeats, draw(st.booleans()))


def blog_states(story: Story) -> list[list[Post]]:
    """The blog after each step of edits (newest post first)."""
    posts = [Post(pid) for pid in range(story.initial)]
    history: dict[int, list[Post]] = defaultdict(list)
    states, next_pid, next_rev = [list(posts)], story.initial, 1
    for edits in story.steps:
        for edit in edits:
            at = edit.arg % len(posts)
            post = posts[at]
            if edit.op == "add":
                posts.insert(0, Post(next_pid))
                next_pid += 1
                continue
            if edit.op == "remove" and len(posts) > 1:
                del posts[at]
                continue
            if edit.op == "swap":
                other = (at + 1 + edit.arg // 3) % len(posts)
                posts[at], posts[other] = posts[other], posts[at]
                continue
            if edit.op == "revert":
                if history[post.pid]:
                    posts[at] = history[post.pid].pop()
                continue
            changed = {
                "retitle": replace(post, rev=next_rev),
                "rewrite": replace(post, text_rev=next_rev),
                "recategorize": replace(post, category=CATEGORIES[(CATEGORIES.index(post.category) + 1) % 5]),
                "redate": replace(post, date=f"2025-12-{2 + next_rev % 27:02d}"),
            }.get(edit.op)
            if changed is not None:
                history[post.pid].append(post)
                posts[at] = changed
                next_rev += 1
        states.append(list(posts))
    return states


def _href(pid: int, spelling: int) -> str:
    slug = f"post-{pid}"
    spellings = [
        f"{SITE_URL}posts/{slug}/",
        f"HTTP://Blog.Fuzz.Test/posts/{slug}",
        f"/posts/{slug}/?utm_source=rss",
        f"/posts/{slug}/",
        f"http://blog.fuzz.test:80/posts/{slug}/#more",
        f"{SITE_URL}posts/{slug}/index.html",
    ]
    return spellings[spelling % len(spellings)]


def render(posts: list[Post], capture: Capture, stem: bool) -> tuple[bytes, str, list[Shown]]:
    """A listing page of ``posts`` as ``capture`` shows it: bytes, page URL, cards shown."""
    first = (capture.page - 1) * capture.per_page
    shown_posts = posts[first : first + capture.per_page] or posts[: capture.per_page]
    page_url = SITE_URL if capture.page == 1 or first >= len(posts) else f"{SITE_URL}page/{capture.page}/"
    cards, shown = [], []
    for post in shown_posts:
        linked = capture.permalinks == "all" or (capture.permalinks == "some" and post.pid % 2 == 0)
        href = _href(post.pid, capture.spelling + post.pid) if linked else None
        title = html.escape(post.title)
        heading = f'<a href="{html.escape(href)}">{title}</a>' if href else title
        meta = f'<time datetime="{post.date}">{post.date}</time>' if capture.show_date else ""
        if capture.show_category:
            meta += f'<span class="post-category"><a href="/categories/c/">{post.category}</a></span>'
        excerpt = post.excerpt(stem)
        if capture.cut is not None and capture.cut < len(excerpt):
            excerpt = excerpt[: capture.cut] + MARKERS[capture.marker]
        cards.append(
            f'<article class="post-card"><header><h2 class="post-title">{heading}</h2>'
            f'<div class="post-meta">{meta}</div></header>'
            f'<div class="post-excerpt"><p>{html.escape(excerpt)}</p></div></article>'
        )
        shown.append(
            Shown(
                post.pid,
                post.title,
                urljoin(page_url, href) if href else None,
                post.category if capture.show_category else None,
                post.date if capture.show_date else None,
            )
        )
    page = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>Fuzz blog</title></head>'
        f'<body><main class="content">{"".join(cards)}</main></body></html>'
    )
    return page.encode(), page_url, shown


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def import_steps(story: Story) -> list[Step]:
    """The imports of ``story`` in order, each with its file name, bytes, time and cards shown."""
    states = blog_states(story)
    rendered = []
    for index, capture in enumerate(story.captures):
        data, url, shown = render(states[capture.state], capture, story.stem)
        moment = START + timedelta(days=capture.state, minutes=index)
        rendered.append((data, url, shown, _stamp(moment), f"state {capture.state}, page {capture.page}"))
    steps = []
    for index in story.order:
        data, url, shown, at, label = rendered[index]
        steps.append(Step(f"c{index:02d}.html", data, url, at, shown, label))
    for number, repeat in enumerate(story.repeats):
        position = repeat.at % (len(steps) + 1)
        if position == 0:
            continue  # a repeat needs an import before it
        earlier = steps[repeat.of % position]
        if repeat.mode == "again":
            later = _stamp(START + timedelta(days=len(states), minutes=number))
            at = earlier.captured_at if repeat.same_time else later
            step = replace(earlier, captured_at=at, label=f"again: {earlier.name}")
        else:
            moment = START + timedelta(hours=repeat.hours, minutes=30 + number)
            name = f"copy{number}.html"
            step = replace(earlier, name=name, captured_at=_stamp(moment), label=f"copy of {earlier.name}")
        steps.insert(position, step)
    return steps


# -- checking an archive --------------------------------------------------------------------------


@contextmanager
def _read(db: Path) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        yield conn


def check_archive(db: Path, steps: list[Step]) -> list[tuple[str, str]]:
    """Every broken promise after ``steps`` were imported: (invariant, what was seen)."""
    problems: list[tuple[str, str]] = []
    with _read(db) as conn:
        ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if ok != "ok":
            problems.append(("integrity_check is ok", ok))
        problems += check_versions(conn)
        problems += _check_cards_kept(conn, steps)
        problems += _check_current_is_newest(conn, steps)
        problems += check_search(conn)
        seen = conn.execute("SELECT coalesce(sum(seen_count), 0) FROM entry_version").fetchone()[0]
        cards = conn.execute("SELECT coalesce(sum(cards), 0) FROM capture").fetchone()[0]
        if seen != cards:
            problems.append(("seen counts add up to the captures' cards", f"{seen} sightings, {cards} cards"))
    return problems


def check_versions(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    problems = []
    rows = conn.execute(
        "SELECT e.id, e.current_version_id, v.id, v.version, v.first_seen_at FROM entry e"
        " LEFT JOIN entry_version v ON v.entry_id = e.id ORDER BY e.id, v.version"
    ).fetchall()
    by_entry: dict[int, list[tuple[int, int, int, str]]] = defaultdict(list)
    for entry, current, vid, version, first_seen in rows:
        by_entry[entry].append((current, vid, version, first_seen))
    for entry, versions in by_entry.items():
        numbers = [v[2] for v in versions]
        if numbers != list(range(1, len(numbers) + 1)):
            problems.append(("versions are 1..n", f"entry {entry} has versions {numbers}"))
        elif versions[0][0] != versions[-1][1]:
            problems.append(
                ("the current version is version n", f"entry {entry}: current is not version {len(numbers)}")
            )
        times = [v[3] for v in versions]
        if times != sorted(times):
            problems.append(("versions follow time order", f"entry {entry}: versions first seen at {times}"))
    return problems


def _check_cards_kept(conn: sqlite3.Connection, steps: list[Step]) -> list[tuple[str, str]]:
    """No card lost (every post shown has an entry) and no two posts merged into one entry."""
    problems = []
    titles = {t for (t,) in conn.execute("SELECT title FROM entry_version")}
    keys = {k for (k,) in conn.execute("SELECT key FROM entry WHERE key_kind = 'url' AND site = ?", (SITE,))}
    for step in steps:
        for card in step.shown:
            if card.title not in titles:
                problems.append(("no card lost", f"{step.name}: title {card.title!r} is in no version"))
            if card.url and canonical_url(card.url) not in keys:
                problems.append(("no card lost", f"{step.name}: permalink {card.url} is no entry"))
    pids: dict[int, set[int]] = defaultdict(set)
    for entry, title in conn.execute("SELECT entry_id, title FROM entry_version"):
        if title and (match := _PID.search(title)):
            pids[entry].add(int(match.group(1)))
    for entry, found in pids.items():
        if len(found) > 1:
            problems.append(
                ("two posts never merge", f"entry {entry} holds versions of posts {sorted(found)}")
            )
    return problems[:3]


def _check_current_is_newest(conn: sqlite3.Connection, steps: list[Step]) -> list[tuple[str, str]]:
    """SPEC 4: the current version is the state shown by the newest capture that showed the post.

    Checked for posts every capture showed with a permalink (so their entry is known), on the
    fields the newest capture showed. The same file imported again with a time is a capture of
    that time (README: only a file imported again without a time is the capture it repeats).
    """
    newest: dict[int, tuple[str, Shown, str]] = {}
    unlinked = set()
    for step in steps:
        for card in step.shown:
            if card.url is None:
                unlinked.add(card.pid)
            elif card.pid not in newest or step.captured_at > newest[card.pid][0]:
                newest[card.pid] = (step.captured_at, card, step.name)
    problems = []
    for pid, (at, card, name) in sorted(newest.items()):
        if pid in unlinked or card.url is None:
            continue
        row = conn.execute(
            "SELECT v.title, v.categories, coalesce(v.date, v.date_text), v.version FROM entry e"
            " JOIN entry_version v ON v.id = e.current_version_id"
            " WHERE e.site = ? AND e.key_kind = 'url' AND e.key = ?",
            (SITE, canonical_url(card.url)),
        ).fetchone()
        if row is None:
            continue  # reported as a lost card
        expected = (card.title, json_list(card.categories) or row[1], card.date or row[2])
        if tuple(row[:3]) != expected:
            problems.append(
                (
                    "the current version is what the newest capture showed",
                    f"post {pid}: current version {row[3]} is {tuple(row[:3])}, "
                    f"but {name} (taken {at}, the newest showing it) shows {expected}",
                )
            )
    return problems[:3]


def check_search(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """Every post is found by a trigram of its current title and excerpt; none by an old one."""
    problems = []
    current = {
        vid: (title or "", excerpt or "")
        for vid, title, excerpt in conn.execute("SELECT id, title, excerpt FROM entry")
    }
    for vid, texts in current.items():
        for text in texts:
            probe = _trigram(text)
            if probe is None:
                continue
            found = {
                r
                for (r,) in conn.execute(
                    "SELECT rowid FROM entry_fts WHERE entry_fts MATCH ?", (f'"{probe}"',)
                )
            }
            if vid not in found:
                problems.append(
                    ("search finds every post by its current text", f"entry {vid} not found by {probe!r}")
                )
            if found - set(current):
                problems.append(
                    (
                        "search finds only posts",
                        f"{probe!r} finds rows that are no posts {found - set(current)}",
                    )
                )
    return problems[:3]


def _trigram(text: str) -> str | None:
    """Three characters of ``text`` from its middle that FTS5 takes as a plain phrase."""
    for start in range(len(text) // 2, len(text) - 2):
        piece = text[start : start + 3]
        if all(c.isprintable() and c not in '"' for c in piece):
            return piece
    return None


def fts_integrity(db: Path, copy: Path) -> str | None:
    """FTS5's own integrity check, on a copy (the check writes): None when it passes."""
    with closing(sqlite3.connect(db)) as source, closing(sqlite3.connect(copy)) as target:
        source.backup(target)
        try:
            target.execute("INSERT INTO entry_fts(entry_fts) VALUES ('integrity-check')")
        except sqlite3.DatabaseError as exc:
            return str(exc)
    return None


def snapshot(db: Path) -> list[tuple[object, ...]]:
    """Entries with their versions, and the cards each capture counted: what reparse must keep."""
    with _read(db) as conn:
        versions: dict[int, list[tuple[object, ...]]] = defaultdict(list)
        for row in conn.execute(
            "SELECT entry_id, version, title, url, categories, tags, date, excerpt, changed, seen_count,"
            " first_seen_at, last_seen_at, first_capture_id, last_capture_id FROM entry_version"
            " ORDER BY entry_id, version"
        ):
            versions[row[0]].append(row[1:])
        entries: list[tuple[object, ...]] = [
            (site, kind, key, tuple(versions[entry]))
            for entry, site, kind, key in conn.execute("SELECT id, site, key_kind, key FROM entry")
        ]
        captures = conn.execute("SELECT id, cards FROM capture ORDER BY id").fetchall()
    return [*sorted(entries, key=repr), ("captures", tuple(captures))]


def first_difference(before: list[tuple[object, ...]], after: list[tuple[object, ...]]) -> str:
    if len(before) != len(after):
        return f"{len(before) - 1} entries before, {len(after) - 1} after"
    for old, new in zip(before, after, strict=True):
        if old != new:
            return f"{old!r:.300} became {new!r:.300}"
    return "none"
