"""The `archiver` command: a thin typer layer over the library API.

Every command turns an :class:`ArchiverError` into one line on stderr and its exit status, so a
user never sees a traceback for bad input.
"""

from __future__ import annotations

import csv
import functools
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from archiver import __version__
from archiver.errors import ArchiverError, InputError
from archiver.parse import DEFAULT_CHROME_LINES, Profile, capture_kind, load_profile, parse_capture
from archiver.pipeline import CaptureResult, ImportOptions, collect_files, import_files
from archiver.store import Store

app = typer.Typer(
    help="Archive blog listing pages into one versioned, deduplicated SQLite file.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err = Console(stderr=True, highlight=False)
out = Console(highlight=False, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")

DbOption = Annotated[
    Path,
    typer.Option(
        "--db",
        envvar="ARCHIVER_DB",
        help="Archive file (created when missing). Default: $ARCHIVER_DB, else archive.db here.",
        dir_okay=False,
    ),
]
ProfileOption = Annotated[
    Path | None,
    typer.Option(
        "--profile",
        help="Site profile (TOML with CSS selectors); without it cards are found automatically.",
        dir_okay=False,
    ),
]
BaseUrlOption = Annotated[
    str | None,
    typer.Option("--base-url", help="URL the page was published at; relative links resolve against it."),
]


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Print an ArchiverError as one line naming the file/URL, and exit with its status."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except ArchiverError as exc:
            err.print(f"archiver: error: {exc}", markup=False)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("archiver: interrupted; every finished capture is saved", markup=False)
            raise typer.Exit(130) from None

    return wrapper


@contextmanager
def open_store(db: Path, *, create: bool = True) -> Iterator[Store]:
    store = Store(db, create=create)
    try:
        yield store
    finally:
        store.close()


def _profile(path: Path | None) -> Profile | None:
    return load_profile(path) if path else None


def _version(value: bool) -> None:
    if value:
        out.print(f"archiver {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Archive blog listing pages into one versioned, deduplicated SQLite file.

    Exit statuses: 0 done; 1 failed (bad input, network, server, storage); 2 usage;
    3 layout broken (a page gave no cards where it used to); 75 another run holds the lock.
    """


@app.command("import")
@reports_errors
def import_(
    paths: Annotated[list[Path], typer.Argument(help="Capture files (.txt, .html, .htm) or directories.")],
    db: DbOption = Path("archive.db"),
    profile: ProfileOption = None,
    base_url: BaseUrlOption = None,
    captured_at: Annotated[
        str | None,
        typer.Option("--captured-at", help="When the captures were taken (ISO 8601). Default: now."),
    ] = None,
    encoding: Annotated[
        str | None, typer.Option("--encoding", help="Character encoding of the files, e.g. gb18030.")
    ] = None,
    site: Annotated[
        str | None,
        typer.Option("--site", help="Identity scope. Default: the --base-url host, else 'local'."),
    ] = None,
    chrome_line: Annotated[
        list[str] | None,
        typer.Option("--chrome-line", help="Extra site-chrome line to skip in text captures (repeatable)."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")] = False,
) -> None:
    """Import saved captures: text snapshots and HTML listing pages.

    A directory imports its capture files in name order. Each file is one transaction; the
    import stops at the first bad file, keeping every file imported before it.

    Example: archiver import fixtures/seeds/ --db archive.db
    """
    options = ImportOptions(
        profile=_profile(profile),
        profile_name=str(profile) if profile else None,
        base_url=base_url,
        site=site,
        captured_at=captured_at,
        encoding=encoding,
        chrome_lines=DEFAULT_CHROME_LINES | frozenset(chrome_line or ()),
    )
    files, ignored = collect_files(paths, base_url)
    for path in ignored:
        if not quiet:
            err.print(f"skipped {path}: not a capture file (.txt, .html, .htm)", markup=False)
    if not files:
        raise InputError(f"{', '.join(map(str, paths))}: no capture files (.txt, .html, .htm) found")
    totals = CaptureResult(source="", capture_id=0)
    show_bar = not quiet and err.is_terminal and len(files) > 1
    with open_store(db) as store, Progress(console=err, disable=not show_bar) as progress:
        task = progress.add_task("importing", total=len(files))
        for result in import_files(store, files, options):
            progress.advance(task)
            totals.capture_id += 1
            totals.cards += result.cards
            totals.new_entries += result.new_entries
            totals.new_versions += result.new_versions
            totals.enriched += result.enriched
            for entry_id in result.possible_duplicates:
                err.print(
                    f"{result.source}: entry {entry_id} may duplicate another entry "
                    "(its text matched several); kept apart, see table possible_duplicate",
                    markup=False,
                )
    if not quiet:
        out.print(
            f"imported {totals.capture_id} captures into {db}: {totals.cards} cards seen, "
            f"{totals.new_entries} new entries, {totals.new_versions} new versions, "
            f"{totals.enriched} enriched",
            markup=False,
        )




@app.command()
@reports_errors
def parse(
    file: Annotated[Path, typer.Argument(help="A capture file (.html, .htm or .txt).", dir_okay=False)],
    profile: ProfileOption = None,
    base_url: BaseUrlOption = None,
    format: Annotated[str, typer.Option("--format", help="jsonl (one object per card) or table.")] = "table",
    encoding: Annotated[str | None, typer.Option("--encoding", help="Character encoding of the file.")] = None,
) -> None:
    """Print the cards a capture gives, in page order, without touching any database.

    Example: archiver parse fixtures/site/index.html --base-url http://127.0.0.1:8000/ --format jsonl
    """
    if format not in ("jsonl", "table"):
        raise InputError(f"--format {format!r}: choose jsonl or table")
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
        data, kind=kind, source=str(file), base_url=base_url, profile=_profile(profile), encoding=encoding
    )
    if format == "jsonl":
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
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        return
    table = Table("#", "title", "date", "category", "url", "excerpt")
    for number, card in enumerate(page.cards, 1):
        table.add_row(
            str(number),
            card.title or "",
            card.date or "",
            card.category or "",
            card.url or "",
            _clip(card.excerpt, 60),
        )
    out.print(table)
    out.print(f"{len(page.cards)} cards" + (f"; next page: {page.next_url}" if page.next_url else ""))


def _clip(text: str | None, width: int) -> str:
    if not text:
        return ""
    return text if len(text) <= width else text[: width - 1] + "…"


@app.command()
@reports_errors
def stats(
    db: DbOption = Path("archive.db"),
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object instead of text.")] = False,
) -> None:
    """Counts of entries, versions, captures, cards seen and stored blobs."""
    with open_store(db, create=False) as store:
        figures = store.stats()
    if as_json:
        sys.stdout.write(json.dumps(figures) + "\n")
        return
    for key, value in figures.items():
        out.print(f"{key.replace('_', ' '):>20}: {value}", markup=False)


@app.command()
@reports_errors
def history(
    entry: Annotated[str, typer.Argument(help="Entry id or permalink.")],
    db: DbOption = Path("archive.db"),
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per version.")] = False,
) -> None:
    """Every version of one entry: when first and last seen, and which fields changed.

    Example: archiver history https://blog.example/posts/hello/
    """
    with open_store(db, create=False) as store:
        versions = store.history(store.resolve_entry(entry))
    if as_json:
        for row in versions:
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    for row in versions:
        changed = ", ".join(json.loads(row["changed"])) if row["changed"] else "first version"
        current = " (current)" if row["is_current"] else ""
        out.print(f"version {row['version']}{current}: {changed}", markup=False)
        out.print(
            f"  first seen {row['first_seen_at']} in {row['first_seen_in']}\n"
            f"  last seen  {row['last_seen_at']} in {row['last_seen_in']} ({row['seen_count']}x)",
            markup=False,
        )
        for name in ("title", "url", "category", "date", "excerpt"):
            if row[name] is not None:
                out.print(f"  {name:>8}: {_clip(row[name], 100)}", markup=False)


@app.command()
@reports_errors
def search(
    text: Annotated[str, typer.Argument(help="Text to find in current titles and excerpts (any substring).")],
    db: DbOption = Path("archive.db"),
    limit: Annotated[int, typer.Option("--limit", min=1, help="Most results to show.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per result.")] = False,
) -> None:
    """Full-text search over current entries; Chinese substrings work.

    Example: archiver search 注意力
    """
    with open_store(db, create=False) as store:
        rows = store.search(text, limit)
    if as_json:
        for row in rows:
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    for row in rows:
        label = row["title"] or _clip(row["excerpt"], 50)
        out.print(f"{row['entry_id']:>6}  {row['date'] or '':10}  {label}", markup=False)
        if row["url"]:
            out.print(f"        {row['url']}", markup=False)
    if not rows:
        err.print(f"no current entry contains {text!r}", markup=False)


@app.command()
@reports_errors
def export(
    format: Annotated[str, typer.Option("--format", help="jsonl or csv.")] = "jsonl",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write. Default: standard output.")
    ] = None,
    db: DbOption = Path("archive.db"),
) -> None:
    """Write every current entry as JSON lines or CSV.

    Example: archiver export --format csv --output entries.csv
    """
    if format not in ("jsonl", "csv"):
        raise InputError(f"--format {format!r}: choose jsonl or csv")
    with open_store(db, create=False) as store:
        rows = store.current_entries()
        try:
            target = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
        except OSError as exc:
            raise InputError(f"{output}: cannot write: {exc.strerror}") from None
        try:
            _write_rows(rows, format, target)
        finally:
            if output:
                target.close()


def _write_rows(rows: Iterator[dict[str, Any]], format: str, target: Any) -> None:
    writer: csv.DictWriter[str] | None = None
    for row in rows:
        if format == "jsonl":
            target.write(json.dumps(row, ensure_ascii=False) + "\n")
            continue
        if writer is None:
            writer = csv.DictWriter(target, fieldnames=list(row))
            writer.writeheader()
        writer.writerow(row)
