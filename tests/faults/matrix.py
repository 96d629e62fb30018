"""The fault matrix: what each fault test measured, written to ``docs/reliability.md``.

Rows are merged into the existing document by fault id, so running a subset of the suite
updates only the rows it measured; a row never measured says so.

A plain ``pytest`` run never touches the tracked document: it is written only on request,
``IPCVIZ_WRITE_RELIABILITY=1 python -m pytest tests/faults`` or, the same thing,
``python -m tests.faults.matrix --write [PYTEST ARGS]``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "reliability.md"
#: Per-test temporary directories: the same in every run once replaced.
TMP_RE = re.compile(r"/tmp/pytest-of-[^/\s]+/pytest-\d+/[^/\s]*/?")
#: Set to 1 to have a fault run merge its rows into the document.
WRITE_ENV = "IPCVIZ_WRITE_RELIABILITY"
DATA_RE = re.compile(r"<!-- matrix-data\n(.*?)\n-->", re.S)

#: (id, section, fault, expected) in the order the document lists them.
CATALOGUE: list[tuple[str, str, str, str]] = [
    ("normal-end", "Ending a run", "normal end", "exit 0, PASSED, every object removed"),
    ("tui-q", "Ending a run", "`q` in the TUI", "run stops, cleanup (tested by the TUI suite)"),
    ("sigint", "Ending a run", "SIGINT to ipcviz", "run stops cleanly: outcome stopped"),
    ("sigterm", "Ending a run", "SIGTERM to ipcviz", "run stops cleanly: outcome stopped"),
    ("sighup", "Ending a run", "SIGHUP to ipcviz", "run stops cleanly: outcome stopped"),
    (
        "sigkill-cli",
        "Ending a run",
        "SIGKILL to ipcviz",
        "engine sees its viewer gone and cleans up; `ipcviz clean` finds nothing",
    ),
    (
        "sigkill-engine",
        "Ending a run",
        "SIGKILL to the engine",
        "ipcviz says the engine died (exit 2) and cleans; `ipcviz clean` finds nothing",
    ),
    (
        "sigkill-both",
        "Ending a run",
        "SIGKILL to the engine and to ipcviz",
        "objects stay; `ipcviz clean` removes them all",
    ),
    (
        "sigkill-engine-creating",
        "Ending a run",
        "SIGKILL to the engine while it creates objects (20 random moments)",
        "`ipcviz clean` leaves nothing (System V objects found by their registered key)",
    ),
    (
        "cut-line",
        "Ending a run",
        "engine SIGKILLed in the middle of an event line",
        "exit 2, the CLI cleans the session itself",
    ),
    ("worker-sigkill", "Workers", "SIGKILL to a worker", "proc.exit signal SIGKILL, run ends"),
    (
        "worker-sigstop",
        "Workers",
        "SIGSTOP to a worker",
        "whole-run --timeout ends it (exit 1); stopped worker killed",
    ),
    ("worker-exception", "Workers", "exception in a worker", "one-line error naming the worker"),
    (
        "worker-endless",
        "Workers",
        "worker in an endless loop",
        "--timeout: exit 1, `timeout: still running after …`",
    ),
    ("worker-forks", "Workers", "worker forks children", "grandchildren gone after the run"),
    (
        "worker-forks-engine-killed",
        "Workers",
        "worker forks children, engine SIGKILLed",
        "grandchildren gone after `ipcviz clean`",
    ),
    (
        "holder-died-posix-exit",
        "Workers",
        "a worker returns holding a POSIX semaphore, another waits on it",
        "holder.died at once (who, what, the stranded waiter); headless: one line, exit 1",
    ),
    (
        "holder-died-posix-kill",
        "Workers",
        "a worker SIGKILLed holding a POSIX semaphore, another waits on it",
        "holder.died at once; headless: one line, exit 1",
    ),
    (
        "holder-died-sysv-exit",
        "Workers",
        "a worker returns holding a System V semaphore (no SEM_UNDO), another waits on it",
        "holder.died at once; headless: one line, exit 1",
    ),
    (
        "holder-died-sysv-kill",
        "Workers",
        "a worker SIGKILLed holding a System V semaphore (no SEM_UNDO), another waits on it",
        "holder.died at once; headless: one line, exit 1",
    ),
    (
        "holder-handoff",
        "Workers",
        "a lock's taker exits and another process posts it later (a correct program)",
        "never reported: no holder.died, no deadlock, exit 0",
    ),
    (
        "holder-died-tui",
        "Workers",
        "a holder dies in the TUI",
        "a banner and a notification; `g` posts it on the dead holder's behalf, the run goes on",
    ),
    (
        "sem-undo-kill",
        "Workers",
        "a worker SIGKILLed holding a System V semaphore with SEM_UNDO, another waits on it",
        "the kernel gives it back: sem.undo after proc.exit, the waiter gets it, legal history",
    ),
    (
        "sem-undo-exit",
        "Workers",
        "a worker returns holding a System V semaphore with SEM_UNDO",
        "sem.undo after proc.exit, the waiter gets it, legal history",
    ),
    (
        "stdout-epipe",
        "Output and environment",
        "`ipcviz run … --headless | head -1`",
        "exit 0, quiet; the run stops and cleans; the trace ends with session.end",
    ),
    (
        "stdout-full",
        "Output and environment",
        "stdout on /dev/full, or closed",
        "/dev/full: exit 2, one line; closed: runs, exit 0",
    ),
    (
        "data-dir-unusable",
        "Output and environment",
        "XDG_DATA_HOME unusable (a file, read-only), HOME=''",
        "exit 2, one line; HOME='' records under the passwd home, not the cwd",
    ),
    (
        "fd-limit",
        "Output and environment",
        "`ulimit -n` 30…64 with 30 objects and 6 workers",
        "exit 0, or 2 with one line naming the limit; nothing left",
    ),
    (
        "check-exits",
        "Output and environment",
        "a check calls sys.exit(0) after a failed check",
        "exit 2, outcome error: the run is not green",
    ),
    (
        "output-flood",
        "Output and environment",
        "a worker writes 48 MiB to stdout",
        "1 MiB recorded per process, the event says `cut`; the trace stays small",
    ),
    ("syntax-error", "Bad scenarios", "syntax error", "exit 2, one line with file:line"),
    ("import-error", "Bad scenarios", "import error", "exit 2, one line naming the module"),
    ("exits-at-import", "Bad scenarios", "sys.exit() at import", "exit 2, one line with file:line"),
    ("no-processes", "Bad scenarios", "no processes", "exit 2, one line"),
    ("check-raises", "Bad scenarios", "a check raises", "exit 2, one line naming the exception"),
    (
        "full-disk",
        "Resources",
        "recording onto a full disk (64 KiB tmpfs)",
        "run goes on, says recording stopped; trace valid",
    ),
    (
        "fsize-limit",
        "Resources",
        "recording under RLIMIT_FSIZE",
        "no SIGXFSZ death; says recording stopped; trace valid",
    ),
    (
        "forks-300",
        "Resources",
        "a worker forking 300 children one after another",
        "exit 0, trace legal; an ended child holds no descriptor of the engine",
    ),
    (
        "nofile-128-children-100",
        "Resources",
        "`ulimit -n 128`, a worker forking 100 children that stay",
        "exit 2, one line naming `ulimit -n`; nothing left, trace valid",
    ),
    (
        "nproc-limit",
        "Resources",
        "`ulimit -u` 1…9 as nobody (a fork fails at each place in turn: the CLI's, the "
        "engine's, a worker's child)",
        "exit 2, one line naming `ulimit -u`, or exit 0; nothing of nobody's left",
    ),
    (
        "full-shm-sem",
        "Resources",
        "a POSIX semaphore on a full /dev/shm (64 KiB tmpfs)",
        "exit 2, one line (was: internal error)",
    ),
    (
        "full-shm-segment",
        "Resources",
        "shared memory on a full /dev/shm (64 KiB tmpfs)",
        "exit 2, one line",
    ),
    ("mq-queues-max", "Resources", "POSIX queues > queues_max", "exit 2, names queues_max"),
    ("mq-msg-max", "Resources", "POSIX queue depth > msg_max", "exit 2, names msg_max"),
    ("mq-msgsize-max", "Resources", "POSIX message > msgsize_max", "exit 2, names msgsize_max"),
    ("shm-too-big", "Resources", "shared memory > /dev/shm", "exit 2, KernelLimitError line"),
    (
        "other-uid",
        "Security",
        "another uid opens the session's objects",
        "EACCES on shm, sem, queue and FIFO (0600, dir 0700)",
    ),
    (
        "clean-live",
        "Security",
        "`ipcviz clean` during a live run",
        "the live session's objects survive",
    ),
    (
        "clean-other-user",
        "Security",
        "`ipcviz clean` vs another user's objects",
        "never touched",
    ),
    (
        "clean-other-runtime",
        "Security",
        "`ipcviz clean` with another XDG_RUNTIME_DIR, or none, during a live run",
        "the live session's objects and processes survive",
    ),
    (
        "clean-reused-pid",
        "Security",
        "`ipcviz clean` with a dead registry whose pids now belong to another session",
        "that session is never signalled",
    ),
    (
        "clean-sysv-by-key",
        "Security",
        "`ipcviz clean` after a kill between a System V call and its id being written",
        "objects found by key and removed; stale .tmp removed",
    ),
    (
        "clean-sweep",
        "Security",
        "`ipcviz clean` vs ipcviz-named /dev/shm entries with no registry",
        "removed only if no process maps or holds them",
    ),
    (
        "runs-same-second",
        "Security",
        "4 runs of one scenario started at once, no --record",
        "4 complete traces (named by session), 0600 in a 0700 directory",
    ),
    (
        "record-existing",
        "Security",
        "`--record` onto an existing file or a symlink",
        "exit 2 without --force; with it a new 0600 file, a symlink's target untouched",
    ),
    (
        "replay-no-exec",
        "Security",
        "replay of a trace naming a booby-trapped scenario",
        "nothing imported or executed",
    ),
    (
        "hostile-narrator",
        "Security",
        "hostile payloads → headless narrator",
        "no ESC, CSI, BEL, 0x9b in stdout; markup shown literally",
    ),
    ("hostile-export", "Security", "hostile payloads → Perfetto export", "valid JSON, inert"),
    ("hostile-tui", "Security", "hostile payloads → TUI", "inert (tested by the TUI suite)"),
    (
        "made-up-bytes",
        "Security",
        "hostile trace: 50 events each claiming 2 GiB moved with no payload (pipe, queue)",
        "exit 2, one line naming the 64 MiB limit; peak memory bounded",
    ),
]

#: Rows measured by other suites: (glob under tests/, a string the test contains).
REFERENCES = {
    "tui-q": ("tui/test_*.py", "app.return_value == 0"),  # a live run ended by q
    "hostile-tui": ("tui/test_*.py", "hostile"),
}


@dataclass
class Row:
    fault: str
    expected: str
    outcome: str
    leaks: str
    replays: str
    test: str
    measured: str


class Matrix:
    """Collects rows during a session; ``write()`` merges them into the document."""

    def __init__(self) -> None:
        self.rows: dict[str, Row] = {}

    def record(
        self, fault_id: str, test: str, outcome: str, leaks: list[str], replays: str
    ) -> None:
        cat = {c[0]: c for c in CATALOGUE}[fault_id]
        self.rows[fault_id] = Row(
            fault=cat[2],
            expected=cat[3],
            outcome=TMP_RE.sub("TMP/", outcome),
            leaks="none" if not leaks else "; ".join(leaks),
            replays=replays,
            test=test,
            measured=datetime.now(UTC).strftime("%Y-%m-%d"),
        )

    def write(self, doc: Path = DOC) -> None:
        if not self.rows:
            return
        old: dict[str, dict[str, str]] = {}
        if doc.exists():
            m = DATA_RE.search(doc.read_text())
            if m:
                try:
                    old = json.loads(m.group(1))
                except ValueError:
                    old = {}
        merged = {**old, **{k: asdict(v) for k, v in self.rows.items()}}
        for fid, (pattern, needle) in REFERENCES.items():
            ref = _find_reference(pattern, needle)
            if ref and fid not in self.rows:
                cat = {c[0]: c for c in CATALOGUE}[fid]
                merged[fid] = asdict(
                    Row(cat[2], cat[3], "see the referenced test", "(that suite)", "—", ref, "—")
                )
        doc.parent.mkdir(parents=True, exist_ok=True)
        doc.write_text(render(merged))


def _find_reference(pattern: str, needle: str) -> str:
    """``path::test_name`` of the first test function in ``pattern`` containing ``needle``."""
    for path in sorted((ROOT / "tests").glob(pattern)):
        try:
            lines = path.read_text().splitlines()
        except OSError:
            continue
        test = ""
        for line in lines:
            m = re.match(r"(?:async )?def (test_\w+)", line)
            if m:
                test = m.group(1)
            elif test and needle in line:
                return f"{path.relative_to(ROOT)}::{test}"
    return ""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(rows: dict[str, dict[str, str]]) -> str:
    out = [
        "# Reliability: faults, bad input and hostile bytes",
        "",
        "Generated by `tests/faults/` from what each test measured on a real run (real",
        "processes, real kernel objects): do not edit by hand. A plain `pytest` run does",
        "not touch this file; regenerate it on request with",
        "`python -m tests.faults.matrix --write` (runs `tests/faults` with",
        f"`{WRITE_ENV}=1`); a partial run (`python -m tests.faults.matrix --write",
        "tests/faults/test_ending.py`) updates only its own rows.",
        "",
        "*Leaks* lists anything the run left: processes (CLI, engine, workers, their",
        "children), shared memory, semaphores, POSIX and System V queues, FIFOs and their",
        "directory, the session registry. *Replays* says whether `ipcviz replay TRACE",
        "--headless` accepted what was written.",
    ]
    section = ""
    for fid, sec, fault, expected in CATALOGUE:
        if sec != section:
            section = sec
            out += [
                "",
                f"## {sec}",
                "",
                "| fault | expected | measured outcome | leaks | replays | test | measured |",
                "|---|---|---|---|---|---|---|",
            ]
        r = rows.get(fid)
        if r is None:
            out.append(f"| {_cell(fault)} | {_cell(expected)} | not measured yet | | | | |")
            continue
        cells = [r["fault"], r["expected"], r["outcome"], r["leaks"], r["replays"]]
        cells += [f"`{r['test']}`", r["measured"]]
        out.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    out += ["", "<!-- matrix-data", json.dumps(rows, indent=1, sort_keys=True), "-->", ""]
    return "\n".join(out)


def write_requested() -> bool:
    """True when this run was asked to rewrite the document (``IPCVIZ_WRITE_RELIABILITY=1``)."""
    return os.environ.get(WRITE_ENV) == "1"


def main(argv: list[str]) -> int:
    """``python -m tests.faults.matrix --write [PYTEST ARGS]``: measure and rewrite the doc."""
    if not argv or argv[0] != "--write":
        print(
            "usage: python -m tests.faults.matrix --write [PYTEST ARGS] (default: tests/faults)",
            file=sys.stderr,
        )
        return 2
    args = argv[1:] or ["tests/faults"]
    env = {**os.environ, WRITE_ENV: "1"}
    return subprocess.call([sys.executable, "-m", "pytest", "-q", *args], cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
