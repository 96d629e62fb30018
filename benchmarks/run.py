"""ipcviz benchmarks: ``python benchmarks/run.py [--quick] [--json PATH]``.

Every number is a ratio against a baseline measured side by side in the same run, or a rate
measured on the real code path, never a timing assertion in a test (these machines are
noisy). Each benchmark names its target; results go to the table and, with --json, to
``{name: {"value": ..., "unit": ..., "target": ...}}``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import importlib
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
# Every process a benchmark starts runs the code beside it, not an installed ipcviz: the
# benchmarks of an older checkout measure that checkout (side by side with this one).
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(HERE.parent), os.environ.get("PYTHONPATH", "")) if p
)

Result = dict[str, dict[str, object]]


def _engine_pingpong(scenario: Path, traced: bool) -> float:
    """Seconds the ping worker took for its round trips, run by the real engine."""
    from ipcviz.engine.client import EngineProcess

    trace = scenario.with_suffix(".traced.jsonl" if traced else ".raw.jsonl")
    engine = EngineProcess(scenario, trace, timeout=300, traced=traced)
    assert engine.proc.stdout is not None
    while engine.proc.stdout.read1(1 << 20):  # read raw: the reader must not be the cost
        pass
    engine.wait()
    engine.close()
    with trace.open() as f:
        for line in f:
            if '"kind":"proc.output"' in line:
                text = base64.b64decode(json.loads(line)["data"]).decode()
                for word in text.split("\n"):
                    if word.startswith("pingpong_seconds "):
                        return float(word.split()[1])
    raise RuntimeError(f"the ping-pong run reported no time (see {trace})")


@contextlib.contextmanager
def _cpus_kept_awake() -> Iterator[None]:
    """A SCHED_IDLE spinner per CPU for the duration: it runs only when nothing else wants
    the CPU, so no core drops into an idle state between two hops of the ping-pong. Without
    it a busy engine *speeds up* the traced run (it keeps the cores awake) and the ratio
    measures power states, not tracing."""
    spinners = []
    for cpu in sorted(os.sched_getaffinity(0)):
        pid = os.fork()
        if pid == 0:
            try:
                os.sched_setaffinity(0, {cpu})
                os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
                while True:
                    pass
            finally:
                os._exit(0)
        spinners.append(pid)
    try:
        yield
    finally:
        for pid in spinners:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def bench_tracer(quick: bool) -> Result:
    """Ping-pong over two pipes between two pinned workers, run by the real engine: traced
    (rings, drain, model, analyses, probes, trace file) vs the identical scenario with
    ``--no-trace``; pairs interleaved, median of the per-pair ratios."""
    rounds = 5000 if quick else 20000
    pairs = 3 if quick else 7
    src = HERE / "pingpong_scenario.py"
    ratios, raws = [], []
    with tempfile.TemporaryDirectory() as tmp, _cpus_kept_awake():
        scen = Path(tmp) / "pingpong.py"
        scen.write_text(src.read_text().replace('"rounds": 20000', f'"rounds": {rounds}'))
        for _ in range(pairs):
            raw = _engine_pingpong(scen, traced=False)
            traced = _engine_pingpong(scen, traced=True)
            ratios.append(traced / raw)
            raws.append(raw)
    result: Result = {
        "tracer_overhead_ratio": {
            "value": round(statistics.median(ratios), 3),
            "unit": "x untraced (real engine)",
            "target": "<= 1.3",
        },
        "tracer_overhead_ratio_worst": {
            "value": round(max(ratios), 3),
            "unit": f"x untraced (worst of {pairs})",
            "target": "-",
        },
        "pingpong_round_trip_us": {
            "value": round(statistics.median(raws) / rounds * 1e6, 1),
            "unit": "us (untraced, reference)",
            "target": "-",
        },
    }
    if shutil.which("strace"):
        script = [sys.executable, str(HERE / "pingpong.py"), "raw", str(rounds)]
        plain, traced_s = [], []
        for _ in range(2 if quick else 3):
            plain.append(
                float(subprocess.run(script, capture_output=True, text=True, check=True).stdout)
            )
            out = subprocess.run(
                ["strace", "-f", "-o", "/dev/null", *script],
                capture_output=True,
                text=True,
                check=True,
            )
            traced_s.append(float(out.stdout))
        result["strace_overhead_ratio"] = {
            "value": round(statistics.median(traced_s) / statistics.median(plain), 2),
            "unit": "x raw (reference: strace -f)",
            "target": "-",
        }
    return result


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_engine(quick: bool) -> Result:
    """Events the real engine drains, encodes, applies and records per second of its own CPU
    time, with none lost. Workers flood shared memory from one CPU, the engine has the other;
    its stream is read raw (not parsed) so the reader is never the bottleneck."""
    from ipcviz.engine.client import EngineProcess

    writes = 150000 if quick else 400000
    src = HERE / "flood_scenario.py"
    with tempfile.TemporaryDirectory() as tmp:
        scen = Path(tmp) / "flood.py"
        scen.write_text(src.read_text().replace('"writes": 200000', f'"writes": {writes}'))
        trace = Path(tmp) / "flood.jsonl"
        engine = EngineProcess(scen, trace, timeout=300)
        pid = engine.proc.pid
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(pid, {cpus[0]})
        wall0 = time.perf_counter()
        cpu0 = cpu = 0.0
        assert engine.proc.stdout is not None
        # Steady state: engine CPU from the first flood event it sent to the end (start-up,
        # imports and forks are not the throughput being measured).
        while chunk := engine.proc.stdout.read1(1 << 20):
            if not cpu0 and b'"kind":"shm.write"' in chunk:
                cpu0 = _cpu_seconds(pid)
            if b'"kind":"session.end"' in chunk:
                cpu = _cpu_seconds(pid) - cpu0  # still alive: it exits after the last flush
        wall = time.perf_counter() - wall0
        engine.wait()
        engine.close()
        count = stalls = 0
        outcome = None
        with trace.open() as f:
            next(f)
            for line in f:
                if '"kind":"shm.write"' in line:
                    count += 1
                elif '"kind":"tracer.stall"' in line:
                    stalls += json.loads(line)["count"]
                elif '"kind":"session.end"' in line:
                    outcome = json.loads(line)["outcome"]
    events = 2 * writes
    return {
        "engine_events_per_s": {
            "value": round(count / cpu) if cpu else 0,
            "unit": "events per engine CPU-second (steady state)",
            "target": ">= 200000",
        },
        "engine_wall_events_per_s": {
            "value": round(count / wall),
            "unit": "events/s wall",
            "target": "-",
        },
        "engine_events_lost": {"value": events - count, "unit": "events", "target": "== 0"},
        "engine_ring_stalls": {
            "value": stalls,
            "unit": "worker waits for a full ring",
            "target": "-",
        },
        "engine_run_outcome": {"value": outcome, "unit": "", "target": "passed"},
    }


def _ipcviz_command() -> list[str]:
    """The console script of this Python's environment (not another one on PATH)."""
    exe = Path(sys.executable).parent / "ipcviz"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "ipcviz"]


