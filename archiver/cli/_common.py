"""What every command shares: the consoles, the common options, the error boundary and safe output."""

from __future__ import annotations

import functools
import json
import os
import re
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar
from urllib.parse import urlsplit

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from typer.exceptions import TyperException

from archiver.cli._wording import worded
from archiver.errors import ArchiverError, InputError, Terminated, UsageError
from archiver.identity import canonical_url
from archiver.models import Card, ProfileText
from archiver.parse import Profile, profile_from_text, read_profile_text
from archiver.store import Store

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_DB = Path("archive.db")

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
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")]
WaitOption = Annotated[
    float,
    typer.Option(
        "--wait",
        help="Seconds to wait for another archiver run on this archive to finish (as flock -w); "
        "default: exit 75 at once.",
        min=0,
        max=86_400,
    ),
]
#: --db for the commands that only use an archive (stats, history, search, export, reparse).
ExistingDbOption = Annotated[
    Path,
    typer.Option(
        "--db",
        envvar="ARCHIVER_DB",
        help="Archive file; it must exist (never created here). Default: $ARCHIVER_DB, else archive.db here.",
        dir_okay=False,
    ),
]


#: Exit statuses of a run stopped from outside: 128 + the signal's number, as a shell reports it.
EXIT_INTERRUPTED = 128 + signal.SIGINT
EXIT_TERMINATED = 128 + signal.SIGTERM


#: What a command that stops early (Ctrl-C, SIGTERM, a failure) leaves behind, for its message.
SAVES_EACH_CAPTURE = "every finished capture is saved"
ALL_OR_NOTHING = "nothing was changed"
CHANGES_NOTHING = ""  # reading commands, parse and probe: nothing to say


def reports_errors(command: Callable[P, R]) -> Callable[P, R]:
    """The error boundary of a command that commits capture by capture (import, crawl, backfill)."""
    return _boundary(command, SAVES_EACH_CAPTURE)


