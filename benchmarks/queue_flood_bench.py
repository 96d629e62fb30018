"""A flood on one System V queue, ordered by the linearizer alone: two senders alternate
two messages, each send overlapping the other sender's, while one receiver takes them in
the kernel's order once all are sent (so every send waits in the pool). Fed turn by turn
as the engine feeds it (every 10 ms what was stamped by then, a 3 ms hold).

What it shows: whether ordering stays linear in the backlog. The result is the CPU per
send at 4x the backlog divided by the CPU per send at 1x, in the same run (1.0: linear).
A scan of every waiting send for each send made it 11 at 4,000 → 16,000 sends."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ipcviz.tracer import codes as C
from tests.truth.test_linearize import MS, Harness, rec

Result = dict[str, dict[str, object]]


def _flood(n: int) -> dict[int, list[tuple]]:
    dt = 0.05  # ms between one sender's sends
    s1: list[tuple] = []
    s2: list[tuple] = []
    moments = []
    for k in range(n // 2):
        w1, w2 = (b"a", b"b") if k % 2 == 0 else (b"b", b"a")
        s1 += [rec(C.MSGQ_SEND_BEGIN, k * dt, 1, 1), rec(C.MSGQ_SEND, k * dt + 0.9 * dt, 1, 1, w1)]
        b2, e2 = k * dt + 0.5 * dt, k * dt + 1.4 * dt
        s2 += [rec(C.MSGQ_SEND_BEGIN, b2, 1, 1), rec(C.MSGQ_SEND, e2, 1, 1, w2)]
        moments += [(k * dt + 0.45 * dt, w1), (k * dt + 0.95 * dt, w2)]
    takes: list[tuple] = []
    t = n // 2 * dt + 1.0
    for _, w in sorted(moments):
        takes += [rec(C.MSGQ_RECV_BEGIN, t), rec(C.MSGQ_RECV, t + 0.01, 1, 1, w)]
        t += 0.02
    return {1: s1, 2: s2, 3: takes}


def _cpu_per_send(n: int) -> float:
    records = _flood(n)
    queue = {"obj": "q", "type": "sysv_mq", "max_bytes": 1 << 30, "max_message_size": 8192}
    h = Harness([queue])
    h.start(*records)
    fed = dict.fromkeys(records, 0)
    last = max(r[2] for rs in records.values() for r in rs)
    start = time.process_time()
    cut = 10 * MS
    while cut <= last + 10 * MS:
        for pid, rs in records.items():
            i = j = fed[pid]
            while j < len(rs) and rs[j][2] <= cut:
                j += 1
            if j > i:
                h.lin.add_records(pid, rs[i:j])
                fed[pid] = j
        h.lin.emit_ready(cut - 3 * MS, cut)
        cut += 10 * MS
    h.lin.flush()
    spent = time.process_time() - start
    assert h.lin.conflicts == 0 and sum(e["kind"] == "mq.send" for e in h.out) == n
    return spent / n


def bench_queue_flood(quick: bool) -> Result:
    n = 2000 if quick else 4000
    small, large = _cpu_per_send(n), _cpu_per_send(4 * n)
    return {
        "queue_flood_us_per_send": {
            "value": round(small * 1e6, 1),
            "unit": f"µs CPU per send, {n} sends",
            "target": "-",
        },
        "queue_flood_growth": {
            "value": round(large / small, 2),
            "unit": f"per-send CPU at {4 * n} ÷ at {n}",
            "target": "near 1 (linear)",
        },
    }


if __name__ == "__main__":
    for key, r in bench_queue_flood("--quick" in sys.argv).items():
        print(f"{key}: {r['value']} {r['unit']}")
