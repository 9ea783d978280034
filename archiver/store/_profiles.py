"""Profiles kept in the archive: the text each capture was parsed with, stored once per sha256."""

from __future__ import annotations

from functools import cached_property

from archiver.models import ProfileText
from archiver.store._connection import Connection


class Profiles(Connection):
    """The ``profile`` table, and which profile a capture was parsed with."""

    @cached_property
    def _kept_profiles(self) -> set[str]:
        """The sha256 of profiles this connection kept: every capture of a run names the same."""
        return set()

    def put_profile(self, profile: ProfileText) -> None:
        """Keep a profile's text (once per sha256: the first name it came with stays)."""
        if profile.sha256 in self._kept_profiles:
            return
        self.conn.execute(
            "INSERT INTO profile (sha256, name, toml) VALUES (?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
            (profile.sha256, profile.name, profile.text),
        )
        self._kept_profiles.add(profile.sha256)

    def _forget_uncommitted(self) -> None:
        self._kept_profiles.clear()
        super()._forget_uncommitted()

    def profiles(self) -> dict[str, ProfileText]:
        """Every kept profile by sha256 (a few per archive: one per distinct text used)."""
        rows = self.conn.execute("SELECT sha256, name, toml FROM profile").fetchall()
        return {row[0]: ProfileText(row[1], row[2], row[0]) for row in rows}

    def set_profile(self, capture_id: int, profile: ProfileText, parsed_with: str) -> None:
        """Record that a capture is now read with ``profile`` (kept here if it is not yet): the
        one `archiver reparse` was given, or the file an older capture named, read once."""
        self.put_profile(profile)
        self.conn.execute(
            "UPDATE capture SET profile_sha256 = ?, parsed_with = ? WHERE id = ?",
            (profile.sha256, parsed_with, capture_id),
        )
