"""The fuzzer's worker process: runs one archiver call at a time, timed, and alone.

Every parse and import the fuzzer makes runs here, never in the fuzzer's own process, because
hostile input can do what no ``try`` catches: a call that never returns (an exponential regular
expression, a quadratic walk over a deep tree) or a fault in a C extension that kills the
interpreter. Such a call takes down only this process: the fuzzer kills it after a time limit
(faulthandler dumps its Python stack first, so the report says where it was stuck), and starts
a new one.

Each call is timed in CPU seconds of this process (what the page costs, whatever else runs on
the machine) and in wall seconds. While it runs, a SIGPROF sampler charges the CPU time to the
innermost archiver function on the stack, so a slow call is reported as "slow in
archiver/identity.py:normalize" rather than just "slow".
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import multiprocessing
import os
import re
import signal
import sys
import time
import traceback
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from types import FrameType, TracebackType

ROOT = Path(__file__).resolve().parent.parent
ARCHIVER_DIR = str(ROOT / "archiver")

#: The SIGPROF sampling period: fine enough to place a 2 s call, cheap for a 2 ms one.
SAMPLE_SECONDS = 0.01
_PR_SET_PDEATHSIG = 1
_DUMP_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+) in (?P<func>\S+)')


@dataclass(slots=True)
class ParseCall:
    """``parse_capture`` on bytes: kind 'html' or 'text', with the fixture profile or without."""

    data: bytes
    kind: str
    profile: Path | None
    base_url: str | None
    source: str = "fuzz-input"


@dataclass(slots=True)
class CliCall:
    """``archiver ARGS...`` through the real typer app, in this process."""

    args: list[str]


@dataclass(slots=True)
class Outcome:
    """What one call did.

    ``status``: ok; refused (an ArchiverError naming the input: bad input handled as promised);
    unclear (an ArchiverError that does not name the input); crash (any other exception, or
    'internal error' or a traceback printed); killed (over the time limit); died (the process
    itself died, e.g. a segmentation fault).
    """

    status: str
    detail: str = ""
    #: where it failed (crash: innermost archiver frame) or where the time went (hottest function)
    where: str = ""
    cpu: float = 0.0
    wall: float = 0.0
    exit_code: int | None = None
    stderr: str = ""
    cards: int = 0
    spent: dict[str, float] = field(default_factory=dict)


def frame_name(filename: str, line: int | None, function: str) -> str:
    """``archiver/identity.py:43 normalize`` (line omitted when None): short and stable."""
    path = filename.removeprefix(str(ROOT) + os.sep)
    return f"{path}:{line} {function}" if line is not None else f"{path} {function}"


def innermost_archiver_frame(tb: TracebackType | None) -> str:
    """The deepest traceback entry inside archiver/, else the deepest one at all."""
    entries = traceback.extract_tb(tb)
    ours = [e for e in entries if e.filename.startswith(ARCHIVER_DIR)]
    if not (ours or entries):
        return "?"
    chosen = (ours or entries)[-1]
    return frame_name(chosen.filename, chosen.lineno, chosen.name)


def where_in_dump(dump: str) -> str:
    """The innermost archiver frame of the first thread in a faulthandler dump."""
    frames = [m for m in _DUMP_FRAME.finditer(dump)]
    if not frames:
        return "?"
    first_thread = dump.split("\n\n", maxsplit=1)[0]
    frames = [m for m in _DUMP_FRAME.finditer(first_thread)] or frames
    ours = [m for m in frames if m["file"].startswith(ARCHIVER_DIR)]
    chosen = (ours or frames)[0]  # faulthandler lists the most recent call first
    return frame_name(chosen["file"], None, chosen["func"])


class Sampler:
    """Charges CPU time to the innermost archiver function, on each SIGPROF tick.

    A signal handler runs between bytecodes, so a long call into C (a regex, the HTML parser)
    shows up once, on return, in its Python caller: each tick is charged the CPU time since the
    last one, not one unit, so that caller still gets all the time it took.
    """

    def __init__(self) -> None:
        self.spent: defaultdict[str, float] = defaultdict(float)
        self._last = 0.0

    def __enter__(self) -> Sampler:
        self.spent.clear()
        self._last = time.process_time()
        signal.signal(signal.SIGPROF, self._tick)
        signal.setitimer(signal.ITIMER_PROF, SAMPLE_SECONDS, SAMPLE_SECONDS)
        return self

    def __exit__(self, *exc: object) -> None:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        self._tick(signal.SIGPROF, sys._getframe(1))

    def _tick(self, _signum: int, frame: FrameType | None) -> None:
        now = time.process_time()
        spent, self._last = now - self._last, now
        innermost = None
        while frame is not None:
            if frame.f_code.co_filename.startswith(ARCHIVER_DIR):
                innermost = frame_name(frame.f_code.co_filename, None, frame.f_code.co_name)
                break
            frame = frame.f_back
        self.spent[innermost or "outside archiver"] += spent

    def hottest(self) -> str:
        return max(self.spent, key=self.spent.__getitem__) if self.spent else "?"


# -- in the worker --------------------------------------------------------------------------------


def _run_parse(call: ParseCall) -> Outcome:
    from archiver.errors import ArchiverError
    from archiver.parse import load_profile, parse_capture

    profile = load_profile(call.profile) if call.profile else None
    try:
        page = parse_capture(
            call.data, kind=call.kind, source=call.source, base_url=call.base_url, profile=profile
        )
    except ArchiverError as exc:
        message = str(exc)
        if call.source not in message:
            return Outcome("unclear", f"the error does not name the input: {message!r}"[:300])
        return Outcome("refused", message)
    except Exception as exc:
        return Outcome(
            "crash", f"{type(exc).__name__}: {exc}"[:300], innermost_archiver_frame(exc.__traceback__)
        )
    return Outcome("ok", cards=len(page.cards))


def _run_cli(call: CliCall) -> Outcome:
    from typer.testing import CliRunner

    from archiver.cli import app

    result = CliRunner().invoke(app, call.args, env={"ARCHIVER_DEBUG": "1", "COLUMNS": "200"})
    stderr = result.stderr
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        tb = result.exc_info[2] if result.exc_info else None
        detail = f"{type(exc).__name__}: {exc}"[:300]
        return Outcome(
            "crash", detail, innermost_archiver_frame(tb), exit_code=result.exit_code, stderr=stderr
        )
    if "internal error" in stderr or "Traceback" in result.output:
        return Outcome("crash", stderr.strip()[:300], "cli output", exit_code=result.exit_code, stderr=stderr)
    status = "ok" if result.exit_code == 0 else "refused"
    return Outcome(status, stderr.strip()[:300], exit_code=result.exit_code, stderr=stderr)


def _serve(conn: Connection, dump_path: Path) -> None:
    """The worker's loop: receive a call, run it timed and sampled, send the Outcome back.

    SIGUSR1 makes faulthandler write the Python stack to ``dump_path`` at once, even while the
    call is stuck inside C code (a regex, the HTML parser): the fuzzer asks for it before it
    kills a call that runs too long, to say where it was.
    """
    if sys.platform.startswith("linux"):  # die with the fuzzer, even when it is killed
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    dump = dump_path.open("w")
    faulthandler.enable(file=dump)
    faulthandler.register(signal.SIGUSR1, file=dump, all_threads=False)
    sampler = Sampler()
    while True:
        try:
            call = conn.recv()
        except (EOFError, OSError):
            return
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        with sampler:
            outcome = _run_parse(call) if isinstance(call, ParseCall) else _run_cli(call)
        outcome.cpu = time.process_time() - start_cpu
        outcome.wall = time.perf_counter() - start_wall
        outcome.spent = {k: round(v, 3) for k, v in sampler.spent.items() if v >= SAMPLE_SECONDS}
        if not outcome.where:
            outcome.where = sampler.hottest()
        conn.send(outcome)


#: How often the fuzzer looks at a running call's CPU time.
POLL_SECONDS = 0.1
#: A call is killed after this many wall seconds whatever its CPU time (a call blocked on I/O).
WALL_CAP_SECONDS = 120.0
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class Worker:
    """The fuzzer's handle on its worker process; :meth:`call` never raises for what it runs.

    Limits are in CPU seconds of the worker (read from /proc), so a busy machine makes no call
    look slow. Past ``slow`` seconds the worker's stack is dumped once; when ``known_slow`` says
    that place is already known to be slow, the call is killed there (it failed the same way
    before: no need to watch it for longer), else at ``limit``.
    """

    def __init__(self, scratch: Path, known_slow: Callable[[str], bool], slow: float) -> None:
        self.scratch = scratch
        self.known_slow = known_slow
        self.slow = slow
        self.restarts = 0
        self._start()

    def _start(self) -> None:
        context = multiprocessing.get_context("fork")
        self._conn, child = context.Pipe()
        self._dump = self.scratch / f"worker-{self.restarts}.dump"
        self._process = context.Process(target=_serve, args=(child, self._dump), daemon=True)
        self._process.start()
        child.close()

    def _cpu(self) -> float:
        """CPU seconds the worker has used so far (user + system), or wall time without /proc."""
        try:
            fields = Path(f"/proc/{self._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return time.perf_counter()
        return (int(fields[11]) + int(fields[12])) / _TICKS

    def _dump_stack(self) -> str:
        """Ask the worker for its stack now (SIGUSR1) and return where it is."""
        offset = self._dump.stat().st_size if self._dump.exists() else 0
        if self._process.pid is not None:
            os.kill(self._process.pid, signal.SIGUSR1)
        time.sleep(0.2)
        with self._dump.open(errors="replace") as dump:
            dump.seek(offset)
            return where_in_dump(dump.read())

    def call(self, what: ParseCall | CliCall, limit: float, *, per_page: bool = True) -> Outcome:
        """Run ``what`` in the worker; kill it past ``limit`` CPU seconds (a hang).

        ``per_page`` False (a call over many pages, such as a re-parse) turns off the early kill
        at a known slow place: such a call may be slow there and still finish.
        """
        start_wall, start_cpu = time.perf_counter(), self._cpu()
        where = ""
        try:
            self._conn.send(what)
            while not self._conn.poll(POLL_SECONDS):
                used, wall = self._cpu() - start_cpu, time.perf_counter() - start_wall
                if per_page and used > self.slow and not where:
                    where = self._dump_stack()
                    if self.known_slow(where):
                        break
                if used > limit or wall > WALL_CAP_SECONDS:
                    break
            else:
                outcome: Outcome = self._conn.recv()
                return outcome
            status = "killed"
        except (EOFError, OSError):
            status = "died"
        used, wall = self._cpu() - start_cpu, time.perf_counter() - start_wall
        dump = self._restart()
        if status == "killed":
            detail = f"killed after {used:.1f} s CPU ({wall:.1f} s wall)"
            return Outcome(status, detail, where or where_in_dump(dump), cpu=used, wall=wall)
        return Outcome(status, _death_line(dump), where_in_dump(dump), cpu=used, wall=wall)

    def _restart(self) -> str:
        """Kill the worker (stuck or dead), read its faulthandler dump, start a new one."""
        if self._process.is_alive() and self._process.pid is not None:
            os.kill(self._process.pid, signal.SIGKILL)
        self._process.join()
        self._conn.close()
        dump = self._dump.read_text(errors="replace") if self._dump.exists() else ""
        self._dump.unlink(missing_ok=True)
        self.restarts += 1
        self._start()
        return dump

    def close(self) -> None:
        self._conn.close()
        self._process.join(timeout=5)
        if self._process.is_alive() and self._process.pid is not None:
            os.kill(self._process.pid, signal.SIGKILL)
            self._process.join()


def _death_line(dump: str) -> str:
    first = next((line for line in dump.splitlines() if line.startswith("Fatal Python error")), "")
    return f"the process died: {first or 'no fault dump'}"
