"""``ipcviz run -- PROG``: how fast strace's text is parsed, and what watching costs.

1. Parse rate: a real capture of a C pipe ping-pong of 1-byte messages (and one of 4 KiB
   messages) (``strace -f -ttt -T -yy -xx``, the options ipcviz uses), parsed by
   ``ipcviz.sources.strace`` — the parser alone, and the parser plus the mapper to records
   (the whole source minus the engine) — in lines per CPU-second, against a baseline in the
   same run on the same file: a plain line split (decode, ``split("\\n")``, a loop over
   the lines). Target: >= 100,000 lines/s.
2. Cost: the same ping-pong's own timing of its loop, run alone, under plain
   ``strace -f -o /dev/null`` (same options) and under ``ipcviz run --headless --``, side by
   side in one run. Target (issue 15): ipcviz <= 1.2x plain strace.

Run alone: ``python benchmarks/strace_bench.py [--quick]``.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PINGPONG = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    int size = argc > 2 ? atoi(argv[2]) : 1; /* bytes per message (at most 65536) */
    static char c[65536];
    int a[2], b[2];
    if (pipe(a) < 0 || pipe(b) < 0)
        return 1;
    if (size < 1 || size > (int)sizeof c)
        return 1;
    memset(c, 'x', sizeof c);
    pid_t pid = fork();
    if (pid == 0) {
        close(a[1]);
        close(b[0]);
        ssize_t got;
        while ((got = read(a[0], c, size)) > 0)
            if (write(b[1], c, got) != got)
                return 1;
        return 0;
    }
    close(a[0]);
    close(b[1]);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < n; i++) {
        if (write(a[1], c, size) != size)
            return 1;
        for (int got = 0; got < size;) { /* a pipe may return less: read it all */
            ssize_t r = read(b[0], c, size - got);
            if (r <= 0)
                return 1;
            got += r;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    close(a[1]);
    waitpid(pid, NULL, 0);
    printf("pingpong_seconds %.6f\n", (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    return 0;
}
"""


def _strace_argv(out: str) -> list[str]:
    from ipcviz.sources.strace.mapper import TRACED
    from ipcviz.sources.strace.source import STRSIZE

    return ["strace", "-f", "-ttt", "-T", "-yy", "-xx", "-s", str(STRSIZE),
            "-e", f"trace={TRACED}", "-o", out]  # fmt: skip


def _build(tmp: Path) -> Path:
    src = tmp / "pingpong.c"
    src.write_text(PINGPONG)
    binary = tmp / "pingpong"
    subprocess.run(["gcc", "-O2", "-o", str(binary), str(src)], check=True)
    return binary


def _cpu() -> float:
    return time.process_time()


def parse_rates(capture: Path, rounds: int) -> dict[str, float]:
    """Best-of CPU seconds of the baseline, the parser, and parser + mapper on one file."""
    from ipcviz.sources.strace import parser as P
    from ipcviz.sources.strace.mapper import Mapper

    raw = capture.read_bytes()

    def baseline() -> int:
        n = 0
        for _line in raw.decode("ascii", "replace").split("\n"):
            n += 1
        return n

    def parse_only() -> int:
        parse = P.parse_line
        n = 0
        for line in raw.decode("ascii", "replace").split("\n"):
            parse(line)
            n += 1
        return n

    def parse_and_map() -> int:
        m = Mapper([], "pingpong")
        parse, feed = P.parse_line, m.feed
        n = 0
        for line in raw.decode("ascii", "replace").split("\n"):
            parsed = parse(line)
            if parsed is not None:
                feed(parsed)
            n += 1
            if len(m.out) > 4096:
                m.out.clear()  # the engine takes them every turn
        return n

    best = {"baseline": 1e9, "parse": 1e9, "map": 1e9}
    lines = 0
    for _ in range(rounds):
        for name, fn in (("baseline", baseline), ("parse", parse_only), ("map", parse_and_map)):
            t = _cpu()
            lines = fn()
            best[name] = min(best[name], _cpu() - t)
    return {**best, "lines": lines}


