"""One run at a time per archive: an advisory lock on ``<db>.lock`` that holds the owner's pid.

Two crawls writing one file would not corrupt it (SQLite serialises writers), but they would fetch
every page twice and interleave their bookkeeping. ``flock`` is released by the kernel when the
process dies, even by SIGKILL, so a crashed run never leaves a stale lock behind; the file itself
stays (removing it would race with a run that is just opening it).
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from archiver.errors import LockedError, StoreError


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".lock")


@contextmanager
def run_lock(db: Path) -> Iterator[None]:
    """Hold the archive's lock for the block, or raise LockedError naming the running pid."""
    path = lock_path(db)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        why = exc.strerror
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            why = f"the folder is read-only ({exc.strerror})"
        raise StoreError(f"{path}: cannot create the lock file: {why}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip() or "unknown"
            raise LockedError(
                f"{db}: another archiver run (pid {holder}) is using this archive; "
                f"try again when it has finished (lock file {path})"
            ) from None
        _write_pid(fd, f"{os.getpid()}\n")
        try:
            yield
        finally:
            _write_pid(fd, "")
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


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
