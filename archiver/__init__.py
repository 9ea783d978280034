"""archiver: a versioned, deduplicated SQLite archive of blog listing pages.

The stages, one module each: :mod:`archiver.fetcher` (HTTP), :mod:`archiver.parse` (cards from
bytes), :mod:`archiver.identity` (which entry, what changed), :mod:`archiver.plan` (what a
capture's cards do, decided before anything is written), :mod:`archiver.store` (SQLite);
:mod:`archiver.ingest` runs a capture through them; :mod:`archiver.crawl`,
:mod:`archiver.imports` and :mod:`archiver.reparse` bring the captures, and :mod:`archiver.cli`
is the command line.
"""

from __future__ import annotations

from archiver._version import __version__

__all__ = ["__version__"]
