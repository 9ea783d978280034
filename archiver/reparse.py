"""Re-parsing: rebuild every entry and version from the stored raw captures.

After an extractor improvement or with a corrected profile, the archive becomes what it would
be had every capture been read that way in the first place, in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from archiver.errors import ProfileError, ProfileSiteUnclear, StoredProfileUnusable
from archiver.ingest import apply_cards
from archiver.models import ProfileText
from archiver.parse import (
    DEFAULT_CHROME_LINES,
    Profile,
    parse_capture,
    parsed_with,
    profile_from_text,
    profile_text_of,
    read_profile_text,
    require_cards,
)
from archiver.store import Store, StoredCapture

#: How many hex digits of a profile's sha256 messages show: enough to tell a person's few
#: profiles apart (as git's short commit ids), short enough to read.
SHORT_SHA256 = 12


@dataclass(frozen=True, slots=True)
class ProfileUse:
    """One profile a reparse read captures with, and where it came from."""

    profile: ProfileText
    #: 'stored' (kept in the archive), 'file' (an older capture's file, read and now kept) or
    #: 'given' (by the caller)
    source: str

    def describe(self) -> str:
        """How messages name it: file name and short sha256."""
        return f"{self.profile.name} (sha256 {self.profile.sha256[:SHORT_SHA256]})"


@dataclass(slots=True)
class ReparseResult:
    """What re-applying every stored capture gave, against what the archive held before."""

    captures: int = 0
    cards: int = 0
    entries_before: int = 0
    versions_before: int = 0
    entries: int = 0
    versions: int = 0
    #: the profiles captures were read with, and how many captures each
    profiles: dict[ProfileUse, int] = field(default_factory=dict)


def reparse(
    store: Store,
    profile: Profile | None = None,
    profile_text: ProfileText | None = None,
    site: str | None = None,
    on_capture: Callable[[int], None] | None = None,
) -> ReparseResult:
    """Rebuild every entry and version from the stored raw captures, in the order they came.

    The outcome is the archive as if each capture had been imported with today's extractor in
    the first place, read as it was then (the profile text stored with it, encoding and chrome
    lines it was imported with), or with ``profile`` (its file's ``profile_text``) for the HTML
    captures of ``site``, which keep it from then on. A capture archived before profiles were
    stored is read with the file its ``parsed_with`` names, which is stored with it. It runs as
    one transaction: if any capture fails to parse, nothing changes.
    """
    before = store.stats()
    result = ReparseResult(entries_before=before["entries"], versions_before=before["versions"])
    if profile is not None and site is None:
        _check_one_site(store)
    given = ProfileUse(profile_text or profile_text_of(profile), "given") if profile is not None else None
    reader = _Reader(store, profile, given, site, result.profiles)
    with store.transaction():
        gone = store.gone_marks()
        store.forget_entries()
        last_of_source: dict[str, tuple[int, str | None]] = {}
        captures = list(store.captures())
        taken = {stored.capture_id: stored.record.captured_at for stored in captures}
        for stored in captures:
            record = stored.record
            previous = last_of_source.get(record.source)
            last_body = record.sha256 or (previous[1] if previous else None)
            last_of_source[record.source] = (stored.capture_id, last_body)
            if record.parsed_with is None or record.sha256 is None:
                _seen_again(store, stored, previous[0] if previous else None)
            else:
                # a file imported again unchanged is read at the time of the capture it repeats
                again = taken.get(record.repeats_capture_id) if record.repeats_capture_id else None
                result.cards += reader.apply(stored, again)
                result.captures += 1
            store.mark_reappeared(stored.capture_id, record.captured_at)
            store.replay_gone(stored.capture_id, gone.get(stored.capture_id, ()))
            if on_capture:
                on_capture(stored.capture_id)
    after = store.stats()
    result.entries, result.versions = after["entries"], after["versions"]
    return result


def _seen_again(store: Store, stored: StoredCapture, previous: int | None) -> None:
    """A 304 or the same bytes again, not parsed: it shows again what it repeated (by default
    the capture of its source before it)."""
    record = stored.record
    repeated = record.repeats_capture_id or previous
    seen = store.mark_seen_again(repeated, stored.capture_id, record.captured_at) if repeated else 0
    store.finish_capture(stored.capture_id, seen, 0, 0)


def _check_one_site(store: Store) -> None:
    """A profile given without a site is for the archive's only site of HTML captures."""
    html_sites = {c.record.site for c in store.captures() if c.record.kind == "html"}
    if len(html_sites) > 1:
        raise ProfileSiteUnclear(tuple(sorted(html_sites)))


class _Reader:
    """Reads a stored capture again as it was first read, or with the profile given for its site."""

    def __init__(
        self,
        store: Store,
        profile: Profile | None,
        given: ProfileUse | None,
        site: str | None,
        used: dict[ProfileUse, int],
    ):
        self.store, self.profile, self.given, self.site, self.used = store, profile, given, site, used
        #: profiles parsed, by sha256: each distinct text once
        self.loaded: dict[str, Profile] = {}
        #: profile files of captures archived before profiles were stored, read once per path
        self.files: dict[str, ProfileText] = {}

    def apply(self, stored: StoredCapture, taken_at: str | None) -> int:
        """Parse the capture's bytes and apply its cards (as taken at ``taken_at`` when given);
        how many cards it gave."""
        record = stored.record
        assert record.sha256 is not None
        use = self._profile_for(stored)
        use_profile = self._load(use, stored) if use is not None else None
        page = parse_capture(
            self.store.get_blob(record.sha256),
            kind=record.kind,
            source=record.source,
            base_url=record.page_url,
            profile=use_profile,
            encoding=record.encoding,
            header_charset=record.charset,
            chrome_lines=DEFAULT_CHROME_LINES | frozenset(record.chrome_lines),
        )
        if use_profile is not None and stored.cards:
            # a page archived with no cards (a broken layout, kept for later) may give none
            # again; one that gave cards and gives none now is the profile's fault
            require_cards(page, record.source, use_profile)
        applied = apply_cards(
            self.store,
            replace(record, captured_at=taken_at) if taken_at else record,
            stored.capture_id,
            page.cards,
        )
        self.store.finish_capture(stored.capture_id, applied.cards, applied.new_entries, applied.new_versions)
        if use is not None and use.source != "stored":
            # given, or read from an older capture's file: the capture keeps it from now on
            kept = record.parsed_with if use.source == "file" else parsed_with(use.profile)
            assert kept is not None
            self.store.set_profile(stored.capture_id, use.profile, kept)
        return applied.cards

    def _profile_for(self, stored: StoredCapture) -> ProfileUse | None:
        """The profile to read an HTML capture with: the one given for its site, else the one
        stored with it, else (archived before profiles were stored) its file; None for
        detection and text captures."""
        record = stored.record
        if record.kind != "html":
            return None
        if self.given is not None and self.site in (None, record.site):
            return self.given
        if record.profile is not None:
            return ProfileUse(record.profile, "stored")
        name = record.parsed_with
        if name in (None, "auto", "profile"):
            return None
        assert name is not None
        if name not in self.files:
            try:
                self.files[name] = read_profile_text(Path(name))
            except ProfileError as exc:
                raise StoredProfileUnusable(
                    stored.capture_id, record.source, name, str(exc), stored=False
                ) from None
        return ProfileUse(self.files[name], "file")

    def _load(self, use: ProfileUse, stored: StoredCapture) -> Profile:
        """The profile to parse with, built once per distinct text."""
        self.used[use] = self.used.get(use, 0) + 1
        if use.source == "given":
            assert self.profile is not None
            return self.profile
        sha256 = use.profile.sha256
        if sha256 not in self.loaded:
            try:
                self.loaded[sha256] = profile_from_text(use.profile)
            except ProfileError as exc:
                raise StoredProfileUnusable(
                    stored.capture_id, stored.record.source, use.describe(), str(exc), stored=True
                ) from None
        return self.loaded[sha256]
