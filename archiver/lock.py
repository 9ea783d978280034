"""One run at a time per archive: an advisory lock on ``<db>.lock`` that holds the owner's pid.

Two crawls writing one file would not corrupt it (SQLite serialises writers), but they would fetch
every page twice and interleave their bookkeeping. ``flock`` is released by the kernel when the
process dies, even by SIGKILL, so a crashed run never leaves a stale lock behind; the file itself
stays (removing it would race with a run that is just opening it).
"""

from __future__ import annotations

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
        raise StoreError(f"{path}: cannot create the lock file: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip() or "unknown"
            raise LockedError(
                f"{db}: another archiver run (pid {holder}) is using this archive; "
                f"try again when it has finished (lock file {path})"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
