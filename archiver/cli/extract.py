"""Commands about extraction itself: probe a page, and re-parse the stored captures."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from archiver.cli._common import (
    ALL_OR_NOTHING,
    CHANGES_NOTHING,
    DEFAULT_DB,
    BaseUrlOption,
    ExistingDbOption,
    ProfileOption,
    QuietOption,
    WaitOption,
    cards_table,
    check_base_url,
    err,
    open_store,
    out,
    read_profile,
    reports_errors_saying,
    shown,
)
from archiver.cli.crawl import check_user_agent
from archiver.errors import FetchError, InputError, UsageError
from archiver.fetcher import DEFAULT_USER_AGENT, Fetcher, FetchOptions, check_url
from archiver.lock import run_lock
from archiver.parse.auto import detect
from archiver.parse.confidence import LISTING_THRESHOLD
from archiver.parse.decode import decode_html, looks_binary
from archiver.parse.limits import check_nesting
from archiver.reparse import ProfileUse
from archiver.reparse import reparse as rebuild
from archiver.store import SCHEMA_VERSION, Store


def register(app: typer.Typer) -> None:
    app.command()(probe)
    app.command()(reparse)
    app.command()(migrate)


@reports_errors_saying(CHANGES_NOTHING)
def probe(
    page: Annotated[
        str, typer.Argument(metavar="PAGE", help="A listing page: an http(s) URL or a saved .html file.")
    ],
    base_url: BaseUrlOption = None,
    user_agent: Annotated[
        str, typer.Option("--user-agent", help="User-Agent header when PAGE is a URL.")
    ] = DEFAULT_USER_AGENT,
    profile_only: Annotated[
        bool, typer.Option("--profile-only", help="Print only the TOML profile (to redirect to a file).")
    ] = False,
    ignore_robots: Annotated[
        bool, typer.Option("--ignore-robots", help="Fetch PAGE even if robots.txt disallows it.")
    ] = False,
) -> None:
    """Find the post cards on a listing page and print a profile that pins them.

    Shows the cards found, how sure the detection is, and a ready-to-save TOML profile. Save it,
    edit it if a field is wrong, and pass it back with --profile.

    \b
    Examples:
      archiver probe https://blog.example/
      archiver probe saved/index.html --base-url https://blog.example/ --profile-only > blog.toml
    """
    base_url = check_base_url(base_url)
    options = FetchOptions(user_agent=check_user_agent(user_agent), delay=0, obey_robots=not ignore_robots)
    html, page_url = _read_page(page, base_url, options)
    check_nesting(html, page)
    detection = detect(html, base_url=page_url)
    if detection.profile is None or not detection.cards:
        raise InputError(f"{page}: no post cards found; is this a blog listing page?")
    profile_toml = replace(detection.profile, start_url=page_url if _is_url(page) else None).to_toml()
    if profile_only:
        typer.echo(profile_toml, nl=False)
        return
    out.print(cards_table(detection.cards, excerpt_width=40, title=f"{len(detection.cards)} cards"))
    out.print(
        f"confidence: {detection.confidence:.2f}"
        + (f"; next page: {shown(detection.next_url)}" if detection.next_url else ""),
        markup=False,
    )
    if detection.confidence < LISTING_THRESHOLD:
        out.print(
            f"unsure this is a blog listing (below {LISTING_THRESHOLD:.2f}): "
            + "; ".join(detection.doubts or ("its cards are not complete",))
            + ". crawl, backfill, run and import refuse it unless given this profile with --profile",
            markup=False,
        )
    elif detection.doubts:
        out.print("doubts: " + "; ".join(detection.doubts), markup=False)
    out.print("\n# profile (save as site.toml, pass with --profile site.toml):", markup=False)
    out.print(profile_toml, markup=False, end="")


def _is_url(page: str) -> bool:
    return page.startswith(("http://", "https://"))


def _read_page(page: str, base_url: str | None, options: FetchOptions) -> tuple[str, str | None]:
    """The page's text and the URL its links resolve against, from the web or a file."""
    if _is_url(page):
        try:
            check_url(page)
        except FetchError as exc:
            raise UsageError(f"PAGE {exc}") from None
        with Fetcher(options) as fetcher:
            fetched = fetcher.fetch(page)
        assert fetched.body is not None  # no validators were sent, so the answer is never a 304
        return decode_html(fetched.body, page, header_charset=fetched.charset), fetched.final_url
    path = Path(page)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{page}: no such file (give a saved .html page or an http(s) URL)") from None
    except OSError as exc:
        raise InputError(f"{page}: cannot read: {exc.strerror}") from None
    if not data.strip() or looks_binary(data):
        raise InputError(f"{page}: not an HTML page (empty or binary)")
    return decode_html(data, page), base_url