def _children_cpu() -> float:
    """CPU seconds (user + system) of every waited-for descendant so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _viewer_cpu(trace: Path) -> float:
    """CPU seconds the headless viewer's per-event work takes on a recorded run, in this
    process: each line decoded as the viewer decodes the engine's stream, narrated, joined."""
    from ipcviz.narrate.headless import Narrator

    try:
        from ipcviz.events.codec import decode_line

        def decode(raw: bytes) -> Any:
            return decode_line(raw, "surrogatepass")
    except ImportError:  # an older viewer (before msgspec): the standard decoder
        try:
            from ipcviz.engine.client import _decode

            def decode(raw: bytes) -> Any:
                return _decode(raw.decode("utf-8", "surrogatepass"))
        except ImportError:  # older still: json.loads per line
            decode = json.loads
    lines = trace.read_bytes().splitlines()
    cpu = time.process_time()
    narrator = Narrator(decode(lines[0]), "en")
    for raw in lines[1:]:
        "\n".join(narrator.feed(decode(raw)))
    return time.process_time() - cpu


def _engine_cpu(scenario: Path, trace: Path) -> float:
    """CPU seconds of the engine process itself (not its workers), start to end, its
    stream read raw so the reader is never what it waits for."""
    from ipcviz.engine.client import EngineProcess

    engine = EngineProcess(scenario, trace, timeout=300)
    assert engine.proc.stdout is not None
    cpu = 0.0
    while chunk := engine.proc.stdout.read1(1 << 20):
        if b'"kind":"session.end"' in chunk:
            cpu = _cpu_seconds(engine.proc.pid)  # still alive: it exits after the last flush
    engine.wait()
    engine.close()
    return cpu


