"""The run lock belongs to the archive file, not to the name a run was given for it.

Each case holds the lock in this process (as a running crawl would) and starts a second run in
another process through another name of the same file: it must exit 75 naming this pid, and
leave the archive alone. Once the lock is free, the same run through that name succeeds.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from archiver.errors import LockedError
from archiver.lock import lock_path, run_lock

from conftest import ROOT, SEEDS, Runner
from helpers import archiver_process, entry_count

SEED = SEEDS / "000_9b671d25390876c8.txt"


def archiver(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return archiver_process(*args, cwd=cwd, timeout=60)


@pytest.fixture
def archive(run: Runner, tmp_path: Path) -> Path:
    """An archive of one seed, made in this process: only the runs locked out need their own."""
    folder = tmp_path / "archive"
    folder.mkdir()
    db = folder / "archive.db"
    assert run("import", SEED, "--db", db, "-q").exit_code == 0
    return db


def _another_name(archive: Path, how: str) -> tuple[Path, Path]:
    """(the name, the working directory to run in) for another name of ``archive``."""
    folder = archive.parent
    if how == "a symlink":
        link = folder.parent / "link.db"
        link.symlink_to(archive)
        return link, ROOT
    if how == "a symlinked folder":
        alias = folder.parent / "alias"
        alias.symlink_to(folder, target_is_directory=True)
        return alias / archive.name, ROOT
    if how == "a hard link":
        link = folder / "same.db"
        link.hardlink_to(archive)
        return link, ROOT
    return Path(archive.name), folder  # a relative path


@pytest.mark.parametrize("how", ["a symlink", "a symlinked folder", "a hard link", "a relative path"])
def test_a_second_run_through_another_name_is_locked_out(archive: Path, how: str) -> None:
    name, cwd = _another_name(archive, how)
    before = archive.read_bytes()
    with run_lock(archive):
        for command in (["import", SEEDS], ["reparse"]):
            result = archiver(*command, "--db", name, cwd=cwd)
            assert result.returncode == 75, (command, result.stderr)
            assert f"another archiver run (pid {os.getpid()})" in result.stderr
    assert archive.read_bytes() == before
    assert entry_count(archive) == 12
    result = archiver("import", SEEDS, "--db", name, "-q", cwd=cwd)
    assert result.returncode == 0, result.stderr
    assert entry_count(archive) == 46


def test_the_lock_file_lies_beside_the_real_archive(archive: Path) -> None:
    link, _ = _another_name(archive, "a symlink")
    assert lock_path(link) == lock_path(archive)
    assert lock_path(link).parent == archive.parent
    with run_lock(link):
        assert lock_path(archive).read_text(encoding="ascii") == f"{os.getpid()}\n"


def test_a_crawl_of_a_new_archive_takes_the_lock_of_the_file_it_creates(tmp_path: Path) -> None:
    """The lock is taken before the archive exists: it is created empty so that runs agree."""
    db = tmp_path / "new.db"
    with run_lock(db):
        assert db.exists() and db.stat().st_size == 0
        result = archiver("import", SEED, "--db", tmp_path / "." / "new.db")
        assert result.returncode == 75, result.stderr
    assert archiver("import", SEED, "--db", db, "-q").returncode == 0


@pytest.mark.skipif(sys.platform != "linux", reason="the database file itself is locked on Linux only")
def test_a_hard_link_in_another_folder_is_locked_out(archive: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = elsewhere / "archive.db"
    link.hardlink_to(archive)
    with run_lock(archive):
        assert archiver("import", SEEDS, "--db", link).returncode == 75


def _holder(db: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process that holds the archive's lock for ``seconds``, once it says it has it; it
    writes ``<db>.done`` just before it lets go."""
    code = (
        "import sys, time; from pathlib import Path; from archiver.lock import run_lock\n"
        "with run_lock(Path(sys.argv[1])):\n"
        "    print('held', flush=True); time.sleep(float(sys.argv[2]))\n"
        "    Path(sys.argv[1] + '.done').touch()\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(db), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.stdout is not None and child.stdout.readline() == "held\n"
    return child


def test_a_run_told_to_wait_gets_the_lock_when_the_other_run_ends(archive: Path) -> None:
    child = _holder(archive, 1.0)
    try:
        with run_lock(archive, wait=30):
            assert Path(f"{archive}.done").exists(), "the lock was taken while the other run held it"
    finally:
        child.wait(timeout=30)


def test_a_run_that_waited_long_enough_says_so_and_exits_locked(archive: Path) -> None:
    child = _holder(archive, 30.0)
    try:
        refused = rf"pid {child.pid}\) is using this archive; waited 0.3 s"
        with pytest.raises(LockedError, match=refused), run_lock(archive, wait=0.3):
            pass
    finally:
        child.kill()
        child.wait(timeout=30)