@reports_errors_saying(ALL_OR_NOTHING)
def reparse(
    db: ExistingDbOption = DEFAULT_DB,
    wait: WaitOption = 0.0,
    profile: ProfileOption = None,
    site: Annotated[
        str | None, typer.Option("--site", help="Apply --profile to this site's HTML captures only.")
    ] = None,
    quiet: QuietOption = False,
) -> None:
    """Re-extract every stored capture with today's extractor or a corrected profile.

    Entries and versions are rebuilt as if every capture had been imported with the new
    extraction in the first place; where nothing changed, nothing changes. All or nothing: if a
    capture fails, the archive stays as it was.

    Example: archiver reparse --profile blog.toml --site blog.example
    """
    from rich.progress import Progress  # by the commands that show progress, not at every start

    if site is not None and profile is None:
        raise UsageError(f"--site {site!r} says which site --profile is for: give --profile too")
    chosen, chosen_text = read_profile(profile)
    with open_store(db, create=False) as store, run_lock(db, wait):
        if site is not None:
            _check_site(store, site)
        total = store.stats()["captures"]
        show_bar = not quiet and err.is_terminal
        with Progress(console=err, disable=not show_bar) as progress:
            task = progress.add_task("re-parsing", total=total)
            result = rebuild(
                store,
                chosen,
                profile_text=chosen_text,
                site=site,
                on_capture=lambda _: progress.advance(task),
            )
    if not quiet:
        out.print(
            f"re-parsed {_count(result.captures, 'capture')} ({_count(result.cards, 'card')}): entries "
            f"{result.entries_before} -> {result.entries}, versions {result.versions_before} -> "
            f"{result.versions}",
            markup=False,
        )
        for use, captures in result.profiles.items():
            out.print(f"{_count(captures, 'capture')} read with {_profile_said(use)}", markup=False)


@reports_errors_saying(ALL_OR_NOTHING)
def migrate(db: ExistingDbOption = DEFAULT_DB, quiet: QuietOption = False, wait: WaitOption = 0.0) -> None:
    """Bring an archive made by an older archiver up to this one's schema.

    Writing commands (import, crawl, backfill, reparse) do this by themselves; reading commands
    never change a file, and ask for this first. One transaction: an upgrade that fails or is
    killed leaves the archive as it was.

    Example: archiver migrate --db blog.db
    """
    with run_lock(db, wait), open_store(db, create=False) as store:
        found = store.found_version
    if not quiet:
        said = (
            f"from version {max(found, 1)} to {SCHEMA_VERSION}"
            if found < SCHEMA_VERSION
            else f"already at version {SCHEMA_VERSION}"
        )
        out.print(f"{shown(str(db))}: {said}", markup=False)


def _check_site(store: Store, site: str) -> None:
    """A usage error unless ``site`` has HTML captures (the only ones a profile applies to)."""
    sites = sorted({c.record.site for c in store.captures() if c.record.kind == "html"})
    if site not in sites:
        held = f"HTML captures are of {', '.join(sites)}" if sites else "the archive has no HTML captures"
        raise UsageError(f"--site {site!r}: no HTML captures of that site; {held}")


def _profile_said(use: ProfileUse) -> str:
    """Which profile a reparse read captures with, and where it came from."""
    said = shown(use.describe())
    if use.source == "given":
        return f"the profile given, {said}, now stored with them"
    if use.source == "file":
        return f"the profile file {said}, now stored in the archive (the file is no longer needed)"
    return f"the stored profile {said}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
