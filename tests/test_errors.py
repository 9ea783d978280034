"""Library errors carry facts and name no command-line option; the CLI words them.

The library cannot know which option of which command acts on a value, a page or a profile
(a library caller has none); the CLI adds that advice, and its users read the words they read
before the library stopped naming options.
"""

from __future__ import annotations

import pickle

import pytest

from archiver.cli._wording import cap_reached, worded
from archiver.crawl import PageRange
from archiver.errors import (
    ArchiverError,
    BadValue,
    CardsNotMatched,
    LayoutBrokenError,
    NoCardsFound,
    NotUtf8,
    OffHostLink,
    OffHostRedirect,
    OlderArchive,
    ProfileSiteUnclear,
    RobotsDisallowed,
    RobotsUnreadable,
    StoredProfileUnusable,
    TooLarge,
)
from archiver.stopping import Capped
from archiver.times import iso_timestamp

PAGE = "https://blog.example/page/2/"

#: Each error, and the line the CLI printed for it before the library stopped naming options.
WORDED: list[tuple[ArchiverError, str]] = [
    (
        OffHostRedirect(PAGE, "http://mirror.example/page/2/", "mirror.example"),
        f"{PAGE}: redirects to another host (http://mirror.example/page/2/); refused. Pass "
        "--allow-redirect-host mirror.example to follow it",
    ),
    (
        RobotsDisallowed(PAGE, "https://blog.example/robots.txt", "archiver/0.1.0"),
        f"{PAGE}: disallowed by https://blog.example/robots.txt for 'archiver/0.1.0'; pass "
        "--ignore-robots only if you may archive it anyway",
    ),
    (
        RobotsUnreadable(PAGE, "https://blog.example/robots.txt: HTTP 503"),
        f"https://blog.example/robots.txt: HTTP 503; cannot tell whether {PAGE} may be fetched "
        "(--ignore-robots skips the check)",
    ),
    (
        TooLarge(PAGE, "Content-Length is 1,000,000 bytes", 50_000),
        f"{PAGE}: response too large (Content-Length is 1,000,000 bytes; the limit is 50,000 bytes, "
        "see --max-bytes)",
    ),
    (
        CardsNotMatched("saved/index.html", "article.post"),
        "saved/index.html: the profile's card selector 'article.post' matched no post card; check "
        "the selector with `archiver probe` or run without --profile",
    ),
    (
        CardsNotMatched("saved/index.html", None),
        "saved/index.html: no post cards found (is this a blog listing page?); try `archiver probe` "
        "or pass --profile with a card selector",
    ),
    (
        NotUtf8("notes.txt", 17, "gbk"),
        "notes.txt: not valid UTF-8 at byte 17; it looks like gbk: pass --encoding gbk",
    ),
    (
        NotUtf8("notes.txt", 17, None),
        "notes.txt: not valid UTF-8 at byte 17; pass --encoding NAME to read it in another encoding",
    ),
    (
        BadValue("captured_at", "yesterday", "not an ISO 8601 time (e.g. 2026-01-11T08:00:00Z)"),
        "--captured-at 'yesterday': not an ISO 8601 time (e.g. 2026-01-11T08:00:00Z)",
    ),
    (
        LayoutBrokenError(PAGE, 0, 16),
        f"{PAGE}: LAYOUT BROKEN: the page gave 0 post cards where the site gave 16 cards before. "
        "Nothing was marked as gone. Check the page, then fix or pass a --profile (see `archiver "
        "probe`) and run again",
    ),
    (
        LayoutBrokenError(PAGE, 0, 0),
        f"{PAGE}: LAYOUT BROKEN: the page gave 0 post cards where the site gave cards on other pages "
        "before. Nothing was marked as gone. Check the page, then fix or pass a --profile (see "
        "`archiver probe`) and run again",
    ),
    (
        NoCardsFound(PAGE, "article.post"),
        f"{PAGE}: no post cards found by the profile's card selector 'article.post'; is this a blog "
        "listing page? Try `archiver probe` or pass --profile",
    ),
    (
        NoCardsFound(PAGE, None),
        f"{PAGE}: no post cards found by automatic detection; is this a blog listing page? Try "
        "`archiver probe` or pass --profile",
    ),
    (
        OffHostLink(PAGE, "https://evil.example/page/3/"),
        f"{PAGE}: the next-page link leads to another host (https://evil.example/page/3/); not "
        "followed (see --allow-redirect-host)",
    ),
    (
        OlderArchive("/data/my blog.db", 1, 5),
        "/data/my blog.db: made by an older archiver (schema 1, this one reads 5); reading commands "
        "change nothing, so bring it up to date first: archiver migrate --db '/data/my blog.db'",
    ),
    (
        ProfileSiteUnclear(("a.example", "b.example")),
        "the archive holds HTML captures of 2 sites (a.example, b.example); name the one the "
        "profile is for with --site",
    ),
    (
        StoredProfileUnusable(3, PAGE, "blog.toml", "blog.toml: no such file", stored=False),
        f"capture 3 ({PAGE}) was parsed with the profile blog.toml, which the archive does not hold "
        "(it was archived before profiles were stored) and which cannot be read now (blog.toml: no "
        "such file); pass --profile FILE to re-parse it with that profile or another",
    ),
    (
        StoredProfileUnusable(3, PAGE, "blog.toml (sha256 0123456789ab)", "not valid TOML", stored=True),
        f"capture 3 ({PAGE}) was parsed with the profile blog.toml (sha256 0123456789ab), which does "
        "not load now (not valid TOML); pass --profile FILE to re-parse it with another",
    ),
]


@pytest.mark.parametrize(
    ("error", "line"), WORDED, ids=lambda v: type(v).__name__ if isinstance(v, Exception) else ""
)
def test_the_library_names_no_option_and_the_cli_words_it_as_before(error: ArchiverError, line: str) -> None:
    assert "--" not in str(error)
    assert worded(error) == line


@pytest.mark.parametrize(
    ("error", "line"), WORDED, ids=lambda v: type(v).__name__ if isinstance(v, Exception) else ""
)
def test_an_error_crosses_a_process_with_its_facts(error: ArchiverError, line: str) -> None:
    """Errors raised in the parse worker are pickled back: the CLI still words them."""
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error) and vars(again) == vars(error)
    assert worded(again) == line


def test_values_the_library_refuses_say_which_setting_and_why() -> None:
    with pytest.raises(BadValue) as time:
        iso_timestamp("0001-01-01T00:00+05:00")
    assert (time.value.name, time.value.problem) == ("captured_at", "out of range (years 1 to 9999 in UTC)")
    with pytest.raises(BadValue) as pages:
        PageRange.parse("3-1")
    assert (pages.value.name, pages.value.value) == ("pages", "3-1")
    assert worded(pages.value).startswith("--pages '3-1': expected A-B with 1 <= A <= B <= 1,000,000,000")


@pytest.mark.parametrize(
    ("command", "advice"),
    [
        ("crawl", "give --max-pages N to read further, or archive every page with `archiver backfill`"),
        ("backfill", "run the same backfill again to carry on at page 1001, or give --pages A-B"),
    ],
)
def test_a_run_stopped_at_the_page_cap_is_worded_by_the_command(command: str, advice: str) -> None:
    error = cap_reached(Capped("https://blog.example/", 1000, 1000), command)
    assert error.exit_code == 4
    assert str(error) == (
        f"https://blog.example/: stopped at page 1000, after 1000 pages: the most one {command} "
        f"fetches by default. The listing goes on; {advice}"
    )
