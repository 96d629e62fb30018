"""speed proves T11/T29 by counts no load can change, never by which mechanism won a race.

The counts are the kernel's own (/proc/self/io of each side) for read()/write(), and the
code path's for queue and semaphore calls; the checks must fail on other evidence.
"""

from __future__ import annotations

import copy
from pathlib import Path

from ipcviz.scenario.api import Run
from ipcviz.scenario.loader import load, resolve
from tests.conftest import run_scenario


def _reports(events: list[dict]) -> dict[str, dict]:
    names = {e["pid"]: e["name"] for e in events if e["kind"] == "proc.start"}
    out: dict[str, dict] = {}
    for e in events:
        if e["kind"] == "report":
            out.setdefault(names[e["pid"]], {})[e["key"]] = e["value"]
    return out


def test_speed_counts_the_copies_and_system_calls_of_each_mechanism(tmp_path: Path):
    result, header, events = run_scenario("speed", tmp_path, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    checks = [e for e in events if e["kind"] == "check"]
    assert len(checks) == 3 and all(c["ok"] for c in checks), checks
    params = header["scenario"]["params"]
    reports = _reports(events)
    mib = params["mib"]
    for r in range(1, params["rounds"] + 1):
        sent, got = reports["sender"][f"round{r}_sender"], reports["receiver"][f"round{r}_receiver"]
        # the kernel saw every pipe byte twice: written in by the sender, read out by the receiver
        assert sent["pipe"]["wchar"] == got["pipe"]["rchar"] == mib << 20
        assert sent["pipe"]["syscw"] == mib * 16  # one write() per 64 KiB
        assert got["pipe"]["syscr"] >= mib * 16  # a read() returns at most the 64 KiB it holds
        # shared memory: not one byte through read()/write() on either side
        for side in (sent, got):
            assert side["shm"]["rchar"] == side["shm"]["wchar"] == 0, side["shm"]
            assert side["shm"]["syscr"] == side["shm"]["syscw"] == 0
    # the receiver's summary, one line per mechanism, states what the checks verified
    assert "0 MiB copied through the kernel per MiB" in reports["receiver"]["shm"]
    assert "2 MiB copied through the kernel per MiB" in reports["receiver"]["pipe"]
    assert ", 2 system calls per MiB," in reports["receiver"]["shm"]
    out = result.stdout
    assert "shm 0 (shared memory's only copy is the sender's own write" in out
    assert "pipe 2, fifo 2, posix_mq 2, sysv_mq 2" in out


def test_speed_checks_fail_on_other_evidence(tmp_path: Path):
    """The same checks, fed this run's reports with one count changed: they must fail."""
    result, header, events = run_scenario("speed", tmp_path, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:]
    scenario = load(resolve("speed"))
    checks = {c.description.split(":")[0]: c for c in scenario.checks}
    copies = next(c for d, c in checks.items() if "T29" in d)
    calls = next(c for d, c in checks.items() if "T11" in d)
    params = header["scenario"]["params"]
    real = _reports(events)

    def judge(check, change) -> bool:
        reports = copy.deepcopy(real)
        change(reports)
        return check.fn(Run(params=params, reports=reports))[0]

    assert judge(copies, lambda r: None) and judge(calls, lambda r: None)

    def shm_read_through_kernel(r):  # as if the receiver had read() the segment's bytes
        r["receiver"]["round1_receiver"]["shm"]["rchar"] = params["mib"] << 20

    def pipe_spliced(r):  # as if the pipe had moved its bytes without copying them
        for n in range(1, params["rounds"] + 1):
            for side, key in (("sender", "wchar"), ("receiver", "rchar")):
                r[side][f"round{n}_{side}"]["pipe"][key] = 0

    def shm_one_call_per_page(r):  # a handoff per 4 KiB: as many calls as a pipe, or more
        for n in range(1, params["rounds"] + 1):
            for side in ("sender", "receiver"):
                r[side][f"round{n}_{side}"]["shm"]["calls"] = params["mib"] * 256

    assert not judge(copies, shm_read_through_kernel)
    assert not judge(copies, pipe_spliced)
    assert not judge(calls, shm_one_call_per_page)
