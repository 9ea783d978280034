"""`archiver probe`: the cards found without configuration, and a profile that pins them."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import FIXTURES, SITE, Runner, posts
from sitehttp import SiteServer

PAGES = [SITE / "index.html", SITE / "page" / "2" / "index.html", *sorted((FIXTURES / "html").glob("*.html"))]
#: Where each page was published (its links are relative to that); the fixture blog's by default.
BASES = {
    "wordpress_like.html": "https://blog.example/",
    "grid_cards.html": "https://cook.example/",
    "minimal_list.html": "https://xl.example/",
    "meta_line.html": "https://notes.example/",
}


def _base(page: Path) -> str:
    return BASES.get(page.name, "http://blog.fixture.test/")


def _cards(run: Runner, page: Path, *extra: str | Path) -> list[dict[str, object]]:
    result = run("parse", page, "--base-url", _base(page), "--format", "jsonl", *extra)
    assert result.exit_code == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_probed_profile_gives_back_the_same_cards(run: Runner, tmp_path: Path) -> None:
    for page in PAGES:
        result = run("probe", page, "--base-url", _base(page), "--profile-only")
        assert result.exit_code == 0, (page, result.stderr)
        profile = tmp_path / f"{page.stem}.toml"
        profile.write_text(result.stdout, encoding="utf-8")
        detected = _cards(run, page)
        assert detected, page
        assert _cards(run, page, "--profile", profile) == detected, page


def test_probe_shows_cards_confidence_and_profile(run: Runner) -> None:
    result = run("probe", SITE / "index.html", "--base-url", "http://blog.fixture.test/")
    assert result.exit_code == 0, result.stderr
    assert "16 cards" in result.stdout
    assert "confidence: " in result.stdout
    assert "[selectors]" in result.stdout and "card = " in result.stdout
    first_title = next(p["title"] for p in posts() if p["page"] == 1)
    assert str(first_title)[:6] in result.stdout


def test_probe_a_url_names_it_as_the_start_url(run: Runner) -> None:
    with SiteServer(SITE) as site:
        result = run("probe", site.url, "--profile-only")
    assert result.exit_code == 0, result.stderr
    assert f'start_url = "{site.url}"' in result.stdout


def test_probe_bad_input_is_named(run: Runner, tmp_path: Path) -> None:
    missing = tmp_path / "nope.html"
    result = run("probe", missing)
    assert result.exit_code == 1 and f"{missing}: no such file" in result.stderr
    about = tmp_path / "about.html"
    about.write_text("<html><body><p>Just me.</p></body></html>", encoding="utf-8")
    result = run("probe", about)
    assert result.exit_code == 1 and f"{about}: no post cards found" in result.stderr
    with SiteServer(SITE) as site:
        result = run("probe", site.url + "missing/")
    assert result.exit_code == 1 and "/missing/" in result.stderr
