"""tui_frame_ms_median / _p95 and tui_cpu_percent: the session screen under a flood.

A child process runs the real session screen headless (``App.run_test``, 120x40) fed by a
synthetic feed that delivers 100,000 events/s (as many as are due at each frame): 16
processes writing into a 4096-cell shared-memory grid, plus pipe and semaphore traffic.
Events arrive as ready-made dicts: JSON decoding of the engine's stream is not included.

A frame = the screen's timer tick (apply the batch to the model, update the widgets) plus a
full render of the screen's strips (an upper bound of what Textual paints per frame).
CPU = the child's process time (all threads) / wall time, over the measured window.

tui_diagram_frame_ratio: the same flood with the diagram view shown (``v``), its median frame
over the detail view's, measured side by side in the same run.

Run alone: ``python -m benchmarks.tui_bench [--quick]``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

RATE = 100_000
PROCS = 16
CELLS = 4096


def _events(n: int) -> list[dict[str, Any]]:
    """A reusable pool of events; ``seq``/``t`` are set when they are delivered."""
    rnd = random.Random(7)
    pool: list[dict[str, Any]] = []
    for i in range(n):
        pid = 1000 + rnd.randrange(PROCS)
        r = rnd.random()
        if r < 0.8:
            cell = rnd.randrange(CELLS)
            value = rnd.randrange(1 << 20)
            data = base64.b64encode(value.to_bytes(8, "little", signed=True)).decode()
            e = {"kind": "shm.write", "obj": "grid", "offset": cell * 8, "value": value,
                 "data": data}  # fmt: skip
        elif r < 0.9:
            e = {"kind": "sem.post" if i % 2 else "sem.trywait", "obj": "lock", "ok": True}
        elif i % 2:
            e = {"kind": "pipe.write", "obj": "p", "n": 8, "data": "bWVzc2FnZSAK"}
        else:
            e = {"kind": "pipe.read", "obj": "p", "n": 8, "data": "bWVzc2FnZSAK"}
        e.update(pid=pid, t=0, seq=0)
        pool.append(e)
    return pool


class SyntheticFeed:
    """Delivers ``rate`` events per second of wall time, whatever the frame rate."""

    live = False

    def __init__(self, rate: int = RATE) -> None:
        self.rate = rate
        self.header = {"scenario": {"id": "tui-bench", "title": "100k events/s", "steps": []}}
        self._pool = _events(50_000)
        self._seq = 0
        self._t0: float | None = None
        self._prelude = self._declare()
        self.delivered = 0

    def _declare(self) -> list[dict[str, Any]]:
        ev: list[dict[str, Any]] = [
            {"kind": "obj.declare", "obj": "grid", "type": "posix_shm", "size": CELLS * 8,
             "cells": CELLS, "cell_size": 8, "pid": 0},
            {"kind": "obj.declare", "obj": "p", "type": "pipe", "capacity": 65536, "pid": 0},
            {"kind": "obj.declare", "obj": "lock", "type": "posix_sem", "value": 1 << 30,
             "pid": 0},
        ]  # fmt: skip
        for i in range(PROCS):
            ev.append({"kind": "proc.start", "pid": 1000 + i, "name": f"w{i}", "color": i})
        for e in ev:
            e.setdefault("t", 0)
            e["seq"] = self._next()
        return ev

    def _next(self) -> int:
        self._seq += 1
        return self._seq - 1

    def pump(self) -> None:
        self._t0 = time.perf_counter()

    def drain(self, limit: int = 1_000_000) -> list[dict[str, Any]]:
        if self._prelude:
            out, self._prelude = self._prelude, []
            return out
        if self._t0 is None:
            return []
        due = int((time.perf_counter() - self._t0) * self.rate) - self.delivered
        n = max(0, min(due, limit))
        pool, size = self._pool, len(self._pool)
        out = []
        for _ in range(n):
            e = pool[self._seq % size]
            e["seq"] = e["t"] = self._seq
            self._seq += 1
            out.append(e)
        self.delivered += n
        return out

    @property
    def finished(self) -> bool:
        return False

    @property
    def pending(self) -> int:
        if self._t0 is None:
            return 0
        return max(0, int((time.perf_counter() - self._t0) * self.rate) - self.delivered)

    def send(self, cmd: str, **fields: Any) -> None:
        pass

    def close(self) -> int | None:
        return None


async def _measure(seconds: float, warmup: float, diagram: bool = False) -> dict[str, Any]:
    from ipcviz.tui.app import IpcvizApp
    from ipcviz.tui.screens.session import SessionScreen

    feed = SyntheticFeed()
    app = IpcvizApp(lambda: feed)
    frames: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, SessionScreen)
        if diagram:
            await pilot.press("v")
        tick = screen.tick
        compositor_owner = screen

        def timed_tick() -> None:
            t0 = time.perf_counter()
            tick()
            compositor_owner._compositor.render_strips()
            frames.append(time.perf_counter() - t0)

        screen.tick = timed_tick  # type: ignore[method-assign]
        screen._set_timer()
        await pilot.pause(warmup)
        frames.clear()
        start_events = feed.delivered
        w0, c0 = time.perf_counter(), time.process_time()
        await pilot.pause(seconds)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        applied = screen.state.count
        delivered = feed.delivered - start_events
    return {
        "frames": frames,
        "cpu_percent": 100 * cpu / wall,
        "events_per_s": delivered / wall,
        "applied": applied,
        "fps": len(frames) / wall,
    }


def _child(seconds: float, diagram: bool = False) -> None:
    result = asyncio.run(_measure(seconds, warmup=1.0, diagram=diagram))
    print(json.dumps(result))


def _run_child(seconds: float, diagram: bool = False) -> dict[str, Any]:
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.tui_bench", "--child", str(seconds)]
        + (["diagram"] if diagram else []),
        capture_output=True,
        text=True,
        cwd=root,
        timeout=120 + seconds,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_tui(quick: bool) -> dict[str, dict]:
    seconds = 3.0 if quick else 10.0
    r = _run_child(seconds)
    d = _run_child(seconds, diagram=True)  # the diagram view, right after, same machine
    d_median = statistics.median(1000 * f for f in d["frames"])
    frames_ms = sorted(1000 * f for f in r["frames"])
    p95 = frames_ms[min(len(frames_ms) - 1, int(0.95 * len(frames_ms)))]
    return {
        "tui_frame_ms_median": {
            "value": round(statistics.median(frames_ms), 2),
            "unit": f"ms (at {r['events_per_s']:,.0f} events/s, {r['fps']:.1f} fps)",
            "target": "<= 16",
        },
        "tui_frame_ms_p95": {"value": round(p95, 2), "unit": "ms", "target": "<= 33"},
        "tui_cpu_percent": {
            "value": round(r["cpu_percent"], 1),
            "unit": "% of one core",
            "target": "<= 60",
        },
        "tui_diagram_frame_ratio": {
            "value": round(d_median / max(1e-6, statistics.median(frames_ms)), 2),
            "unit": f"diagram / detail median frame ({d_median:.2f} ms)",
            "target": "<= 2",
        },
    }


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        _child(float(sys.argv[2]), diagram="diagram" in sys.argv[3:])
    else:
        print(json.dumps(bench_tui("--quick" in sys.argv), indent=2))
