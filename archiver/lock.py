"""One run at a time per archive: an advisory lock on a file named after the archive's identity.

Two crawls writing one file would not corrupt it (SQLite serialises writers), but they would fetch
every page twice and interleave their bookkeeping. ``flock`` is released by the kernel when the
process dies, even by SIGKILL, so a crashed run never leaves a stale lock behind; the file itself
stays (removing it would race with a run that is just opening it) and holds the owner's pid.

The lock belongs to the file, not to the name it was given: the lock file lies in the folder of
the archive's real path (symlinks resolved) and is named by its device and inode,
``.archiver-<st_dev>-<st_ino>.lock``, so a symlink, a relative path or a hard link in the same
folder all meet the same lock, and the lock file holds the running pid for the other's message.

A hard link in another folder has another lock file, so on Linux the run also takes ``flock`` on
the database file itself: there ``flock`` and SQLite's POSIX (``fcntl``) locks are separate lock
spaces, so it meets every name of the file without touching SQLite's own locking. Elsewhere
(macOS, BSD) the two share one lock space and it would block the run's own connection, so it is
not taken there. (SQLite, too, finds the -wal journal by name: a second name in another folder
is unsafe for any SQLite program.)
"""

from __future__ import annotations

import errno
import fcntl
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from archiver.errors import LockedError, StoreError


def lock_path(db: Path) -> Path:
    """The lock file of the archive at ``db`` (which exists): by its real folder and identity."""
    real = db.resolve()
    info = real.stat()
    return real.with_name(f".archiver-{info.st_dev}-{info.st_ino}.lock")


#: How often a run waiting for the lock tries again: often enough that two cron lines started
#: together lose well under a second, rarely enough to cost nothing while a long run holds it.
WAIT_POLL_SECONDS = 0.2


@contextmanager
def run_lock(db: Path, wait: float = 0.0) -> Iterator[None]:
    """Hold the archive's lock for the block, or raise LockedError naming the running pid.

    ``wait`` seconds: how long to wait for a running archiver to finish first (as ``flock -w``
    does), so that two cron lines started at the same moment run one after the other.

    A missing archive is created empty first (an empty file is an empty SQLite database): its
    identity is what two runs starting on a new archive must agree on.
    """
    _create_if_missing(db)
    path = lock_path(db)
    deadline = time.monotonic() + wait

    def held_by(fd: int) -> str:
        holder = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip() or "unknown"
        waited = f"waited {wait:g} s; " if wait else ""
        return (
            f"{db}: another archiver run (pid {holder}) is using this archive; "
            f"{waited}try again when it has finished (lock file {path})"
        )

    fd = _locked(
        path, os.O_RDWR | os.O_CREAT, f"{path}: cannot create the lock file of {db}", held_by, deadline
    )
    try:
        _write_pid(fd, f"{os.getpid()}\n")
        try:
            with _database_file_lock(db, deadline):
                yield
        finally:
            _write_pid(fd, "")
    finally:
        os.close(fd)  # closing the descriptor releases its flock


@contextmanager
def _database_file_lock(db: Path, deadline: float) -> Iterator[None]:
    """On Linux, ``flock`` on the archive itself: the lock every name of the file meets."""
    if sys.platform != "linux":
        yield
        return
    fd = _locked(
        db,
        os.O_RDONLY,
        f"{db}: cannot open the archive to lock it",
        lambda _: (
            f"{db}: another archiver run is using this archive under another name (a hard "
            "link in another folder); try again when it has finished"
        ),
        deadline,
    )
    try:
        yield
    finally:
        os.close(fd)


def _locked(path: Path, flags: int, cannot: str, busy: Callable[[int], str], deadline: float = 0.0) -> int:
    """``path`` opened and locked with ``flock``, trying until ``deadline`` (monotonic): its
    descriptor, or LockedError(``busy(fd)``)."""
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        raise StoreError(f"{cannot}: {_why(exc)}") from None
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            left = deadline - time.monotonic()
            if left <= 0:
                message = busy(fd)
                os.close(fd)
                raise LockedError(message) from None
            time.sleep(min(WAIT_POLL_SECONDS, left))


def _create_if_missing(db: Path) -> None:
    if db.is_dir():
        raise StoreError(f"{db}: is a directory, not a database file")
    if db.exists():
        return
    try:
        os.close(os.open(db, os.O_WRONLY | os.O_CREAT, 0o644))
    except FileNotFoundError:
        raise StoreError(f"{db}: cannot create the archive: its folder does not exist") from None
    except OSError as exc:
        raise StoreError(f"{db}: cannot create the archive: {_why(exc)}") from None


def _why(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"the folder is read-only ({exc.strerror})"
    return str(exc.strerror)


def _write_pid(fd: int, text: str) -> None:
    """Record who holds the lock, for the other run's message; the flock is what locks.

    On a full disk the pid cannot be written: the lock still holds (the other run's message says
    "pid unknown"), and the disk error is reported where the archive itself is written.
    """
    try:
        os.ftruncate(fd, 0)
        if text:
            os.pwrite(fd, text.encode(), 0)
    except OSError:
        pass
