"""Zero-configuration extraction vs. extraction with an explicit profile: ms per page and ratio.

The detector must stay cheap enough to run on every capture: the target is at most twice the
time of parsing the same page with a profile. Pages are the real corpus pages beside the
checkout (``../shared/corpus``, read in place) when present, else the repository's HTML
fixtures. The explicit profile for each page is the one detection infers, so both runs do the
same field work and the difference is the cost of finding the cards.

    python benchmarks/extraction.py [--repeat N] [--corpus DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archiver.parse.auto import detect  # noqa: E402
from archiver.parse.html import parse_html  # noqa: E402
from archiver.parse.profile import Profile  # noqa: E402


def pages(corpus: Path) -> list[tuple[str, str, str | None]]:
    """(label, html, base_url) for every corpus page, or every fixture page."""
    found = []
    if corpus.is_dir():
        for labels in sorted(corpus.glob("*/labels.json")):
            meta = json.loads(labels.read_text(encoding="utf-8"))
            for name, page in meta["pages"].items():
                html = (labels.parent / name).read_text(encoding="utf-8")
                found.append((f"{labels.parent.name}/{name}", html, page["url"]))
    else:
        for path in sorted((ROOT / "fixtures" / "html").glob("*.html")):
            found.append((path.name, path.read_text(encoding="utf-8"), "https://blog.example/"))
    return found


def best_ms(html: str, base_url: str | None, profile: Profile | None, repeat: int) -> float:
    """The fastest of ``repeat`` runs (the least disturbed by the machine), in milliseconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        parse_html(html, base_url=base_url, profile=profile)
        best = min(best, time.perf_counter() - start)
    return best * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    args = parser.parse_args()
    print(f"{'page':44} {'KB':>5} {'cards':>5} {'profile ms':>10} {'auto ms':>8} {'ratio':>6}")
    total_profile = total_auto = 0.0
    for label, html, base_url in pages(args.corpus):
        detection = detect(html, base_url=base_url)
        with_profile = best_ms(html, base_url, detection.profile, args.repeat)
        zero_config = best_ms(html, base_url, None, args.repeat)
        total_profile += with_profile
        total_auto += zero_config
        print(
            f"{label:44} {len(html.encode()) / 1024:5.0f} {len(detection.cards):5} "
            f"{with_profile:10.2f} {zero_config:8.2f} {zero_config / with_profile:6.2f}"
        )
    if total_profile:
        print(
            f"{'all pages':44} {'':5} {'':5} {total_profile:10.2f} {total_auto:8.2f} "
            f"{total_auto / total_profile:6.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
