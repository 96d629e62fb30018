"""Drift is caught when a write bypasses the wrapper; the tee probe never disturbs a pipe."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ipcviz.events.codec import payload
from tests.faults.harness import read_lines
from tests.mechanisms.helpers import by_kind, run_file, run_held

RAW_WRITE = """
    import os
    import time
    from ipcviz.scenario import Scenario

    GO = {go!r}  # the test makes it once the drift is in the trace


    def until_go():
        end = time.monotonic() + 60
        while not os.path.exists(GO) and time.monotonic() < end:
            time.sleep(0.01)


    scenario = Scenario("raw", "a write behind ipcviz's back")
    p = scenario.pipe("p", writer="writer", reader="reader")

    @scenario.process("writer")
    def writer(ctx):
        p.write(b"hello")
        os.write(p.write_fd, b"sneaky")  # bypasses the wrapper: no event
        until_go()

    @scenario.process("reader")
    def reader(ctx):
        until_go()
        got = b""
        while chunk := p.read():
            got += chunk
        ctx.report("got", got.decode())
"""


def test_raw_write_to_a_pipe_is_caught_as_drift(tmp_path: Path):
    """Held, not slept: the pipe keeps its 11 bytes until the drift is in the trace (a
    probe found it); a fixed hold (1.2 s) was too short for a loaded machine's probes."""
    _header, events, run = run_held(
        tmp_path, "raw", RAW_WRITE, "the drift", lambda t: by_kind(read_lines(t)[1], "drift")
    )
    stdout = run.out_path.read_text()
    drift = by_kind(events, "drift")
    assert drift, "no drift event"
    first = drift[0]
    assert first["obj"] == "p" and first["field"] == "nbytes"
    assert first["model"] == 5 and first["kernel"] == 11
    assert "DRIFT on p: nbytes model=5 kernel=11" in stdout


TEE = """
    import hashlib
    import os
    import time
    from ipcviz.scenario import Scenario

    scenario = Scenario("tee", "probes never consume", params={"chunks": 120})
    # the first chunk waits in p while the engine probes (probe=True): at least one probe
    # sees bytes there, whatever the machine's speed; later ones may or may not
    scenario.step("held", "the first chunk waits in p, probed", probe=True)
    p = scenario.pipe("p", writer="writer", reader="reader")
    e = scenario.pipe("e", writer="writer", reader="reader")
    go = scenario.semaphore("go", value=0)

    @scenario.process("writer")
    def writer(ctx):
        h = hashlib.sha256()
        for i in range(ctx.params["chunks"]):
            data = os.urandom(1000) + i.to_bytes(4, "big")
            h.update(data)
            p.write(data)
            if i == 0:
                ctx.step("held")
                go.post()
            time.sleep(0.01)
        p.close_write()
        ctx.report("sha", h.hexdigest())
        # the reader is gone from e soon: a write must fail with EPIPE, probes or not
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                e.write(b"ping")
            except BrokenPipeError:
                ctx.report("epipe", True)
                return
            time.sleep(0.02)
        ctx.report("epipe", False)

    @scenario.process("reader")
    def reader(ctx):
        h = hashlib.sha256()
        n = 0
        go.wait()
        while True:
            chunk = p.read(700)  # slowly: later probes may find bytes too
            if not chunk:
                break
            h.update(chunk)
            n += len(chunk)
            time.sleep(0.004)
        ctx.report("sha", h.hexdigest())
        ctx.report("n", n)
        e.read(65536)
        ctx.sleep(0.5)  # let the prober peek at e (via the writer's end) while we hold it
"""


def test_tee_probe_consumes_nothing_and_keeps_epipe(tmp_path: Path):
    result, _header, events = run_file(tmp_path, "tee", TEE)
    assert result.returncode == 0, result.stdout[-3000:]
    reports = {(e["pid"], e["key"]): e["value"] for e in by_kind(events, "report")}
    names = {e["pid"]: e["name"] for e in by_kind(events, "proc.start")}
    got = {(names[pid], key): v for (pid, key), v in reports.items()}
    assert got[("reader", "n")] == 120 * 1004
    assert got[("reader", "sha")] == got[("writer", "sha")]
    assert got[("writer", "epipe")] is True
    peeks = [e for e in by_kind(events, "probe.pipe") if e["obj"] == "p" and e["nbytes"] > 0]
    assert peeks, "the prober never saw bytes in the pipe"
    # what the probe copied is really what was waiting: a slice of the written stream
    written = b"".join(payload(e) for e in by_kind(events, "pipe.write") if e["obj"] == "p")
    for e in peeks:
        data = payload(e)
        assert data and data in written
        assert len(data) == min(e["nbytes"], 4096)
    assert hashlib.sha256(written).hexdigest() == got[("writer", "sha")]
    e_probes = [e for e in by_kind(events, "probe.pipe") if e["obj"] == "e"]
    assert e_probes
    assert not by_kind(events, "drift"), by_kind(events, "drift")