def _seconds(text: str) -> float:
    for word in text.splitlines():
        if word.startswith("pingpong_seconds "):
            return float(word.split()[1])
    raise RuntimeError(f"the ping-pong reported no time: {text[-200:]!r}")


def cost(binary: Path, tmp: Path, n: int, rounds: int) -> dict[str, float]:
    """Best-of seconds of the ping-pong's loop: alone, under strace, under ipcviz."""
    best = {"alone": 1e9, "strace": 1e9, "ipcviz": 1e9}
    for i in range(rounds):
        out = subprocess.run([str(binary), str(n)], capture_output=True, text=True, check=True)
        best["alone"] = min(best["alone"], _seconds(out.stdout))
        cmd = [*_strace_argv(os.devnull), "--", str(binary), str(n)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        best["strace"] = min(best["strace"], _seconds(out.stdout))
        trace = tmp / f"run{i}.jsonl"
        cmd = [sys.executable, "-m", "ipcviz", "run", "--headless", "--record", str(trace)]
        subprocess.run([*cmd, "--", str(binary), str(n)], capture_output=True, check=True,
                       cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
        said = b""
        with trace.open() as f:
            for line in f:
                if '"kind":"proc.output"' in line:
                    said += base64.b64decode(json.loads(line)["data"])
        best["ipcviz"] = min(best["ipcviz"], _seconds(said.decode()))
    return best


def bench_strace(quick: bool) -> dict[str, dict]:
    if shutil.which("gcc") is None or shutil.which("strace") is None:
        return {"strace_skipped": {"value": "no gcc/strace", "unit": "", "target": "-"}}
    n = 5000 if quick else 20000
    with tempfile.TemporaryDirectory(prefix="ipcviz-bench-") as name:
        tmp = Path(name)
        binary = _build(tmp)
        capture = tmp / "capture.txt"
        cmd = [*_strace_argv(str(capture)), "--", str(binary), str(n)]
        subprocess.run(cmd, capture_output=True, check=True)
        r = parse_rates(capture, 2 if quick else 5)
        big = tmp / "capture-4k.txt"  # 4 KiB messages: the payloads' decoding
        cmd = [*_strace_argv(str(big)), "--", str(binary), str(n // 10), "4096"]
        subprocess.run(cmd, capture_output=True, check=True)
        r4k = parse_rates(big, 2 if quick else 5)
        c = cost(binary, tmp, n, 1 if quick else 3)
    lines = r["lines"]
    return {
        "strace_parse_lines_per_s": {
            "value": round(lines / r["parse"]),
            "unit": f"lines per CPU-second, parser alone ({lines:,} lines)",
            "target": ">= 100000",
            "ok": lines / r["parse"] >= 100_000,
        },
        "strace_map_lines_per_s": {
            "value": round(lines / r["map"]),
            "unit": "lines per CPU-second, parser + mapper to records",
            "target": ">= 100000",
            "ok": lines / r["map"] >= 100_000,
        },
        "strace_map_4k_lines_per_s": {
            "value": round(r4k["lines"] / r4k["map"]),
            "unit": f"lines per CPU-second, parser + mapper, 4 KiB messages "
            f"({r4k['lines']:,} lines)",
            "target": "-",
        },
        "strace_map_over_split": {
            "value": round(r["map"] / r["baseline"], 1),
            "unit": f"x a plain line split of the same file ({lines / r['baseline']:,.0f} lines/s)",
            "target": "-",
        },
        "strace_ipcviz_over_strace": {
            "value": round(c["ipcviz"] / c["strace"], 2),
            "unit": f"x plain strace -f -o /dev/null, ping-pong of {n} round trips",
            "target": "<= 1.2",
            "ok": c["ipcviz"] / c["strace"] <= 1.2,
        },
        "strace_ipcviz_over_alone": {
            "value": round(c["ipcviz"] / c["alone"], 1),
            "unit": f"x the program alone ({c['alone'] * 1e6 / n:.1f} us per round trip)",
            "target": "-",
        },
    }


if __name__ == "__main__":
    results = bench_strace("--quick" in sys.argv)
    for key, r in results.items():
        print(f"{key:<28} {r['value']!s:>10}  {r['unit']}  (target {r['target']})")