def reports_errors_saying(left: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """The error boundary of a command that leaves ``left`` behind when it stops early."""

    def decorate(command: Callable[P, R]) -> Callable[P, R]:
        return _boundary(command, left)

    return decorate


def _boundary(command: Callable[P, R], left: str) -> Callable[P, R]:
    """Print an ArchiverError as one line naming the file/URL, and exit with its status.

    Ctrl-C exits 130 and SIGTERM (a service manager, `kill`, a cron job cut off) 143, each with
    one line saying what the run left behind, so a log shows why it stopped.
    """
    after = f"; {left}" if left else ""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            with _sigterm_as_interrupt():
                return command(*args, **kwargs)
        except ArchiverError as exc:
            err.print(f"archiver: error: {shown(worded(exc))}", markup=False)
            raise typer.Exit(exc.exit_code) from None
        except Terminated:
            err.print(f"archiver: terminated (SIGTERM){after}", markup=False)
            raise typer.Exit(EXIT_TERMINATED) from None
        except KeyboardInterrupt:
            err.print(f"archiver: interrupted{after}", markup=False)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except (typer.Exit, typer.Abort, TyperException):  # typer's own exits and usage errors
            raise
        except BrokenPipeError:  # `archiver export | head`: the reader left, nothing is wrong
            raise typer.Exit(0) from None
        except Exception as exc:
            if os.environ.get("ARCHIVER_DEBUG"):
                raise
            err.print(
                f"archiver: internal error: {type(exc).__name__}: {shown(str(exc))}{after} "
                "(run again with ARCHIVER_DEBUG=1 for details and report it)",
                markup=False,
            )
            raise typer.Exit(1) from None

    return wrapper


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """While the block runs, SIGTERM raises :class:`Terminated` in it, as Ctrl-C raises
    KeyboardInterrupt: the open transaction rolls back and the run says why it stopped.

    A second SIGTERM ends the process at once (SQLite keeps the file whole even then). A forked
    worker process that inherited the handler just dies, as SIGTERM asks.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread
        return
    owner = os.getpid()

    def terminate(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if os.getpid() != owner:
            os.kill(os.getpid(), signal.SIGTERM)
            return
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def open_store(db: Path, *, create: bool = True, read_only: bool = False) -> Iterator[Store]:
    """The archive for one command (the store words SQLite's failures itself)."""
    store = Store(db, create=create, read_only=read_only)
    try:
        yield store
        if not read_only:  # a run that ends well leaves the search index up to date
            store.index_pending()
    finally:
        store.close()


#: Characters that must not reach a terminal raw: C0 and C1 controls (ESC starts the sequences
#: that retitle, recolour or clear a terminal; BEL; CSI), DEL, and the Unicode line separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def shown(text: str) -> str:
    """``text`` (a title, URL or path from a page or the archive) safe to print on a terminal.

    Each control character appears as its Python escape (ESC as ``\\x1b``), so nothing in a
    page can move the cursor, retitle the window or hide text, and the reader still sees it.
    """
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)


def json_line(record: object) -> str:
    """One JSON object on one line: exact data, and safe on a terminal.

    ``json.dumps`` escapes the C0 controls only; DEL, C1 controls (U+009B is CSI on some
    terminals) and the line separators are escaped here too, as ``\\u`` escapes that every
    JSON reader turns back into the same characters.
    """
    text = json.dumps(record, ensure_ascii=False)
    return _CONTROL.sub(lambda match: f"\\u{ord(match.group()):04x}", text) + "\n"


def cell(text: str | None, width: int | None = None) -> Text:
    """A table cell of data: shown safely and never read as rich markup (``[red]`` is text)."""
    return Text(clip(text, width) if width else shown(text or ""))


def check_base_url(value: str | None) -> str | None:
    """``--base-url`` as given, or a usage error (exit 2) when it is not an absolute http(s) URL."""
    if value is None:
        return None
    url = value.strip()
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError when the port is not a number
        absolute = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:  # a port that is not a number, an unclosed [IPv6 address
        absolute = False
    if not absolute:
        raise UsageError(f"--base-url {value!r}: not an absolute http(s) URL (e.g. https://blog.example/)")
    return url


def resolve_entry(store: Store, ref: str) -> int:
    """An entry id from a number or a permalink (any spelling that canonicalises the same)."""
    if ref.isascii() and ref.isdigit():  # not "²" or "١": int() refuses or misreads them
        found = store.find_entry(entry_id=int(ref))
    else:
        try:
            key = canonical_url(ref)
        except ValueError:  # http://[::1, port 99999: no entry has such a permalink
            key = None
        found = store.find_entry(url_key=key) if key is not None else None
    if found is None:
        shown = ref.encode("utf-8", "backslashreplace").decode("utf-8")
        raise InputError(f"no entry {shown!r} in {store.path} (give an entry id or a permalink)")
    return found


def read_profile(path: Path | None) -> tuple[Profile | None, ProfileText | None]:
    """``--profile FILE`` read and checked: the profile, and its text as the archive keeps it."""
    if path is None:
        return None, None
    text = read_profile_text(path)
    return profile_from_text(text), text


def clip(text: str | None, width: int) -> str:
    """One-line preview of a long text, safe to print (see :func:`shown`)."""
    if not text:
        return ""
    return shown(text if len(text) <= width else text[: width - 1] + "…")


def cards_table(cards: Sequence[Card], excerpt_width: int, title: str | None = None) -> Table:
    """The cards of a page as a table (parse, probe), every cell shown safely."""
    table = Table("#", "title", "date", "category", "url", "excerpt", title=title)
    for number, card in enumerate(cards, 1):
        table.add_row(
            str(number),
            cell(card.title),
            cell(card.date),
            cell(card.category),
            cell(card.url),
            cell(card.excerpt, excerpt_width),
        )
    return table
