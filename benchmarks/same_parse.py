"""Every card and next URL the parser gives on every page at hand, as JSON lines to compare.

    python benchmarks/same_parse.py [--code DIR] [--corpus DIR] [--hourly N] > OUT.jsonl

For checking that a change of the parser made for speed changed nothing it finds: run it with
the code before (``--code`` a checkout of it) and after, and ``cmp`` the two outputs. Pages: the
benchmark's hourly captures and listing pages (``benchmarks/pages.py``), ``fixtures/site`` and
``fixtures/html``, and the real corpus beside the checkout (``../shared/corpus``). Each page is
parsed without a profile (detection), with the profile detection infers for it, with its own
profile where it has one, and with :data:`PROFILES`: selectors that nest, repeat, look outside
the card, read attributes, split meta lines, match nothing or do not parse. A parse that fails
is printed as its error.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

#: Profiles that exercise the extractor's corners on pages they were not written for.
PROFILES: list[dict[str, object]] = [
    {
        "card": "article",
        "title": "h1 a, h2 a, h3 a",
        "permalink": "a",
        "category": "a[rel~=tag], .category a, .categories a, .post-category a",
        "tags": ".tags a, .post-tags a, a[href*='/tags/']",
        "date": "time, .date, .post-date",
        "excerpt": "p",
        "next_page": "a.next, .next a",
    },
    {
        "card": "div",
        "title": "a",
        "permalink": "a @href",
        "category": "span",
        "tags": "a, a",
        "date": "time @datetime",
        "excerpt": "div p, p",
        "category_separator": "·",
    },
    {"card": "li", "title": "a", "permalink": "*", "excerpt": "li", "date": "span", "tags": "li a"},
    {
        "card": "body *",
        "title": "body a",
        "permalink": "main a, a",
        "category": "header a",
        "tags": ":first-child",
        "date": "span, time",
        "excerpt": "div ~ p, section > p",
    },
    {"card": "section, article, li, .post", "title": "h2, h3", "excerpt": ":not(a)", "date": "* @content"},
    {
        "card": "p",
        "title": "p",
        "permalink": "p a",
        "excerpt": "p",
        "date": "p",
        "date_formats": ["%d.%m.%Y"],
    },
    {"card": "a", "title": "a @title", "permalink": "a", "category": "a @rel", "excerpt": "span"},
    {"card": "article, div", "title": "h2", "category": "a[", "excerpt": "p"},
    {"card": "nothing-matches-this", "title": "a[", "next_page": "a"},
    {"card": "article", "next_page": ".pagination a:last-child, a[rel=next] @href"},
]


def pages(corpus: Path, hourly: int) -> Iterator[tuple[str, bytes, str | None, dict[str, object] | None]]:
    """(label, bytes, base URL, the page's own profile or None) for every page at hand."""
    import pages as bench  # benchmarks/pages.py

    own = as_dict(bench.PROFILE)
    for n, data in bench.hourly_front_pages(hourly):
        yield f"hourly/{n}", data, bench.BASE_URL, own
    for page_no in (1, 2, 5):
        yield f"site/{page_no}", bench.site_page(page_no, 5), bench.site_page_url(page_no), own
    site = ROOT / "fixtures" / "site"
    fixture_profile = tomllib.loads((site / "profile.toml").read_text(encoding="utf-8"))["selectors"]
    for path in sorted(site.rglob("*.html")):
        url = "https://fixture.example/" + str(path.relative_to(site).parent).strip(".") + "/"
        yield f"fixtures/site/{path.relative_to(site)}", path.read_bytes(), url, fixture_profile
    for path in sorted((ROOT / "fixtures" / "html").glob("*.html")):
        yield f"fixtures/html/{path.name}", path.read_bytes(), "https://fixture.example/", None
    for labels in sorted(corpus.glob("*/labels.json")):
        meta = json.loads(labels.read_text(encoding="utf-8"))
        for name, page in meta["pages"].items():
            yield (
                f"corpus/{labels.parent.name}/{name}",
                (labels.parent / name).read_bytes(),
                page["url"],
                None,
            )


def as_dict(profile: Any) -> dict[str, object]:
    """A :class:`~archiver.parse.profile.Profile` as the keys :func:`as_file` takes."""
    extra = {"date_formats": list(profile.date_formats), "category_separator": profile.category_separator}
    return {**profile.selectors(), **{k: v for k, v in extra.items() if v}}


def main(code: Path, corpus: Path, hourly: int) -> None:
    """Print one JSON line per page and profile."""
    sys.path.insert(0, str(code.resolve()))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from archiver.errors import ArchiverError
    from archiver.parse import parse_capture
    from archiver.parse.profile import profile_from_dict

    def show(label: str, data: bytes, url: str | None, profile: dict[str, object] | None) -> None:
        out: dict[str, object]
        detected = None
        try:
            built = profile_from_dict(as_file(profile)) if profile is not None else None
            page = parse_capture(data, kind="html", source=label, base_url=url, profile=built)
            out = {"cards": [list(c.fields().values()) for c in page.cards], "next": page.next_url}
            if profile is None:
                detected = page.profile
                out["profile"] = detected.to_toml() if detected else None
        except ArchiverError as exc:
            out = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps({"page": label, "profile": profile, "parsed": out}, ensure_ascii=False))
        if detected is not None:
            show(label, data, url, as_dict(detected))

    for label, data, url, own in pages(corpus, hourly):
        show(label, data, url, None)
        for profile in ([own] if own else []) + PROFILES:
            show(label, data, url, profile)


def as_file(profile: dict[str, object]) -> dict[str, object]:
    """A profile as :func:`profile_from_dict` reads a parsed TOML file."""
    top = {"date_formats", "category_separator", "name", "start_url"}
    return {
        "selectors": {k: v for k, v in profile.items() if k not in top},
        **{k: v for k, v in profile.items() if k in top},
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--code", default=str(ROOT), help="the checkout whose archiver to run")
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    parser.add_argument("--hourly", type=int, default=300, help="hourly captures to parse")
    args = parser.parse_args()
    main(Path(args.code), Path(args.corpus), args.hourly)
