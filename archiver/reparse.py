"""Re-parsing: rebuild every entry and version from the stored raw captures.

After an extractor improvement or with a corrected profile, the archive becomes what it would
be had every capture been read that way in the first place, in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from archiver.errors import InputError, ProfileError
from archiver.parse import DEFAULT_CHROME_LINES, Profile, load_profile, parse_capture, require_cards
from archiver.pipeline import apply_cards
from archiver.store import CaptureRecord, Store, StoredCapture


@dataclass(slots=True)
class ReparseResult:
    """What re-applying every stored capture gave, against what the archive held before."""

    captures: int = 0
    cards: int = 0
    entries_before: int = 0
    versions_before: int = 0
    entries: int = 0
    versions: int = 0


def reparse(
    store: Store,
    profile: Profile | None = None,
    profile_name: str | None = None,
    site: str | None = None,
    on_capture: Callable[[int], None] | None = None,
) -> ReparseResult:
    """Rebuild every entry and version from the stored raw captures, in the order they came.

    The outcome is the archive as if each capture had been imported with today's extractor in
    the first place, read as it was then (the profile file, encoding and chrome lines it was
    imported with), or with ``profile`` for the HTML captures of ``site``. It runs as one
    transaction: if any capture fails to parse, nothing changes.
    """
    before = store.stats()
    result = ReparseResult(entries_before=before["entries"], versions_before=before["versions"])
    if profile is not None and site is None:
        _check_one_site(store)
    reader = _Reader(store, profile, profile_name, site)
    with store.transaction():
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
                # a 304 or the same bytes again, not parsed: it shows again what it repeated
                repeated = record.repeats_capture_id or (previous[0] if previous else None)
                seen = (
                    store.mark_seen_again(repeated, stored.capture_id, record.captured_at) if repeated else 0
                )
                store.finish_capture(stored.capture_id, seen, 0, 0)
            else:
                # a file imported again unchanged is read at the time of the capture it repeats
                again = taken.get(record.repeats_capture_id) if record.repeats_capture_id else None
                result.cards += reader.apply(stored, again)
                result.captures += 1
            if on_capture:
                on_capture(stored.capture_id)
    after = store.stats()
    result.entries, result.versions = after["entries"], after["versions"]
    return result


def _check_one_site(store: Store) -> None:
    """A profile given without a site is for the archive's only site of HTML captures."""
    html_sites = {c.record.site for c in store.captures() if c.record.kind == "html"}
    if len(html_sites) > 1:
        raise InputError(
            f"the archive holds HTML captures of {len(html_sites)} sites "
            f"({', '.join(sorted(html_sites))}); name the one the profile is for with --site"
        )


class _Reader:
    """Reads a stored capture again as it was first read, or with the profile given for its site."""

    def __init__(self, store: Store, profile: Profile | None, profile_name: str | None, site: str | None):
        self.store, self.profile, self.profile_name, self.site = store, profile, profile_name, site
        self.loaded: dict[str, Profile] = {}

    def apply(self, stored: StoredCapture, taken_at: str | None) -> int:
        """Parse the capture's bytes and apply its cards (as taken at ``taken_at`` when given);
        how many cards it gave."""
        record = stored.record
        assert record.sha256 is not None
        chosen = self.profile if record.kind == "html" and self.site in (None, record.site) else None
        use_profile = chosen or _profile_used(record, self.loaded)
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
        if chosen is not None:
            self.store.set_parsed_with(stored.capture_id, self.profile_name or "profile")
        return applied.cards


def _profile_used(record: CaptureRecord, loaded: dict[str, Profile]) -> Profile | None:
    """The profile file a capture was parsed with (None for 'auto' and 'text'), loaded once."""
    name = record.parsed_with
    if record.kind != "html" or name in (None, "auto", "profile"):
        return None
    assert name is not None
    if name not in loaded:
        try:
            loaded[name] = load_profile(Path(name))
        except ProfileError as exc:
            raise InputError(
                f"{record.source} was parsed with the profile {name}, which cannot be read now "
                f"({exc}); pass --profile to re-parse it with another"
            ) from None
    return loaded[name]