def bench_e2e(quick: bool) -> Result:
    """A live headless run end to end (start to exit): 64 workers take turns on one
    semaphore (``tests/truth/sem64.py``), ``ipcviz run --headless`` with stdout to a file,
    against the same workers without ipcviz (``sem64_plain.py``), pairs interleaved. The
    engine runs at nice 10: on a machine others keep busy its wall time stretches, so the
    CPU it took (with the viewer's and the workers') is reported per event as well."""
    rounds = 100 if quick else 500
    pairs = 2 if quick else 3
    src = HERE.parent / "tests" / "truth" / "sem64.py"
    walls, plains, cpus, plain_cpus, events = [], [], [], [], 0
    with tempfile.TemporaryDirectory() as tmp:
        scen = Path(tmp) / "sem64.py"
        text = src.read_text().replace('params={"rounds": 20}', f'params={{"rounds": {rounds}}}')
        scen.write_text(text)
        for k in range(pairs):
            cpu0 = _children_cpu()
            t = time.perf_counter()
            out = subprocess.run(
                [sys.executable, str(HERE / "sem64_plain.py"), str(rounds)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            plains.append(time.perf_counter() - t)
            plain_cpus.append(_children_cpu() - cpu0)
            if int(out) != 64 * rounds:
                raise RuntimeError(f"the plain run counted {out.strip()}, not {64 * rounds}")
            trace, log = Path(tmp) / f"run{k}.jsonl", Path(tmp) / f"run{k}.log"
            with log.open("wb") as f:
                cpu0 = _children_cpu()
                t = time.perf_counter()
                subprocess.run(
                    [*_ipcviz_command(), "run", str(scen), "--headless", "--record", str(trace)],
                    stdout=f,
                    stderr=subprocess.DEVNULL,
                    check=True,
                )
                walls.append(time.perf_counter() - t)
                cpus.append(_children_cpu() - cpu0)  # viewer, engine and workers
            with trace.open("rb") as f:
                events = sum(1 for _ in f) - 1  # the header is not an event
        viewer = _viewer_cpu(trace) / events
        engine = _engine_cpu(scen, Path(tmp) / "alone.jsonl") / events
    wall, plain = statistics.median(walls), statistics.median(plains)
    return {
        "e2e_events_per_s": {
            "value": round(events / wall),
            "unit": f"events/s wall, ipcviz headless ({events} events)",
            "target": ">= 200000",
        },
        "e2e_plain_events_per_s": {
            "value": round(events / plain),
            "unit": "the same operations/s without ipcviz",
            "target": "-",
        },
        "e2e_ratio": {
            "value": round(wall / plain, 1),
            "unit": "x the run without ipcviz (wall)",
            "target": "-",
        },
        "e2e_cpu_us_per_event": {
            "value": round(statistics.median(cpus) / events * 1e6, 1),
            "unit": "us CPU per event (viewer+engine+workers)",
            "target": "-",
        },
        "e2e_plain_cpu_us_per_event": {
            "value": round(statistics.median(plain_cpus) / events * 1e6, 2),
            "unit": "us CPU per event, without ipcviz",
            "target": "-",
        },
        "e2e_engine_cpu_us_per_event": {
            "value": round(engine * 1e6, 1),
            "unit": "us of the engine's own CPU per event",
            "target": "-",
        },
        "e2e_viewer_cpu_us_per_event": {
            "value": round(viewer * 1e6, 1),
            "unit": "us per event: decode, model, narration",
            "target": "-",
        },
        "e2e_seconds": {"value": round(wall, 3), "unit": "s wall, ipcviz headless", "target": "-"},
        "e2e_plain_seconds": {"value": round(plain, 3), "unit": "s wall, no ipcviz", "target": "-"},
    }


def bench_help(quick: bool) -> Result:
    """Wall time of ``ipcviz --help`` (the console script), median of repeated runs."""
    cmd = [*_ipcviz_command(), "--help"]
    times = []
    for _ in range(5 if quick else 15):
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        times.append(time.perf_counter() - t)
    return {
        "help_seconds": {
            "value": round(statistics.median(times), 4),
            "unit": "s",
            "target": "<= 0.15",
        }
    }


#: Benchmarks owned by other parts of the project: (module, function), run if present.
OPTIONAL: list[tuple[str, str]] = [
    ("benchmarks.probe_bench", "bench_probe_sweeps"),
    ("benchmarks.tui_bench", "bench_tui"),
    ("benchmarks.replay_bench", "bench_replay"),
    ("benchmarks.replay_headless_bench", "bench_replay_headless"),
    ("benchmarks.handout_bench", "bench_handout"),
    ("benchmarks.gate_bench", "run"),
    ("benchmarks.explore_bench", "run"),
    ("benchmarks.strace_bench", "bench_strace"),
    ("benchmarks.queue_flood_bench", "bench_queue_flood"),
]


def all_benchmarks() -> list[tuple[str, Callable[[bool], Result]]]:
    found: list[tuple[str, Callable[[bool], Result]]] = [
        ("tracer", bench_tracer),
        ("engine", bench_engine),
        ("e2e", bench_e2e),
        ("help", bench_help),
    ]
    for module, func in OPTIONAL:
        try:
            found.append((module.split(".")[-1], getattr(importlib.import_module(module), func)))
        except (ImportError, AttributeError):
            pass
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    ap.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    ap.add_argument("--only", nargs="*", help="run only these benchmarks (by name)")
    args = ap.parse_args()
    results: Result = {}
    for name, fn in all_benchmarks():
        if args.only and name not in args.only:
            continue
        print(f"running {name}…", file=sys.stderr, flush=True)
        try:
            results.update(fn(args.quick))
        except Exception as exc:  # one broken benchmark must not hide the others
            results[f"{name}_error"] = {
                "value": f"{type(exc).__name__}: {exc}",
                "unit": "",
                "target": "-",
            }
    width = max(len(k) for k in results)
    print(f"{'benchmark':<{width}}  {'value':>14}  {'unit':<34}  target")
    for key, r in results.items():
        print(f"{key:<{width}}  {r['value']!s:>14}  {r['unit']!s:<34}  {r['target']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
