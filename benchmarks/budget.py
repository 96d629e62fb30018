"""What #14's speed targets leave for Python per event, measured side by side in one run.

    python benchmarks/budget.py [--rounds N] [--repeat K]

Both targets are rates, so each is a budget of CPU per event. This prints, for a real
recording of ``tests/truth/sem64.py`` (64 processes on one semaphore):

* **replay** (target 500,000 events per CPU-second of ``ipcviz replay --headless``, start
  to exit): the interpreter's start, ipcviz's imports, reading the lines, decoding them
  (ipcviz's own decoder, and ``json.loads`` for reference), each run as its own process
  and subtracted in turn; what is left of the budget for checking, folding and narrating
  each event, against what the real replay takes for it now.
* **live** (target 200,000 events per wall-second, start to exit, on this 2-core machine):
  the CPU per event of each process class of a real run, read from ``/proc`` at the
  engine's ``session.end`` (the engine's own time, and its reaped workers' ``cutime``),
  and the headless viewer's per-event work on the recorded lines. At 200,000 events/s the
  engine, one thread, has 5 us per event; all three together have 10 us (two cores, if
  nothing else ran and nothing ever waited).

Numbers are CPU seconds (user + system), best of ``--repeat`` runs, alternated.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
)

REPLAY_TARGET = 500_000  # events per CPU-second
LIVE_TARGET = 200_000  # events per wall-second, two cores

# Each step of the replay floor, as a program over the trace (argv[1]); each includes the
# ones before it, so the differences are what each step adds.
FLOOR = {
    "start the interpreter": "",
    "import what replay imports": "import ipcviz.cli, ipcviz.replay.headless, "
    "ipcviz.narrate.headless, ipcviz.model.verify, ipcviz.events.trace",
    "read the lines": "import ipcviz.cli, ipcviz.replay.headless, ipcviz.narrate.headless, "
    "ipcviz.model.verify, ipcviz.events.trace\n"
    "import sys\nfor line in open(sys.argv[1], 'rb'): pass",
    "decode them (ipcviz's decoder)": "import ipcviz.cli, ipcviz.replay.headless, "
    "ipcviz.narrate.headless, ipcviz.model.verify, ipcviz.events.trace\n"
    "import sys\nfrom ipcviz.events.codec import decode_line\n"
    "for line in open(sys.argv[1], 'rb'): decode_line(line)",
}
JSON_ONLY = "import json, sys\nfor line in open(sys.argv[1], 'rb'): json.loads(line)"


def _cpu(cmd: list[str]) -> float:
    """CPU seconds (user + system) of ``cmd`` run to the end, its output discarded."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        cwd=ROOT, check=True,
    )  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def _record(rounds: int, trace: Path) -> None:
    scenario = ROOT / "tests" / "truth" / "sem64.py"
    _cpu([sys.executable, "-m", "ipcviz", "run", str(scenario), "--headless",
          "--set", f"rounds={rounds}", "--record", str(trace)])  # fmt: skip


def _events(trace: Path) -> int:
    with trace.open("rb") as f:
        return sum(1 for _ in f) - 1  # the header is not an event


def replay_budget(trace: Path, repeat: int) -> list[tuple[str, float]]:
    """(step, CPU seconds) of the replay floor's steps and of the replay itself."""
    cmds = {name: [sys.executable, "-c", code, str(trace)] for name, code in FLOOR.items()}
    cmds["json.loads instead (reference)"] = [sys.executable, "-c", JSON_ONLY, str(trace)]
    cmds["ipcviz replay --headless"] = [
        sys.executable, "-m", "ipcviz", "replay", str(trace), "--headless",
    ]  # fmt: skip
    best = dict.fromkeys(cmds, float("inf"))
    for _ in range(repeat):
        for name, cmd in cmds.items():
            best[name] = min(best[name], _cpu(cmd))
    return list(best.items())


