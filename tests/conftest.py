"""Shared fixtures: paths to the bundled fixtures and a CLI runner against real files.

Helpers that are plain functions (running the command as a process, reading an archive back, a
fake clock) are in tests/helpers.py.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from typer.testing import CliRunner

from archiver.cli import app

from helpers import CI_EXAMPLES, THOROUGH_FACTOR
from sitehttp import SiteServer

ROOT = Path(__file__).resolve().parent.parent

FIXTURES = ROOT / "fixtures"
SEEDS = FIXTURES / "seeds"
SITE = FIXTURES / "site"
#: the real pages of fifteen blogs with hand-checked labels, beside the checkout when present
CORPUS = ROOT.parent / "shared" / "corpus"
SITE_PROFILE = SITE / "profile.toml"
SITE_URL = "http://blog.fixture.test/"

# Hypothesis profiles, registered once for the whole suite (a module that loads its own profile
# changes every module's settings, depending on which is imported last). Properties that need
# more examples, or a deadline, say so with helpers.examples() and their own @settings.
for _name, _factor in (("ci", 1), ("thorough", THOROUGH_FACTOR)):
    settings.register_profile(
        _name,
        max_examples=CI_EXAMPLES * _factor,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


Runner = Callable[..., Result]


@pytest.fixture
def run() -> Runner:
    """Run `archiver ARGS...` in-process; returns exit code, stdout and stderr separately."""
    runner = CliRunner()

    def invoke(*args: str | Path) -> Result:
        result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
        return Result(result.exit_code, result.stdout, result.stderr)

    return invoke


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "archive.db"


def posts() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads((SITE / "posts.json").read_text(encoding="utf-8"))
    return found


@pytest.fixture
def site_copy(tmp_path: Path) -> Path:
    """A copy of the fixture blog that a test may edit while it is being served."""
    copy = tmp_path / "site"
    shutil.copytree(SITE, copy)
    return copy


@pytest.fixture
def site(site_copy: Path) -> Iterator[SiteServer]:
    """The copy served on 127.0.0.1 (modules that serve the fixture blog as it is have their own)."""
    with SiteServer(site_copy) as server:
        yield server
