"""Site profiles: loading, validation and the to_toml round trip (incl. optional keys)."""

from __future__ import annotations

from pathlib import Path

import pytest

from archiver.errors import ProfileError
from archiver.parse.profile import Profile, load_profile


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_round_trip_keeps_every_key(tmp_path: Path) -> None:
    profile = Profile(
        card="article.post",
        title="h2 a",
        permalink="h2 a @href",
        category='a[href*="/categories/"]',
        tags=".tags a",
        date="time",
        excerpt=".summary",
        next_page="a.next",
        name='Ann\'s "blog"',
        start_url="https://blog.example/",
        date_formats=("%d.%m.%Y",),
        category_separator="·",
    )
    assert load_profile(write(tmp_path, profile.to_toml())) == profile


def test_category_separator_is_optional(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, '[selectors]\ncard = "article"\n'))
    assert profile.category_separator is None
    assert "category_separator" not in profile.to_toml()


def test_category_separator_is_read(tmp_path: Path) -> None:
    text = 'category_separator = " | "\n[selectors]\ncard = "article"\ncategory = "footer"\n'
    assert load_profile(write(tmp_path, text)).category_separator == "|"


@pytest.mark.parametrize("value", ['""', "3", '["·"]'])
def test_bad_category_separator_is_rejected(tmp_path: Path, value: str) -> None:
    text = f'category_separator = {value}\n[selectors]\ncard = "article"\n'
    with pytest.raises(ProfileError, match="category_separator"):
        load_profile(write(tmp_path, text))


def test_missing_card_and_unknown_keys(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="card"):
        load_profile(write(tmp_path, '[selectors]\ntitle = "h2"\n'))
    with pytest.raises(ProfileError, match="unknown"):
        load_profile(write(tmp_path, '[selectors]\ncard = "a"\nauthor = "b"\n'))
    with pytest.raises(ProfileError, match="not found"):
        load_profile(tmp_path / "missing.toml")