def _stat(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat", "rb") as f:
        return f.read().rsplit(b")", 1)[1].decode("ascii").split()


def live_parts(scenario: Path, trace: Path) -> tuple[float, float]:
    """(engine, workers) CPU seconds per event of one run, read at ``session.end`` from
    ``/proc``: the engine's utime + stime and the cutime + cstime of the workers it reaped."""
    from ipcviz.engine.client import EngineProcess

    engine = EngineProcess(scenario, trace, timeout=300)
    assert engine.proc.stdout is not None
    tick = os.sysconf("SC_CLK_TCK")
    own = children = 0.0
    while chunk := engine.proc.stdout.read1(1 << 20):  # read raw: never the bottleneck
        if b'"kind":"session.end"' in chunk:
            fields = _stat(engine.proc.pid)  # still alive: it exits after the last flush
            own = (int(fields[11]) + int(fields[12])) / tick
            children = (int(fields[13]) + int(fields[14])) / tick
    engine.wait()
    engine.close()
    n = _events(trace)
    return own / n, children / n


def viewer_cpu(trace: Path) -> float:
    """CPU seconds of the headless viewer's per-event work on the recorded lines."""
    sys.path.insert(0, str(HERE))
    from run import _viewer_cpu  # the same measure as run.py's e2e_viewer_cpu_us_per_event

    return _viewer_cpu(trace)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=500, help="sem64 rounds (500: ~128k events)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ipcviz-budget-") as tmp:
        trace = Path(tmp) / "sem64.jsonl"
        _record(args.rounds, trace)
        n = _events(trace)
        budget = n / REPLAY_TARGET
        print(f"replay of {n:,} events: the target ({REPLAY_TARGET:,}/s) allows "
              f"{budget:.3f} s of CPU, {1e6 / REPLAY_TARGET:.2f} us per event")  # fmt: skip
        before = 0.0
        steps = replay_budget(trace, args.repeat)
        for name, cpu in steps:
            adds = cpu - before if name in FLOOR else cpu
            print(f"  {name:<34} {cpu:7.3f} s   (+{adds:.3f} s, {adds / n * 1e6:5.2f} us/event)")
            if name in FLOOR:
                before = cpu
        replay = dict(steps)["ipcviz replay --headless"]
        left = budget - before
        print(f"  left for checking, folding and narrating: {left:.3f} s, "
              f"{left / n * 1e6:.2f} us/event; taken now: {replay - before:.3f} s, "
              f"{(replay - before) / n * 1e6:.2f} us/event "
              f"({(replay - before) / max(left, 1e-9):.1f}x the budget)")  # fmt: skip

        scen = Path(tmp) / "sem64.py"
        src = (ROOT / "tests" / "truth" / "sem64.py").read_text()
        scen.write_text(src.replace('params={"rounds": 20}', f'params={{"rounds": {args.rounds}}}'))
        parts = [live_parts(scen, Path(tmp) / f"live{k}.jsonl") for k in range(args.repeat)]
        engine = min(p[0] for p in parts)  # CPU seconds per event
        workers = min(p[1] for p in parts)
        viewer = min(viewer_cpu(trace) for _ in range(args.repeat)) / n
        print(f"live run of {n:,} events: the target ({LIVE_TARGET:,}/s wall, 2 cores) "
              f"allows the engine {1e6 / LIVE_TARGET:.1f} us per event and all processes "
              f"{2e6 / LIVE_TARGET:.1f} us per event together")  # fmt: skip
        for name, cpu in (("engine", engine), ("workers (64)", workers), ("viewer", viewer)):
            print(f"  {name:<14} {cpu * 1e6:6.2f} us/event")
        total = engine + workers + viewer
        print(f"  {'together':<14} {total * 1e6:6.2f} us/event "
              f"({total * LIVE_TARGET / 2:.1f}x the budget; the engine alone "
              f"{engine * LIVE_TARGET:.1f}x its own)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
