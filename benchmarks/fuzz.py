"""Fuzz archiver for a set time: hostile pages and random capture sequences, via its API and CLI.

    .venv/bin/python benchmarks/fuzz.py --minutes 20 [--seed N] [--out DIR] [--kinds K,K]
    nice -n 10 .venv/bin/python benchmarks/fuzz.py --minutes 2     # a smoke run

Not part of the test suite (pytest collects only tests/): it runs for as long as it is told and
stops by itself (the last round's shrinking and replays may add a few seconds). Hypothesis
generates the inputs, in rounds of 20 to 60 seconds per kind, cycling through the kinds:

* pages (``bytes``, ``text``, ``mutated``, ``html``, ``textcap``; see benchmarks/fuzz_pages.py):
  each is given to ``archiver.parse.parse_capture`` three ways (HTML without a profile, HTML
  with the fixture profile, text) and to ``archiver import`` into a real SQLite archive (one per
  round, whose invariants are checked and which is re-parsed at the end of the round). The
  ``mutated`` pages start from the fixtures and from the real pages in ../shared/corpus, read
  from there at run time (``--corpus`` names another folder);
* ``story``: a random sequence of captures of a small synthetic blog (benchmarks/fuzz_blog.py),
  imported one by one with ``archiver import FILE --base-url --captured-at`` into one archive,
  its invariants checked with SQL after every import (integrity_check; versions 1..n with n
  current; no card lost, no posts merged; the current version is what the newest capture
  showed; versions in time order; seen counts add up to the captures' cards; FTS5's own check
  and every current version found by a trigram of its title and excerpt; ``archiver reparse``
  of a copy gives the same entries and versions).

A failure is: any exception other than an ArchiverError (or "internal error" / a traceback from
the CLI), an error that does not name the input, a broken invariant, or a page taking more than
2 CPU seconds in one parse or import. Calls run in a worker process (benchmarks/fuzz_worker.py)
that is killed past 5 CPU seconds, or at 2 when the place it is stuck in is known to be slow.
Each distinct failure (its kind and the archiver function where it happened) is shrunk by
Hypothesis once (60 s at most); its smallest input is saved in ``--out`` (default: a new
temporary folder) with a ``repro.sh`` that replays it through the real CLI, replayed once to
confirm it.

At the end it prints: inputs tried per kind, calls by outcome, the maximum, 99th percentile and
median CPU (and wall) seconds per page, each distinct failure (how often, one line, its
reproducer and what the replay showed), and the time taken. Exit status 1 when anything failed.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import fuzz_blog as blog  # noqa: E402
import fuzz_pages as pages  # noqa: E402
from fuzz_worker import CliCall, Outcome, ParseCall, Worker  # noqa: E402
from hypothesis import HealthCheck, Phase, Verbosity, given, settings  # noqa: E402
from hypothesis import seed as hypothesis_seed  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.errors import HypothesisWarning  # noqa: E402

import archiver.cli  # noqa: E402, F401  (imported here so that every forked worker starts warm)

#: The promise under test: no page takes longer than this in one parse or import (CPU seconds).
SLOW_SECONDS = 2.0
#: A call past this many CPU seconds is killed: it has failed already, and a hang must not stall
#: the run (2.5 x the promise shows by how much a page is slow; known slow places are killed at
#: the promise itself, see fuzz_worker.Worker).
KILL_SECONDS = 5.0
#: While Hypothesis shrinks a failure, a call is killed sooner: it only has to stay slow.
SHRINK_KILL_SECONDS = 3.0
#: CPU seconds a re-parse of a whole archive may take (it re-reads every page of a round).
REPARSE_SECONDS = 60.0
#: Wall seconds repro.sh may run when a reproducer is replayed with the real CLI.
CONFIRM_SECONDS = 15.0
#: Time Hypothesis may spend shrinking the failures of one round.
SHRINK_SECONDS = 60.0
#: Seconds of one round per unit of a kind's weight; rounds cycle through the kinds.
ROUND_SECONDS = 20.0
PROFILE = ROOT / "fixtures" / "site" / "profile.toml"
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
KIND_WEIGHTS = {"bytes": 1, "text": 1, "mutated": 2, "html": 2, "textcap": 1, "story": 3}


@dataclass(slots=True)
class Finding:
    """One failure seen on one input."""

    signature: str
    detail: str
    op: str
    #: the CLI command that replays it on the saved input (pages); None: the Repro's (stories)
    command: list[str] | None = None


@dataclass(slots=True)
class Repro:
    """The smallest input seen to fail one way: files to write and commands to replay them."""

    size: int
    files: dict[str, bytes]
    commands: list[list[str]]
    detail: str
    #: for a story, what the check of the archive should find after the commands
    story_steps: list[blog.Step] | None = None


@dataclass(slots=True)
class Failure:
    signature: str
    kinds: set[str] = field(default_factory=set)
    ops: set[str] = field(default_factory=set)
    count: int = 0
    best: Repro | None = None
    saved: Path | None = None
    dirty: bool = False
    confirmed: str = ""


@dataclass(slots=True)
class Figures:
    tried: Counter[str] = field(default_factory=Counter)
    #: of those, inputs Hypothesis tried while shrinking a failure
    shrinking: Counter[str] = field(default_factory=Counter)
    statuses: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    cpu: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    wall: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    slowest: dict[str, tuple[float, str]] = field(default_factory=dict)
    failures: dict[str, Failure] = field(default_factory=dict)
    rounds: int = 0


class Fuzzer:
    """Runs the rounds, judges every outcome, keeps the figures and the smallest reproducers."""

    def __init__(self, args: argparse.Namespace, scratch: Path) -> None:
        self.out: Path = args.out
        self.scratch = scratch
        self.seed: int = args.seed
        self.deadline = time.monotonic() + args.minutes * 60
        self.worker = Worker(scratch, self.known_slow, SLOW_SECONDS)
        self.figures = Figures()
        self.sources = pages.load_sources(args.corpus)
        self.corpus_pages = len(list(args.corpus.glob("*/page*.html"))) if args.corpus.is_dir() else 0
        self.kinds: list[str] = args.kinds
        self.started = time.monotonic()
        self.spent: defaultdict[str, float] = defaultdict(float)
        self.known: set[str] = set()
        self.kill_limit = KILL_SECONDS
        self.page_db = scratch / "pages.db"
        self.imports = 0
        self.strategies: dict[str, st.SearchStrategy[Any]] = {
            "bytes": pages.arbitrary_bytes(),
            "text": pages.arbitrary_text(),
            "mutated": pages.mutated_pages(self.sources),
            "html": pages.hostile_html(),
            "textcap": pages.hostile_text(),
            "story": blog.stories(),
        }

    # -- calls and judgement ----------------------------------------------------------------------

    def known_slow(self, where: str) -> bool:
        """Whether ``where`` was seen slow before (this round too): such a call is killed at once."""
        return self.slow_signature(where) in self.figures.failures

    @staticmethod
    def slow_signature(where: str) -> str:
        return f"over {SLOW_SECONDS:.0f} s a page in {where}"

    def call(self, op: str, what: ParseCall | CliCall, limit: float | None = None) -> Outcome:
        """Run one call in the worker and count its outcome and time (``limit``: a whole archive)."""
        outcome = self.worker.call(what, limit or self.kill_limit, per_page=limit is None)
        family = "import" if op.startswith("import") else "parse" if op.startswith("parse") else op
        self.figures.statuses[op][outcome.status] += 1
        self.figures.cpu[family].append(outcome.cpu)
        self.figures.wall[family].append(outcome.wall)
        if outcome.cpu > self.figures.slowest.get(family, (0.0, ""))[0]:
            self.figures.slowest[family] = (outcome.cpu, f"{op}, {outcome.where}")
        return outcome

    @classmethod
    def judge(cls, op: str, outcome: Outcome, source: str | None = None) -> Finding | None:
        """The failure ``outcome`` shows, if any; ``source`` is the file an error must name."""
        where = re.sub(r":\d+ ", " ", outcome.where)
        if outcome.status == "crash":
            kind = outcome.detail.split(":")[0] if ":" in outcome.detail else "crash"
            return Finding(f"{kind} in {where}", outcome.detail, op)
        if outcome.status == "died":
            return Finding(f"worker died in {where}", outcome.detail, op)
        if outcome.status == "killed" or outcome.cpu > SLOW_SECONDS:
            seconds = outcome.detail if outcome.status == "killed" else f"{outcome.cpu:.1f} s CPU"
            return Finding(cls.slow_signature(where), f"{seconds} ({op})", op)
        if outcome.status == "unclear":
            return Finding(f"error without the input's name in {op}", outcome.detail, op)
        if outcome.status == "refused" and source is not None and source not in outcome.stderr:
            return Finding(f"error without the file's name in {op}", outcome.stderr.strip()[:200], op)
        return None

    # -- pages ------------------------------------------------------------------------------------

    def run_page(self, page: pages.Page) -> tuple[list[Finding], Repro]:
        """``page`` through the three parsers and one import into the round's archive."""
        findings: list[Finding] = []
        ext = "html" if page.kind == "html" else "txt"
        repro = Repro(len(page.data), {"input.html": page.data, "input.txt": page.data}, [], page.describe())
        base = ["--base-url", pages.BASE_URL]
        for op, call, command in (
            ("parse html", ParseCall(page.data, "html", None, pages.BASE_URL), ["input.html", *base]),
            (
                "parse html --profile",
                ParseCall(page.data, "html", PROFILE, pages.BASE_URL),
                ["input.html", *base, "--profile", str(PROFILE)],
            ),
            ("parse text", ParseCall(page.data, "text", None, None), ["input.txt"]),
        ):
            outcome = self.call(op, call)
            if finding := self.judge(op, outcome):
                finding.command = ["parse", *command, "--format", "jsonl"]
                findings.append(finding)
            if outcome.status in ("killed", "died"):
                return findings, repro
        self.imports += 1
        path = self.scratch / "pages" / f"p{self.imports % 50:02d}.{ext}"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(page.data)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1767225600 + self.imports * 60))
        args = [
            "import",
            str(path),
            "--db",
            str(self.page_db),
            "--base-url",
            pages.BASE_URL,
            "--captured-at",
            stamp,
        ]
        outcome = self.call("import", CliCall([*args, "-q"]))
        if finding := self.judge("import", outcome, source=path.name):
            finding.command = ["import", f"input.{ext}", "--db", "repro.db", "--base-url", pages.BASE_URL]
            findings.append(finding)
        return findings, repro

    def check_page_archive(self) -> None:
        """End of a pages round: the round's archive keeps its invariants and re-parses the same."""
        if not self.page_db.exists():
            return
        problems = []
        with closing(sqlite3.connect(f"file:{self.page_db}?mode=ro", uri=True)) as conn:
            ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
            if ok != "ok":
                problems.append(("integrity_check is ok", ok))
            problems += blog.check_versions(conn) + blog.check_search(conn)
        problems += self.reparse_problems(self.page_db, "reparse of the pages archive")
        for name, detail in problems:
            with (
                closing(sqlite3.connect(self.page_db)) as source,
                closing(sqlite3.connect(":memory:")) as copy,
            ):
                source.backup(copy)
                data = copy.serialize()
            repro = Repro(0, {"archive.db": data}, [["reparse", "--db", "archive.db"]], detail)
            self.record("pages archive", Finding(f"invariant: {name}", detail, "archive checks"), repro)
        self.page_db.unlink()
        for suffix in ("-wal", "-shm"):
            Path(f"{self.page_db}{suffix}").unlink(missing_ok=True)

    def reparse_problems(self, db: Path, op: str) -> list[tuple[str, str]]:
        """Run ``archiver reparse`` on a copy of ``db``; it must give the same entries and versions."""
        copy = db.with_name(db.stem + "-reparsed.db")
        copy.unlink(missing_ok=True)
        problems: list[tuple[str, str]] = []
        if message := blog.fts_integrity(db, copy):
            problems.append(("FTS5 integrity-check passes", message))
            return problems
        outcome = self.call("reparse", CliCall(["reparse", "--db", str(copy), "-q"]), limit=REPARSE_SECONDS)
        if outcome.status != "ok":
            problems.append(("reparse works on an archive it made", f"{outcome.status}: {outcome.detail}"))
        elif (before := blog.snapshot(db)) != (after := blog.snapshot(copy)):
            problems.append(
                ("reparse gives the same entries and versions", blog.first_difference(before, after))
            )
        return problems

    # -- stories ----------------------------------------------------------------------------------

    def run_story(self, story: blog.Story) -> tuple[list[Finding], Repro]:
        steps = blog.import_steps(story)
        folder = self.scratch / "story"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        db = folder / "archive.db"
        files: dict[str, bytes] = {"profile.toml": blog.PROFILE_TOML.encode()}
        (folder / "profile.toml").write_bytes(files["profile.toml"])
        commands: list[list[str]] = []
        for number, step in enumerate(steps, 1):
            files[step.name] = step.data
            (folder / step.name).write_bytes(step.data)
            args = ["import", step.name, "--db", "archive.db", "--base-url", step.url]
            args += ["--captured-at", step.captured_at, "--profile", "profile.toml"]
            commands.append(args)
            repro = Repro(
                story.size() + number, dict(files), list(commands), f"{number} imports", steps[:number]
            )
            here = [str(folder / a) if a.endswith((".html", ".db", ".toml")) else a for a in args]
            outcome = self.call("import (story)", CliCall([*here, "-q"]))
            finding = self.judge("import (story)", outcome, source=step.name)
            if finding is None and outcome.status != "ok":
                finding = Finding("a valid capture is refused", outcome.detail, "import (story)")
            if finding is not None:
                return [finding], repro
            problems = blog.check_archive(db, steps[:number])
            problems += self.reparse_problems(db, "reparse (story)")
            if problems:
                return [
                    Finding(f"invariant: {name}", f"after {step.label}: {d}", "checks")
                    for name, d in problems
                ], repro
        return [], Repro(0, files, commands, "")

    # -- recording --------------------------------------------------------------------------------

    def record(self, kind: str, finding: Finding, repro: Repro) -> bool:
        """Count ``finding``; keep ``repro`` if it is the smallest so far. True when it is new."""
        failure = self.figures.failures.setdefault(finding.signature, Failure(finding.signature))
        failure.count += 1
        failure.kinds.add(kind)
        failure.ops.add(finding.op)
        if failure.best is None or repro.size < failure.best.size:
            commands = [finding.command] if finding.command else repro.commands
            failure.best = replace(repro, commands=commands, detail=f"{finding.detail} [{repro.detail}]")
            failure.dirty = True
        return finding.signature not in self.known

    def run_round(self, kind: str, number: int) -> None:
        """One Hypothesis run of ``kind`` for its share of time, shrinking what it finds."""
        runner: Callable[[Any], tuple[list[Finding], Repro]] = (
            self.run_story if kind == "story" else self.run_page
        )
        seconds = min(ROUND_SECONDS * KIND_WEIGHTS[kind], self.deadline - time.monotonic())
        round_end = time.monotonic() + seconds
        per_example = 0.5 if kind == "story" else 0.03
        generated = self.figures.tried[kind] - self.figures.shrinking[kind]
        if generated:  # what an input costs while generating (shrinking a hang costs far more)
            per_example = self.spent[kind] / generated
        shrink = {"until": 0.0}

        def body(value: Any) -> None:
            now = time.monotonic()
            if now > (shrink["until"] or round_end) or now > self.deadline:
                return
            started = time.monotonic()
            findings, repro = runner(value)
            self.figures.tried[kind] += 1
            self.figures.shrinking[kind] += bool(shrink["until"])
            if not shrink["until"]:
                self.spent[kind] += time.monotonic() - started
            new = [f.signature for f in findings if self.record(kind, f, repro)]
            if new:
                if not shrink["until"]:
                    shrink["until"] = now + SHRINK_SECONDS
                    self.kill_limit = SHRINK_KILL_SECONDS
                raise failure_type(new[0])(new[0])

        test = settings(
            # enough for the round's time at the usual pace; the body stops at the round's end
            max_examples=max(5, int(seconds / max(per_example, 0.005) * 2)),
            database=None,
            deadline=None,
            derandomize=False,
            phases=[Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
            verbosity=Verbosity.quiet,
            report_multiple_bugs=True,
        )(given(self.strategies[kind])(body))
        try:
            hypothesis_seed(self.seed * 1000 + number)(test)()
        except Exception:
            pass
        finally:
            self.kill_limit = KILL_SECONDS
        self.known.update(self.figures.failures)
        if kind != "story":
            self.check_page_archive()
        self.save_reproducers()

    # -- reproducers ------------------------------------------------------------------------------

    def save_reproducers(self) -> None:
        for number, failure in enumerate(self.figures.failures.values(), 1):
            if not failure.dirty or failure.best is None:
                continue
            failure.dirty = False
            slug = re.sub(r"[^a-z0-9]+", "-", failure.signature.lower()).strip("-")[:60]
            folder = failure.saved or self.out / f"{number:02d}-{slug}"
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            failure.saved = folder
            write_reproducer(folder, failure)
            failure.confirmed = confirm(folder, failure)

    def run(self) -> None:
        kinds = [k for k in KIND_WEIGHTS if k in self.kinds]
        number = 0
        while time.monotonic() < self.deadline - 5:
            kind = kinds[number % len(kinds)]
            number += 1
            self.run_round(kind, number)
            self.figures.rounds = number
            elapsed = (time.monotonic() - self.started) / 60
            print(
                f"[{elapsed:5.1f} min] round {number} {kind}: {self.figures.tried[kind]} inputs so far, "
                f"{len(self.figures.failures)} distinct failures",
                flush=True,
            )


_FAILURE_TYPES: dict[str, type[Exception]] = {}


def failure_type(signature: str) -> type[Exception]:
    """One exception class per failure: Hypothesis shrinks each distinct class on its own."""
    if signature not in _FAILURE_TYPES:
        _FAILURE_TYPES[signature] = type(f"FuzzFailure{len(_FAILURE_TYPES)}", (Exception,), {})
    return _FAILURE_TYPES[signature]


def write_reproducer(folder: Path, failure: Failure) -> None:
    """The input files, a repro.sh that replays them through the real CLI, and a README."""
    best = failure.best
    assert best is not None
    used = {arg for command in best.commands for arg in command}
    for name, data in best.files.items():
        if name in used:
            (folder / name).write_bytes(data)
    lines = [
        "#!/bin/sh",
        f"# {failure.signature}",
        f"# {best.detail[:300]}",
        'cd "$(dirname "$0")"',
        f'ARCHIVER="${{ARCHIVER:-{sys.executable} -m archiver}}"',
        f'export PYTHONPATH="{ROOT}${{PYTHONPATH:+:$PYTHONPATH}}"',
        "rm -f repro.db repro.db-wal repro.db-shm archive.db-wal archive.db-shm",
    ]
    if best.story_steps is not None:
        lines.append("rm -f archive.db")
    for command in best.commands:
        lines.append("$ARCHIVER " + " ".join(_quote(a) for a in command))
    (folder / "repro.sh").write_text("\n".join(lines) + "\n")
    (folder / "repro.sh").chmod(0o755)
    (folder / "README.txt").write_text(
        f"{failure.signature}\nseen {failure.count} times, in {', '.join(sorted(failure.kinds))} "
        f"({', '.join(sorted(failure.ops))})\n{best.detail}\n"
    )


def _quote(arg: str) -> str:
    return arg if re.fullmatch(r"[\w./:=@+-]+", arg) else "'" + arg.replace("'", "'\\''") + "'"


def confirm(folder: Path, failure: Failure) -> str:
    """Replay repro.sh with the real CLI: what a user sees (exit status, time, last stderr line)."""
    started = time.monotonic()
    with subprocess.Popen(
        ["sh", "repro.sh"], cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    ) as process:  # fmt: skip
        try:
            _, stderr = process.communicate(timeout=CONFIRM_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the shell and the archiver it started
            process.communicate()
            return f"repro.sh: still running after {CONFIRM_SECONDS:.0f} s (stopped)"
    seconds = time.monotonic() - started
    last = (stderr.strip().splitlines() or [""])[-1][:200]
    verdict = f"repro.sh: exit {process.returncode} in {seconds:.1f} s; {last}"
    best = failure.best
    if best is not None and best.story_steps is not None and (folder / "archive.db").exists():
        problems = blog.check_archive(folder / "archive.db", best.story_steps)
        names = sorted({name for name, _ in problems})
        verdict += f"; checks after it: {', '.join(names) if names else 'all pass (not reproduced)'}"
    return verdict


# -- the report -----------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(fuzzer: Fuzzer, elapsed: float) -> int:
    figures = fuzzer.figures
    print(f"\nfuzz: seed {fuzzer.seed}, {figures.rounds} rounds, {elapsed / 60:.1f} min")
    print(
        f"inputs tried: {sum(figures.tried.values())} (in brackets: of them, tried while shrinking a failure)"
    )
    for kind in KIND_WEIGHTS:
        if kind in figures.tried:
            print(f"  {kind:8} {figures.tried[kind]:6} ({figures.shrinking[kind]})")
    print("calls (by outcome):")
    for op, statuses in sorted(figures.statuses.items()):
        print(
            f"  {op:22} {sum(statuses.values()):6}  "
            + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
        )
    print("time per page (reparse: per archive), CPU s (wall s): max, 99th percentile, median")
    for family in ("parse", "import", "reparse"):
        cpu, wall = figures.cpu.get(family, []), figures.wall.get(family, [])
        if cpu:
            print(
                f"  {family:8} n={len(cpu):6}  max {max(cpu):.3f} ({max(wall):.3f})  "
                f"p99 {percentile(cpu, 0.99):.3f} ({percentile(wall, 0.99):.3f})  "
                f"median {statistics.median(cpu):.4f}  slowest: {figures.slowest.get(family, (0, ''))[1]}"
            )
    print(f"worker restarts (hangs and deaths): {fuzzer.worker.restarts}")
    print(f"failures: {len(figures.failures)} distinct, reproducers in {fuzzer.out}")
    for number, failure in enumerate(sorted(figures.failures.values(), key=lambda f: -f.count), 1):
        best = failure.best
        print(f"  {number}. {failure.signature}  [{failure.count} x; {', '.join(sorted(failure.kinds))}]")
        if best is not None:
            print(f"     {best.detail[:400]}")
        print(f"     {failure.saved}  {failure.confirmed}")
    return 1 if figures.failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=20.0, help="how long to fuzz (default 20)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the inputs (default: random)")
    parser.add_argument("--out", type=Path, default=None, help="folder for reproducers (default: a temp dir)")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="real pages to mutate")
    parser.add_argument("--kinds", default=",".join(KIND_WEIGHTS), help="kinds of input to run")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=HypothesisWarning)  # "overly large repr" of big pages
    args.seed = args.seed if args.seed is not None else random.randrange(10**6)
    args.out = args.out or Path(tempfile.mkdtemp(prefix="archiver-fuzz-"))
    args.out.mkdir(parents=True, exist_ok=True)
    args.kinds = args.kinds.split(",")
    if unknown := set(args.kinds) - set(KIND_WEIGHTS):
        parser.error(f"--kinds: unknown {', '.join(sorted(unknown))} (known: {', '.join(KIND_WEIGHTS)})")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="archiver-fuzz-work-") as scratch:
        fuzzer = Fuzzer(args, Path(scratch))
        print(
            f"fuzzing for {args.minutes} min, seed {args.seed}, {len(fuzzer.sources)} real pages "
            f"({fuzzer.corpus_pages} from {args.corpus}), reproducers in {args.out}",
            flush=True,
        )
        try:
            fuzzer.run()
        finally:
            fuzzer.worker.close()
        return report(fuzzer, time.monotonic() - started)


if __name__ == "__main__":
    sys.exit(main())
