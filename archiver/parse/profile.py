"""Site profiles: a small TOML file of CSS selectors that pins how a site's cards are read.

A profile is optional (the extractor finds cards by itself); it exists to pin or correct what the
extractor finds, and ``archiver probe`` writes one for the user to edit.

Format::

    name = "Example blog"                       # optional, for messages
    start_url = "https://blog.example/"         # optional: lets `archiver crawl --profile F` run alone
    date_formats = ["%d.%m.%Y"]                 # optional strptime formats, tried first
    category_separator = "·"                    # optional: category matches are meta lines
                                                # ("技术 · 开源 · Jul 11, 2026 · 4 min"): split
                                                # them, keep the segments before the date

    [selectors]
    card = "article.post"                       # required: one element per post card
    title = "h2 a"                              # text
    permalink = "h2 a"                          # the element's href (or "SELECTOR @attr")
    category = ".post-category a"               # every match is one category
    tags = ".post-tags a"                       # every match is one tag
    date = "time"                               # datetime/content attribute, else the text
    excerpt = ".post-excerpt"                   # text
    next_page = "a.next"                        # matched in the whole page, not in a card

Each selector may end in `` @attr`` to read that attribute instead of the default.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from archiver.errors import ProfileError
from archiver.models import ProfileText

SELECTOR_KEYS: tuple[str, ...] = (
    "card",
    "title",
    "permalink",
    "category",
    "tags",
    "date",
    "excerpt",
    "next_page",
)


@dataclass(frozen=True)
class Profile:
    """Selectors for one site's listing pages; ``None`` means the field is not read."""

    card: str
    title: str | None = None
    permalink: str | None = None
    category: str | None = None
    tags: str | None = None
    date: str | None = None
    excerpt: str | None = None
    next_page: str | None = None
    name: str | None = None
    start_url: str | None = None
    date_formats: tuple[str, ...] = field(default_factory=tuple)
    category_separator: str | None = None

    def selectors(self) -> dict[str, str]:
        """The selectors that are set, by key, in the file's order."""
        return {k: v for k in SELECTOR_KEYS if (v := getattr(self, k))}

    def to_toml(self) -> str:
        """The profile as a TOML file that :func:`load_profile` reads back unchanged."""
        lines = []
        if self.name:
            lines.append(f"name = {_toml_str(self.name)}")
        if self.start_url:
            lines.append(f"start_url = {_toml_str(self.start_url)}")
        if self.date_formats:
            lines.append("date_formats = [" + ", ".join(map(_toml_str, self.date_formats)) + "]")
        if self.category_separator:
            lines.append(f"category_separator = {_toml_str(self.category_separator)}")
        if lines:
            lines.append("")
        lines.append("[selectors]")
        lines += [f"{k} = {_toml_str(v)}" for k, v in self.selectors().items()]
        return "\n".join(lines) + "\n"


def _toml_str(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def load_profile(path: Path) -> Profile:
    """Read and check a profile file; every problem is a :class:`ProfileError` naming the file."""
    return profile_from_text(read_profile_text(path))


def read_profile_text(path: Path) -> ProfileText:
    """A profile file's text as the archive keeps it (not checked: see :func:`profile_from_text`)."""
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise ProfileError(f"{path}: profile file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: cannot read profile: {exc}") from None
    return ProfileText(str(path), text, hashlib.sha256(data).hexdigest(), str(path.resolve()))


def profile_from_text(kept: ProfileText) -> Profile:
    """Check a profile's text and build the :class:`Profile` it describes; a problem is a
    :class:`ProfileError` naming the file."""
    try:
        data = tomllib.loads(kept.text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{kept.name}: not valid TOML: {exc}") from None
    return profile_from_dict(data, source=kept.name)


def kept_profile(profile: Profile | None, text: ProfileText | None) -> ProfileText | None:
    """The text to keep with each capture parsed with ``profile``: its file's (``text``), else
    its own TOML for a profile given in code; None without a profile (cards found by detection)."""
    if profile is None:
        return None
    return text or profile_text_of(profile)


def parsed_with(kept: ProfileText | None) -> str:
    """A capture's ``parsed_with`` for an HTML page read with ``kept``: the profile file's absolute
    path, 'profile' for one given in code, 'auto' for detection (kept for people who query)."""
    if kept is None:
        return "auto"
    return kept.path or "profile"


def profile_text_of(profile: Profile) -> ProfileText:
    """The text to keep for a profile given in code rather than read from a file: its TOML,
    which :func:`profile_from_text` reads back to the same profile."""
    text = profile.to_toml()
    return ProfileText("profile", text, hashlib.sha256(text.encode("utf-8")).hexdigest())


def profile_from_dict(data: dict[str, object], *, source: str = "profile") -> Profile:
    """Build a :class:`Profile` from parsed TOML, rejecting unknown or mistyped keys."""
    selectors = _selectors(data, source)
    known_top = {f.name for f in fields(Profile)} - set(SELECTOR_KEYS) | {"selectors"}
    unknown_top = set(data) - known_top
    if unknown_top:
        raise ProfileError(f"{source}: unknown key(s) {', '.join(sorted(unknown_top))}")
    formats = data.get("date_formats", [])
    if not isinstance(formats, list) or not all(isinstance(f, str) for f in formats):
        raise ProfileError(f"{source}: date_formats must be a list of strftime strings")
    name = _optional_string(data, "name", source)
    start_url = _optional_string(data, "start_url", source)
    separator = data.get("category_separator")
    if separator is not None and (not isinstance(separator, str) or not separator.strip()):
        raise ProfileError(f"{source}: category_separator must be a non-empty string")
    return Profile(
        **{k: v.strip() for k, v in selectors.items()},
        name=name,
        start_url=start_url,
        date_formats=tuple(formats),
        category_separator=separator.strip() if separator else None,
    )


def _selectors(data: dict[str, object], source: str) -> dict[str, str]:
    """The ``[selectors]`` table: known keys only, each a non-empty string, ``card`` among them."""
    selectors = data.get("selectors")
    if not isinstance(selectors, dict):
        raise ProfileError(f"{source}: missing [selectors] table")
    unknown = set(selectors) - set(SELECTOR_KEYS)
    if unknown:
        raise ProfileError(
            f"{source}: unknown selector(s) {', '.join(sorted(unknown))}; known: {', '.join(SELECTOR_KEYS)}"
        )
    for key, value in selectors.items():
        if not isinstance(value, str) or not value.strip():
            raise ProfileError(f"{source}: selector {key!r} must be a non-empty string")
    if "card" not in selectors:
        raise ProfileError(f"{source}: [selectors] needs a 'card' selector")
    return selectors


def _optional_string(data: dict[str, object], key: str, source: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ProfileError(f"{source}: {key} must be a string")
    return value
