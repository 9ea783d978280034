"""Web archive files through the existing commands: `archiver import FILE.warc.gz|FILE.wacz` and
`archiver export --format warc --output FILE.warc.gz`. The import and export commands hand web
archives over here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer

from archiver.cli._common import err, open_store, out, read_profile, shown
from archiver.errors import InputError, UsageError
from archiver.imports import ImportOptions, store_captures
from archiver.lock import run_lock
from archiver.store import Store
from archiver.warc import Tally, index_records, is_web_archive, read_records, web_archive_request
from archiver.warcexport import write_warc

UrlPrefixOption = Annotated[
    str | None,
    typer.Option(
        "--url-prefix",
        help="WARC/WACZ only: import only the records whose URL starts with this (a site's listing "
        "pages). Default: every HTML page in which a card list is found.",
    ),
]


def web_archives_in(paths: Sequence[Path], url_prefix: str | None) -> bool:
    """Whether the import is of web archive files (all of them, or none: never mixed)."""
    archives = [path for path in paths if is_web_archive(path)]
    if archives and len(archives) != len(paths):
        raise UsageError("PATH: import WARC/WACZ files on their own, not with other captures")
    if url_prefix is not None and not archives:
        raise UsageError("--url-prefix: applies to WARC and WACZ files only")
    return bool(archives)


def import_archives(
    paths: Sequence[Path],
    db: Path,
    wait: float,
    profile: Path | None,
    url_prefix: str | None,
    quiet: bool,
    not_for_archives: Mapping[str, str | None],
) -> None:
    """Import the listing pages of WARC/WACZ files, oldest first, and say what was skipped.

    ``not_for_archives``: the import options that do not apply (each record carries its URL, time
    and charset); one given is a usage error naming it.
    """
    for name, value in not_for_archives.items():
        if value:
            raise UsageError(f"{name}: not used with WARC/WACZ files (each record carries its own)")
    for path in paths:
        if not path.is_file():
            raise InputError(f"{path}: no such file")
    chosen, chosen_text = read_profile(profile)
    options = ImportOptions(profile=chosen, profile_text=chosen_text)
    tally = Tally()
    kept = index_records(paths, url_prefix, tally)
    request = web_archive_request(paths, url_prefix, options)
    imported = carried = cards = new_entries = new_versions = 0
    with ExitStack() as held:

        def open_locked() -> Store:
            store = held.enter_context(Store(db))
            held.enter_context(run_lock(db, wait))
            return store

        for result in store_captures(open_locked, read_records(kept, options, tally), request, len(kept)):
            if result.already_stored:
                carried += 1
                continue
            imported += 1
            cards, new_entries = cards + result.cards, new_entries + result.new_entries
            new_versions += result.new_versions
    if not quiet:
        out.print(
            f"read {tally.read} records from {', '.join(shown(str(p)) for p in paths)}: imported "
            f"{imported} listing pages into {db} ({cards} cards seen, {new_entries} new entries, "
            f"{new_versions} new versions)"
            + (f"; {carried} stored by an interrupted import were not counted again" if carried else ""),
            markup=False,
        )
        skipped = sum(tally.skipped.values())
        if skipped:
            reasons = ", ".join(f"{count} {reason}" for reason, count in tally.skipped.most_common())
            err.print(f"skipped {skipped} records: {reasons}", markup=False)


ExportSiteOption = Annotated[
    str | None, typer.Option("--site", help="--format warc only: the captures of this site alone.")
]


def export_warc(db: Path, output: Path | None, site: str | None, *, as_warc: bool) -> None:
    """`archiver export --format warc`: every raw capture as WARC 1.1 records, to ``output``
    (``as_warc`` False: --site was given to another format)."""
    if not as_warc:
        raise UsageError("--site: applies to --format warc only")
    if output is None:
        raise UsageError("--output: give the WARC file to write (FILE.warc.gz)")
    with open_store(db, read_only=True) as store:
        try:
            target = output.open("wb")
        except OSError as exc:
            raise InputError(f"{output}: cannot write: {exc.strerror}") from None
        with target:
            written = write_warc(store, target, site)
    out.print(
        f"wrote {written.records} records to {output} ({written.revisits} revisits of identical bytes)",
        markup=False,
    )
