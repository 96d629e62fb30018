"""Processes whose name (comm, in /proc/PID/stat) is not UTF-8, read by the engine and its
client: any process may name itself any 15 bytes (``prctl(PR_SET_NAME)``), and a UTF-8
name cut at 15 bytes can end inside a character. A strict read raised UnicodeDecodeError,
which is not OSError: the engine (or the client waiting for it) died of it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from ipcviz.engine.client import _cpu_ticks
from tests.anyprog.test_programs import ipcviz

#: "생산자1생산자" cut at 15 bytes, as the kernel cuts a program's name: inside "산".
CUT_NAME = "생산자1생산자".encode()[:15]

#: Sets its name (comm) to ``name``, says so on stdout, then waits for stdin's end.
NAMED = """
import ctypes, sys
name = ctypes.c_char_p({name!r})
if ctypes.CDLL(None).prctl(15, name, 0, 0, 0) != 0:  # PR_SET_NAME
    sys.exit(3)
print("named", flush=True)
sys.stdin.read()
"""

SCENARIO = """
    import ctypes
    from ipcviz.scenario import Scenario

    scenario = Scenario("cut-name", "a worker whose name is not UTF-8", timeout=120)
    p = scenario.pipe("p", writer="writer", reader="reader")

    @scenario.process("reader")
    def reader(ctx):
        if ctypes.CDLL(None).prctl(15, ctypes.c_char_p(NAME), 0, 0, 0) != 0:
            raise OSError("prctl(PR_SET_NAME) failed")
        p.read(1)  # asleep in the kernel: the gate reads its /proc stat
        p.read(1)

    @scenario.process("writer")
    def writer(ctx):
        p.write(b"a")
        p.write(b"b")
"""


def test_the_step_gate_waits_for_a_worker_whose_name_is_not_utf8(tmp_path: Path) -> None:
    """The schedule lets the reader go first: its read finds the pipe empty and sleeps in
    the kernel, so before it lets the writer go the gate reads the reader's
    /proc/PID/task/TID/stat to know it is not just woken (``gate._runnable``). That read
    raised UnicodeDecodeError on the cut name: "internal error", exit 2, both killed."""
    source = tmp_path / "cut_name.py"
    source.write_text(textwrap.dedent(SCENARIO.replace("NAME", repr(CUT_NAME))))
    trace = tmp_path / "cut_name.jsonl"
    done = ipcviz(
        *("run", str(source), "--headless", "--schedule", "reader,writer*"),
        *("--record", str(trace)),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "internal error" not in done.stdout + done.stderr
    assert 'read 1 B from p: "b"' in done.stdout
    verify = ipcviz("verify", str(trace))
    assert verify.returncode == 0 and "legal history" in verify.stdout, verify.stdout


def test_the_client_reads_the_cpu_time_of_a_process_not_named_in_utf8() -> None:
    """The client reads its engine's CPU time while it waits for its end
    (``EngineProcess.wait``: no more ticks, the engine is stuck); the engine is named after
    the Python executable, cut at 15 bytes. The strict read's UnicodeDecodeError (a
    ValueError) read as "unreadable": None, and the wait gave up on an engine at work
    after its first grace. A real process named so: its ticks are read."""
    child = subprocess.Popen(
        [sys.executable, "-c", NAMED.format(name=CUT_NAME)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == b"named\n"
        with open(f"/proc/{child.pid}/comm", "rb") as f:
            assert f.read() == CUT_NAME + b"\n"  # (the name the kernel shows)
        ticks = _cpu_ticks(child.pid)
    finally:
        child.communicate(b"")
    assert isinstance(ticks, int) and ticks >= 0
