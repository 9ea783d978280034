"""Parsing ahead: one worker process parses the next captures while the caller stores this one.

Parsing is a pure function of the capture's bytes and options, and storing is bound to the one
SQLite connection, so on a machine with a second core the two overlap: an import of many files or
a concurrent backfill hands each parse to :class:`ParseWorker` and stores the results in order, in
its own thread, one transaction per capture as before. Errors come back as they were raised (the
same exception, the same message), at the capture that caused them.

The worker is forked (cheap: a few milliseconds, nothing to import), ignores Ctrl-C (the caller
handles it and shuts the worker down) and dies with its parent, even when the parent is killed.
Where forking is not available, :func:`available` is False and callers parse in their own thread.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Generic, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_PR_SET_PDEATHSIG = 1


def available() -> bool:
    """Whether a worker can help: a second CPU and a cheap, safe way to start a process."""
    return sys.platform.startswith("linux") and (os.cpu_count() or 1) > 1


class ParseWorker:
    """One worker process for pure functions (parsing); use as a context manager.

    If the worker dies (killed from outside), the work it had not returned is done in the
    calling thread instead, so a run never fails because of the worker.
    """

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_start_worker,
            initargs=(os.getpid(),),
        )

    def start(self) -> None:
        """Fork the worker now (before the caller starts threads of its own)."""
        if self._pool is not None:
            try:
                self._pool.submit(_ready).result()
            except BrokenProcessPool:
                self.broken()

    def submit(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> Task[R]:
        """Start ``fn(*args, **kwargs)`` in the worker; :meth:`Task.result` gives its outcome."""
        future = None
        if self._pool is not None:
            try:
                future = self._pool.submit(fn, *args, **kwargs)
            except BrokenProcessPool:
                self._pool = None
        return Task(self, future, lambda: fn(*args, **kwargs))

    def map(self, fn: Callable[..., R], calls: Iterable[tuple[Any, ...]], ahead: int = 8) -> Iterator[R]:
        """``fn(*args)`` for each of ``calls``, in order, up to ``ahead`` of them in the worker."""
        pending: deque[Task[R]] = deque()
        todo = iter(calls)
        try:
            for args in todo:
                pending.append(self.submit(fn, *args))
                if len(pending) >= ahead:
                    break
            while pending:
                result = pending.popleft().result()
                for args in todo:
                    pending.append(self.submit(fn, *args))
                    break
                yield result
        finally:
            for task in pending:
                task.cancel()

    def broken(self) -> None:
        """The worker died: everything from now on runs in the calling thread."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> ParseWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Task(Generic[R]):
    """A call handed to the worker; its result is taken in the caller's thread, in order."""

    __slots__ = ("_future", "_inline", "_worker")

    def __init__(self, worker: ParseWorker, future: Future[R] | None, inline: Callable[[], R]) -> None:
        self._worker = worker
        self._future = future
        self._inline = inline

    def result(self) -> R:
        """The call's return value, or the exception it raised (as if it had run here)."""
        if self._future is None:
            return self._inline()
        try:
            return self._future.result()
        except BrokenProcessPool:  # the worker was killed: do its work here
            self._worker.broken()
            return self._inline()
        except Exception as exc:
            # Drop the worker's traceback text that concurrent.futures chains on: the error reads
            # exactly as it would have if the call had run in this process.
            raise exc from None

    def cancel(self) -> None:
        if self._future is not None:
            self._future.cancel()


def _ready() -> None:
    """Nothing: waiting for it makes sure the worker is running."""


def _start_worker(parent: int) -> None:
    """In the worker: ignore Ctrl-C (the parent handles it), die with the parent, skip old garbage."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - Linux has prctl
        pass
    if os.getppid() != parent:  # the parent died before the signal was set up
        os._exit(1)
    # Everything inherited from the parent stays as it is: the worker never collects it (no
    # finaliser of the parent's objects, such as its database connection, runs here).
    gc.freeze()
