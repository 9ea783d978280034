"""What every command shares: the consoles, the common options and the error boundary."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar
from urllib.parse import urlsplit

import typer
from rich.console import Console
from typer.exceptions import TyperException

from archiver.errors import ArchiverError, UsageError
from archiver.parse import Profile, load_profile
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
        except (typer.Exit, typer.Abort, TyperException):  # typer's own exits and usage errors
            raise
        except BrokenPipeError:  # `archiver export | head`: the reader left, nothing is wrong
            raise typer.Exit(0) from None
        except Exception as exc:
            if os.environ.get("ARCHIVER_DEBUG"):
                raise
            err.print(
                f"archiver: internal error: {type(exc).__name__}: {exc}; every finished capture "
                "is saved (run again with ARCHIVER_DEBUG=1 for details and report it)",
                markup=False,
            )
            raise typer.Exit(1) from None

    return wrapper


@contextmanager
def open_store(db: Path, *, create: bool = True) -> Iterator[Store]:
    store = Store(db, create=create)
    try:
        yield store
    finally:
        store.close()


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


def read_profile(path: Path | None) -> Profile | None:
    return load_profile(path) if path else None


def clip(text: str | None, width: int) -> str:
    """One-line preview of a long text for tables."""
    if not text:
        return ""
    return text if len(text) <= width else text[: width - 1] + "…"
