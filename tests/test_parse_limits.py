"""Hostile input costs bounded work: pages and texts built to make parsing take hours.

Each case runs in a forked child process that is killed when it overruns its bound, so a
regression fails here in seconds instead of hanging the suite (a backtracking regex or a C
parser cannot be interrupted from inside the process).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import TypeVar

from archiver.identity import normalize

T = TypeVar("T")

#: The bound for every case here: real pages parse in milliseconds, these took seconds to hours.
BOUND_SECONDS = 2.0


def within(seconds: float, function: Callable[..., T], *args: object) -> T:
    """``function(*args)``, run in a child process that is killed after ``seconds``."""
    with multiprocessing.get_context("fork").Pool(1) as pool:
        pending = pool.apply_async(function, args)
        try:
            return pending.get(timeout=seconds)
        except multiprocessing.TimeoutError:
            raise AssertionError(f"{function.__name__} did not finish within {seconds} s") from None


# -- text normalisation ----------------------------------------------------------------------------


def test_a_long_run_of_dots_followed_by_text_normalises_at_once() -> None:
    """A table-of-contents line made the truncation pattern backtrack for minutes."""
    toc = "Chapter 1 " + "." * 10_000 + " 5"
    assert within(BOUND_SECONDS, normalize, toc) == toc
    cut = "Chapter 1 " + ". " * 10_000 + "x" + "." * 10_000
    assert within(BOUND_SECONDS, normalize, cut) == ("Chapter 1 " + ". " * 10_000 + "x").rstrip()
