"""Commands that import captures and read the archive: import, parse, stats, history, search, export."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from archiver.cli._common import (
    CHANGES_NOTHING,
    DEFAULT_DB,
    BaseUrlOption,
    DbOption,
    ExistingDbOption,
    ProfileOption,
    QuietOption,
    WaitOption,
    cards_table,
    cell,
    check_base_url,
    clip,
    err,
    json_line,
    open_store,
    out,
    read_profile,
    reports_errors,
    reports_errors_saying,
    resolve_entry,
    shown,
)
from archiver.cli._wording import worded
from archiver.cli.warc import ExportSiteOption, UrlPrefixOption, export_warc, import_archives, web_archives_in
from archiver.errors import InputError, UsageError
from archiver.imports import ImportFile, ImportOptions, collect_files, import_files
from archiver.ingest import CaptureResult
from archiver.lock import run_lock
from archiver.parse import DEFAULT_CHROME_LINES, capture_kind, parse_capture
from archiver.parse.decode import known_encoding
from archiver.store import Store
from archiver.times import iso_timestamp

#: File names listed when a directory import skips files that are not captures.
_SKIPPED_NAMES_SHOWN = 3


class ParseFormat(StrEnum):
    jsonl = "jsonl"
    table = "table"


class ExportFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"
    warc = "warc"


def register(app: typer.Typer) -> None:
    app.command("import")(import_)
    for function in (parse, stats, history, search, export):
        app.command()(function)


@reports_errors
def import_(
    paths: Annotated[
        list[Path],
        typer.Argument(
            metavar="PATH", help="Capture files (.txt, .html, .htm), directories, or WARC/WACZ files."
        ),
    ],
    db: DbOption = DEFAULT_DB,
    wait: WaitOption = 0.0,
    profile: ProfileOption = None,
    base_url: BaseUrlOption = None,
    captured_at: Annotated[
        str | None,
        typer.Option("--captured-at", help="When the captures were taken (ISO 8601). Default: now."),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option("--encoding", help="Character encoding of the files, e.g. gb18030."),
    ] = None,
    site: Annotated[
        str | None,
        typer.Option(
            "--site",
            help="Identity scope. Default: the --base-url host (host:port for a port that is not "
            "the scheme's default), else 'local'.",
        ),
    ] = None,
    chrome_line: Annotated[
        list[str] | None,
        typer.Option(
            "--chrome-line",
            metavar="LINE",
            help="Extra site-chrome line to skip in text captures (repeatable).",
        ),
    ] = None,
    url_prefix: UrlPrefixOption = None,
    quiet: QuietOption = False,
) -> None:
    """Import saved captures: text snapshots, HTML listing pages, web archives (WARC, WACZ).

    A directory imports its capture files in name order. Each file is one transaction; the
    import stops at the first bad file, keeping every file imported before it. The archive is
    locked like a crawl's (a second run exits 75) once the first file has parsed. A WARC or WACZ
    file imports the listing pages it holds (see --url-prefix), oldest first, at their WARC-Date.

    Example: archiver import fixtures/seeds/ --db archive.db
    """
    from rich.progress import Progress  # by the commands that show progress, not at every start

    if web_archives_in(paths, url_prefix):
        unused = {"--base-url": base_url, "--captured-at": captured_at, "--site": site}
        return import_archives(paths, db, wait, profile, url_prefix, quiet, unused | {"--encoding": encoding})
    base_url = check_base_url(base_url)
    _check_encoding(encoding)
    _check_captured_at(captured_at)
    chosen, chosen_text = read_profile(profile)
    options = ImportOptions(
        profile=chosen,
        profile_text=chosen_text,
        base_url=base_url,
        site=site,
        captured_at=captured_at,
        encoding=encoding,
        chrome_lines=DEFAULT_CHROME_LINES | frozenset(chrome_line or ()),
    )
    files, ignored = collect_files(paths, base_url)
    if ignored and not quiet:
        err.print(_skipped_line(ignored), markup=False)
    if not files:
        raise InputError(f"{', '.join(map(str, paths))}: no capture files (.txt, .html, .htm) found")
    if base_url is None and not quiet:
        _note_without_base_url(files, site)
    totals = _ImportTotals()
    show_bar = not quiet and err.is_terminal and len(files) > 1
    with ExitStack() as held, Progress(console=err, disable=not show_bar) as progress:

        def open_locked() -> Store:
            """Open the archive, then lock it: called once the first file has parsed.

            Opening first means a file that is not an archive is refused without leaving a lock
            file beside it. Both are held until the import ends or fails.
            """
            store = held.enter_context(Store(db))
            held.enter_context(run_lock(db, wait))
            return store

        task = progress.add_task("importing", total=len(files))
        for result in import_files(open_locked, files, options):
            progress.advance(task)
            totals.add(result)
            for entry_id in result.possible_duplicates:
                err.print(
                    f"{shown(result.source)}: entry {entry_id} may duplicate another entry "
                    "(its text matched several); kept apart, see table possible_duplicate",
                    markup=False,
                )
    if not quiet:
        out.print(totals.line(db), markup=False)


@dataclass(slots=True)
class _ImportTotals:
    """What an import did, for its one summary line."""

    captures: int = 0
    #: files an interrupted run of the same import had stored: not counted again
    carried_over: int = 0
    sums: CaptureResult = field(default_factory=lambda: CaptureResult(source="", capture_id=0))

    def add(self, result: CaptureResult) -> None:
        if result.already_stored:
            self.carried_over += 1
            return
        self.captures += 1
        self.sums.cards += result.cards
        self.sums.new_entries += result.new_entries
        self.sums.new_versions += result.new_versions
        self.sums.enriched += result.enriched

    def line(self, db: Path) -> str:
        sums = self.sums
        said = (
            f"imported {self.captures} capture{'' if self.captures == 1 else 's'} into {db}: "
            f"{sums.cards} cards seen, {sums.new_entries} new entries, {sums.new_versions} new "
            f"versions, {sums.enriched} enriched"
        )
        if self.carried_over:
            said += (
                f" (carried on an interrupted import: {self.carried_over} files it stored were not "
                "counted again)"
            )
        return said


def _note_without_base_url(files: Sequence[ImportFile], site: str | None) -> None:
    if any(item.kind == "html" for item in files):
        err.print(
            "note: no --base-url: relative links on the HTML pages are kept as paths and their "
            f"site is {site or 'local'!r}; pass the URL the pages were published at to keep "
            "absolute permalinks",
            markup=False,
        )


def _check_captured_at(captured_at: str | None) -> None:
    if captured_at is not None:
        try:
            iso_timestamp(captured_at)
        except InputError as exc:
            raise UsageError(worded(exc)) from None


@reports_errors_saying(CHANGES_NOTHING)
def parse(
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="A capture file (.html, .htm or .txt).", dir_okay=False),
    ],
    profile: ProfileOption = None,
    base_url: BaseUrlOption = None,
    format: Annotated[
        ParseFormat, typer.Option("--format", help="jsonl (one object per card) or table.")
    ] = ParseFormat.table,
    encoding: Annotated[
        str | None, typer.Option("--encoding", help="Character encoding of the file.")
    ] = None,
) -> None:
    """Print the cards a capture gives, in page order, without touching any database.

    Example: archiver parse fixtures/site/index.html --base-url http://blog.fixture.test/ --format jsonl
    """
    base_url = check_base_url(base_url)
    _check_encoding(encoding)
    kind = capture_kind(file)
    if kind is None:
        raise InputError(f"{file}: not a capture (expected .txt, .html or .htm)")
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{file}: no such file") from None
    except OSError as exc:
        raise InputError(f"{file}: cannot read: {exc.strerror}") from None
    page = parse_capture(
        data,
        kind=kind,
        source=str(file),
        base_url=base_url,
        profile=read_profile(profile)[0],
        encoding=encoding,
    )
    if format is ParseFormat.jsonl:
        for card in page.cards:
            record = {
                "title": card.title,
                "url": card.url,
                "category": card.category,
                "categories": list(card.categories),
                "tags": list(card.tags),
                "date": card.date,
                "excerpt": card.excerpt,
            }
            sys.stdout.write(json_line(record))
        return
    out.print(cards_table(page.cards, excerpt_width=60))
    next_page = f"; next page: {shown(page.next_url)}" if page.next_url else ""
    out.print(f"{len(page.cards)} cards{next_page}", markup=False)


@reports_errors_saying(CHANGES_NOTHING)
def stats(
    db: ExistingDbOption = DEFAULT_DB,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object instead of text.")] = False,
) -> None:
    """Counts of entries, versions, captures, cards seen and stored blobs, in all and per site.

    Identity is per site (the page's host, with its port when not the default; or --site; text
    captures default to 'local'), so the same posts archived from text snapshots and from the
    live site count once per site.
    """
    with open_store(db, read_only=True) as store:
        figures: dict[str, Any] = store.stats()
        sites = store.site_stats()
    if as_json:
        sys.stdout.write(json_line({**figures, "per_site": sites}))
        return
    for key, value in figures.items():
        out.print(f"{key.replace('_', ' '):>20}: {value}", markup=False)
    if sites:
        out.print()
        out.print(_sites_table(sites))


@reports_errors_saying(CHANGES_NOTHING)
def history(
    entry: Annotated[str, typer.Argument(metavar="ENTRY", help="Entry id or permalink.")],
    db: ExistingDbOption = DEFAULT_DB,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per version.")] = False,
) -> None:
    """Every version of one entry: when first and last seen, and which fields changed.

    Example: archiver history http://blog.fixture.test/posts/flashattention-explained/
    """
    with open_store(db, read_only=True) as store:
        versions = store.history(resolve_entry(store, entry))
    if as_json:
        for row in versions:
            sys.stdout.write(json_line(row))
        return
    for row in versions:
        current = " (current)" if row["is_current"] else ""
        out.print(f"version {row['version']}{current}: {_changed(row['changed'])}", markup=False)
        seen = (
            f"  first seen {row['first_seen_at']} in {row['first_seen_in']}",
            f"  last seen  {row['last_seen_at']} in {row['last_seen_in']} ({row['seen_count']}x)",
        )
        for line in seen:
            out.print(shown(line), markup=False)
        for name in ("title", "url", "categories", "tags", "date", "date_text", "excerpt"):
            value = ", ".join(row[name]) if isinstance(row[name], list) else row[name]
            if value:
                out.print(f"  {name:>10}: {clip(value, 100)}", markup=False)


@reports_errors_saying(CHANGES_NOTHING)
def search(
    text: Annotated[
        str,
        typer.Argument(metavar="TEXT", help="Text to find in current titles and excerpts (any substring)."),
    ],
    db: ExistingDbOption = DEFAULT_DB,
    limit: Annotated[
        # the largest integer SQLite takes: a larger --limit could not be passed to the query
        int, typer.Option("--limit", min=1, max=2**63 - 1, help="Most results to show.")
    ] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per result.")] = False,
) -> None:
    """Full-text search over current entries; Chinese substrings work.

    Example: archiver search 注意力
    """
    if not text.strip():
        raise UsageError("give some text to search for")
    with open_store(db, read_only=True) as store:
        rows = store.search(text, limit)
    if as_json:
        for row in rows:
            sys.stdout.write(json_line(row))
        return
    for row in rows:
        label = shown(row["title"]) if row["title"] else clip(row["excerpt"], 50)
        out.print(
            f"{row['entry_id']:>6}  {shown(row['date'] or row['date_text'] or ''):10}  {label}", markup=False
        )
        if row["url"]:
            out.print(f"        {shown(row['url'])}", markup=False)
    if not rows:
        err.print(f"no current entry contains {shown(repr(text))}", markup=False)


@reports_errors_saying(CHANGES_NOTHING)
def export(
    format: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            help="jsonl (exact text), csv (cells beginning with = + - @, a tab or a carriage return get "
            "a leading ': never run as a formula), or warc (raw captures as WARC 1.1; needs --output).",
        ),
    ] = ExportFormat.jsonl,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File to write (never the archive). Default: standard output."),
    ] = None,
    site: ExportSiteOption = None,
    db: ExistingDbOption = DEFAULT_DB,
) -> None:
    """Write every current entry as JSON lines or CSV, or every raw capture as WARC records.

    JSON lines hold the text exactly. In CSV, a cell that begins with =, +, -, @, a tab or a
    carriage return gets a leading single quote (') so that a spreadsheet opening the file shows
    it as text and never runs it as a formula (CSV injection); strip that quote to get the text.

    Example: archiver export --format csv --output entries.csv
    """
    if output is not None:
        _check_not_the_archive(output, db)
    if format is ExportFormat.warc or site is not None:
        return export_warc(db, output, site, as_warc=format is ExportFormat.warc)
    with open_store(db, read_only=True) as store:
        rows = store.current_entries(lists=format is ExportFormat.jsonl)
        try:
            target = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
        except OSError as exc:
            raise InputError(f"{output}: cannot write: {exc.strerror}") from None
        try:
            _write_rows(rows, format, target)
        finally:
            if output:
                target.close()


def _sites_table(sites: Sequence[dict[str, Any]]) -> Table:
    """The per-site figures of `stats`, one row per site."""
    figures = ("entries", "versions", "captures", "cards_seen")
    table = Table("site", box=None, pad_edge=False)
    for name in figures:
        table.add_column(name.replace("_", " "), justify="right")
    for row in sites:
        table.add_row(cell(row["site"]), *(str(row[name]) for name in figures))
    return table


def _check_encoding(encoding: str | None) -> None:
    """An unknown ``--encoding`` is a usage error (exit 2), found before any file is read."""
    if encoding:
        try:
            known_encoding(encoding)
        except InputError as exc:
            raise UsageError(f"--encoding: {exc}") from None


def _skipped_line(ignored: Sequence[Path]) -> str:
    """One line for the files of a directory that are not captures, naming the first few."""
    names = ", ".join(shown(str(path)) for path in ignored[:_SKIPPED_NAMES_SHOWN])
    if len(ignored) > _SKIPPED_NAMES_SHOWN:
        names += f" and {len(ignored) - _SKIPPED_NAMES_SHOWN} more"
    what = "file that is not a capture" if len(ignored) == 1 else "files that are not captures"
    return f"skipped {len(ignored)} {what} (.txt, .html, .htm): {names}"


def _write_rows(rows: Iterator[dict[str, Any]], format: ExportFormat, target: Any) -> None:
    writer: csv.DictWriter[str] | None = None
    for row in rows:
        if format is ExportFormat.jsonl:
            target.write(json_line(row))
            continue
        if writer is None:
            writer = csv.DictWriter(target, fieldnames=list(row))
            writer.writeheader()
        writer.writerow({name: _spreadsheet_text(value) for name, value in row.items()})


#: How a CSV cell that a spreadsheet would run as a formula begins (OWASP, "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _spreadsheet_text(value: object) -> object:
    """A CSV cell that a spreadsheet shows as text: a leading ' before a formula's first character."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _check_not_the_archive(output: Path, db: Path) -> None:
    """``--output`` must not be the archive or its journal by any name: opening it would empty it.

    Compared by file identity (device and inode), so a symlink, a hard link or another spelling
    of the path is caught; a file that does not exist yet cannot be the archive.
    """
    try:
        target = output.stat()
    except OSError:
        return
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            archive = Path(f"{db}{suffix}").stat()
        except OSError:
            continue
        if (target.st_dev, target.st_ino) == (archive.st_dev, archive.st_ino):
            which = f" (its {suffix[1:]} file)" if suffix else ""
            raise UsageError(
                f"--output {output}: is the archive {db} itself{which}; writing there would "
                "destroy it: give another file"
            )


def _changed(stored: str | None) -> str:
    """The fields a version changed, from its JSON list; a damaged value is shown as it is."""
    if not stored:
        return "first version"
    try:
        names = json.loads(stored)
    except ValueError:
        names = None
    if isinstance(names, list) and all(isinstance(name, str) for name in names):
        return shown(", ".join(names))
    return f"(damaged list of changes: {shown(stored)})"
