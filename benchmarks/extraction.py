"""Zero-configuration extraction vs. extraction with an explicit profile: ms per page and ratio.

The detector must stay cheap enough to run on every capture: the target is at most twice the
time of parsing the same page with a profile (checked on every page of 50 KB or more). Pages
are the real corpus pages beside the checkout (``../shared/corpus``, read in place) when
present, else the repository's HTML fixtures, plus the 57 KB synthetic listing page that
``benchmarks/run.py`` imports (``benchmarks/pages.py``). The explicit profile for each page is
the one detection infers, so both runs do the same parse and the same field extraction and the
difference is the cost of finding the cards.

Both modes run through the public entry point (``parse_html``) in the same process,
interleaved run by run (alternating which goes first), and each figure is the median of
``--repeat`` runs, so machine noise hits both sides alike. Time is the thread's CPU time by
default: on a shared machine a wall-clock run is sometimes preempted for a whole scheduler
slice (several ms), which biases against the longer zero-configuration run; ``--clock wall``
measures elapsed time instead.

The parser remembers work across pages (resolved links, dates, selectors), and what that is
worth depends on the job, so ``--caches`` says what each timed parse may remember:

* ``sibling`` (the default): empty caches, warmed by parsing *another* page of the same site in
  the same mode (untimed), as a crawl or an import of a site's pages goes: menus, tag links
  and date formats repeat from page to page, the page's own posts do not;
* ``cold``: empty caches before every parse (a lone page);
* ``warm``: the same page parsed again and again, every lookup it needs already remembered.
  This is the hardest case for the target: the profile parse no longer pays for the link and
  date work it shares with detection, while most of detection's own work cannot be remembered.

    python benchmarks/extraction.py [--repeat N] [--corpus DIR] [--min-kb KB] [--clock cpu|wall]
                                    [--caches sibling|cold|warm]
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pages import site_page, site_page_url  # noqa: E402

from archiver.parse.auto import detect  # noqa: E402
from archiver.parse.html import parse_html  # noqa: E402
from archiver.parse.limits import clear_caches  # noqa: E402
from archiver.parse.profile import Profile  # noqa: E402

#: The acceptance target: zero-configuration time / explicit-profile time.
TARGET = 2.0


class Page(NamedTuple):
    label: str
    html: str
    base_url: str | None
    #: another page of the same site (html, base_url), to warm the caches with
    sibling: tuple[str, str | None] | None


def pages(corpus: Path) -> list[Page]:
    """Every corpus page (each with the site's other page as its sibling), or every fixture."""
    found = []
    if corpus.is_dir():
        for labels in sorted(corpus.glob("*/labels.json")):
            meta = json.loads(labels.read_text(encoding="utf-8"))
            site = [
                (name, (labels.parent / name).read_text(encoding="utf-8"), page["url"])
                for name, page in meta["pages"].items()
            ]
            for name, text, url in site:
                others = [(t, u) for n, t, u in site if n != name]
                found.append(Page(f"{labels.parent.name}/{name}", text, url, others[0] if others else None))
    else:
        for path in sorted((ROOT / "fixtures" / "html").glob("*.html")):
            found.append(Page(path.name, path.read_text(encoding="utf-8"), "https://blog.example/", None))
    synthetic = [(site_page(n, 100).decode(), site_page_url(n)) for n in (2, 3)]
    found.append(Page("benchmarks/pages.py site, page 3", *synthetic[1], synthetic[0]))
    return found


CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.thread_time, "wall": time.perf_counter}


def _once(page: Page, profile: Profile | None, clock: Callable[[], float], caches: str) -> float:
    if caches != "warm":
        clear_caches()
        if caches == "sibling" and page.sibling is not None:
            parse_html(page.sibling[0], base_url=page.sibling[1], profile=profile)
    start = clock()
    parse_html(page.html, base_url=page.base_url, profile=profile)
    return clock() - start


def median_ms(
    page: Page,
    profile: Profile,
    repeat: int,
    clock: Callable[[], float] = time.thread_time,
    caches: str = "sibling",
) -> tuple[float, float]:
    """Median ms of ``repeat`` runs with the profile and without, interleaved run by run."""
    for _ in range(3):  # first calls (imports, compiled patterns) for both modes alike
        _once(page, profile, clock, caches)
        _once(page, None, clock, caches)
    with_profile: list[float] = []
    zero_config: list[float] = []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for i in range(repeat):
            if i % 2:
                zero_config.append(_once(page, None, clock, caches))
                with_profile.append(_once(page, profile, clock, caches))
            else:
                with_profile.append(_once(page, profile, clock, caches))
                zero_config.append(_once(page, None, clock, caches))
            if i % 16 == 15:
                gc.collect()
    finally:
        if gc_was_enabled:
            gc.enable()
    return statistics.median(with_profile) * 1000, statistics.median(zero_config) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=41, help="runs per page and mode (median)")
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--min-kb", type=float, default=50.0, help="size the target applies from")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu", help="thread CPU or wall time")
    parser.add_argument(
        "--caches",
        choices=("sibling", "cold", "warm"),
        default="sibling",
        help="what the parser remembers before each timed page (see the module docstring)",
    )
    args = parser.parse_args()
    clock = CLOCKS[args.clock]
    header = f"{'page':44} {'KB':>5} {'cards':>5} {'profile ms':>10} {'zero-config ms':>14} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    total_profile = total_auto = 0.0
    big_profile = big_auto = 0.0
    worst_big: tuple[float, str] | None = None
    for page in pages(args.corpus):
        label = page.label
        detection = detect(page.html, base_url=page.base_url)
        if detection.profile is None:
            print(f"{label:44} (no cards detected: skipped)")
            continue
        kb = len(page.html.encode()) / 1024
        with_profile, zero_config = median_ms(page, detection.profile, args.repeat, clock, args.caches)
        ratio = zero_config / with_profile
        total_profile += with_profile
        total_auto += zero_config
        big = kb >= args.min_kb
        if big:
            big_profile += with_profile
            big_auto += zero_config
            if worst_big is None or ratio > worst_big[0]:
                worst_big = (ratio, label)
        flag = " *" if big and ratio > TARGET else ""
        print(
            f"{label:44} {kb:5.0f} {len(detection.cards):5} "
            f"{with_profile:10.2f} {zero_config:14.2f} {ratio:6.2f}{flag}"
        )
    if not total_profile:
        print("no pages")
        return 1
    print("-" * len(header))
    all_ratio = total_auto / total_profile
    print(f"{'all pages':44} {'':5} {'':5} {total_profile:10.2f} {total_auto:14.2f} {all_ratio:6.2f}")
    if big_profile:
        big_label = f"pages >= {args.min_kb:.0f} KB"
        big_ratio = big_auto / big_profile
        print(f"{big_label:44} {'':5} {'':5} {big_profile:10.2f} {big_auto:14.2f} {big_ratio:6.2f}")
    if worst_big is not None:
        verdict = "PASS" if worst_big[0] <= TARGET else "FAIL"
        print(
            f"{verdict}: worst ratio on pages >= {args.min_kb:.0f} KB is {worst_big[0]:.2f} "
            f"({worst_big[1]}), target <= {TARGET:.1f}; all pages {all_ratio:.2f} "
            f"(median of {args.repeat} interleaved runs, {args.clock} time, {args.caches} caches)"
        )
    else:
        print(
            f"no page >= {args.min_kb:.0f} KB; all pages {all_ratio:.2f} "
            f"(median of {args.repeat} interleaved runs, {args.clock} time, {args.caches} caches)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
