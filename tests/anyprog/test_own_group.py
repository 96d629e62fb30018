"""A program that signals its own process group (``kill(0, …)``) under ``run -- PROG``:
the signal reaches the program and its children, never strace (``setsid``,
``StraceSource._own_group``), so the run shows what the program did to itself."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from ipcviz.events.trace import TraceReader
from tests.anyprog.test_attach import DEADLINE, verified, wait_for
from tests.anyprog.test_programs import compile_c, ipcviz, needs_tools

#: Three children wait on a pipe; the parent feeds them, then SIGKILLs its own group.
KILL_GROUP = r"""
#include <signal.h>
#include <unistd.h>
int main(void) {
    int p[2];
    char b;
    if (pipe(p)) return 3;
    for (int i = 0; i < 3; i++)
        if (fork() == 0) {
            if (read(p[0], &b, 1) != 1) _exit(4);
            pause();
            _exit(0);
        }
    if (write(p[1], "abc", 3) != 3) return 5;
    kill(0, SIGKILL);
    return 0;
}
"""

#: The parent stops its own group (itself and its child, which waits on a pipe); once
#: continued, it tells the child to end, and both end with status 0.
STOP_GROUP = r"""
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
    int p[2], st;
    char b;
    if (pipe(p)) return 3;
    pid_t c = fork();
    if (c == 0) _exit(read(p[0], &b, 1) == 1 ? 0 : 4);
    kill(0, SIGSTOP);
    if (write(p[1], "g", 1) != 1) return 5;
    if (waitpid(c, &st, 0) != c) return 6;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 7;
}
"""


@needs_tools
def test_a_program_that_kills_its_own_group_is_shown_killed_by_itself(tmp_path: Path) -> None:
    """strace was in the group: it died with the program, and the run ended in ERROR
    (exit 2) saying ipcviz had killed the processes, "as they could no longer be seen"."""
    binary = compile_c(tmp_path, "killgroup", KILL_GROUP)
    trace = tmp_path / "run.jsonl"
    done = ipcviz("run", "--headless", "--record", str(trace), "--", str(binary))
    # the program's check (it exits with 0) fails: it was killed, by its own signal
    assert done.returncode == 1, done.stdout + done.stderr
    assert "result: FAILED" in done.stdout and "could no longer be seen" not in done.stderr
    verified(trace)
    ends = [e for e in TraceReader.open(trace).events() if e["kind"] == "proc.exit"]
    assert len(ends) == 4 and all(e.get("signal") == signal.SIGKILL for e in ends), ends
    assert not [e for e in TraceReader.open(trace).events() if e["kind"] == "control"]


def _state(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return ""
    return stat[stat.rindex(b")") + 2 :].split()[0].decode()


def _running(binary: Path) -> list[int]:
    """The processes running ``binary`` now."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.readlink(f"/proc/{name}/exe") == str(binary):
                    found.append(int(name))
            except OSError:
                continue
    return found


@needs_tools
def test_a_program_that_stops_its_own_group_leaves_strace_running(tmp_path: Path) -> None:
    """strace was in the group: stopped with the program, it never let the processes go
    on once they were continued (the run waited for its time-out). Here the test
    continues each of the program's processes, one by one (never strace), and the
    program ends by itself."""
    binary = compile_c(tmp_path, "stopgroup", STOP_GROUP)
    trace = tmp_path / "run.jsonl"
    argv = ["run", "--headless", "--timeout", str(DEADLINE), "--record", str(trace)]
    run = subprocess.Popen(
        [sys.executable, "-m", "ipcviz", *argv, "--", str(binary)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(
            lambda: (
                run.poll() is not None
                or (
                    len(pids := _running(binary)) == 2
                    and all(_state(p) in ("t", "T") for p in pids)
                )
            ),
            "the program's two processes stopped",
        )
        for pid in _running(binary):
            os.kill(pid, signal.SIGCONT)
        out, err = run.communicate(timeout=DEADLINE + 30)
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
    assert run.returncode == 0, out + err
    assert "result: PASSED" in out
    verified(trace)


#: Says it runs, then spins, making no system call (nothing strace could stop it at).
SPIN = r"""
#include <unistd.h>
int main(void) {
    if (write(1, "spinning\n", 9) != 9) return 3;
    for (volatile unsigned long i = 0;; i++) {
    }
}
"""


@needs_tools
def test_a_freeze_stops_the_program_in_its_own_group(tmp_path: Path) -> None:
    """The viewer's freeze signals strace's group; the program is in its own now, which
    the freeze signals as well (``signal_groups``), so a program that makes no system
    call stops too. The stop then ends it: nothing of it is left."""
    import threading

    from ipcviz.engine.client import EngineProcess

    binary = compile_c(tmp_path, "spin", SPIN)
    engine = EngineProcess(Path("spin"), tmp_path / "run.jsonl", program=(str(binary),))
    seen: list[dict] = []
    reader = threading.Thread(target=lambda: seen.extend(engine.events()), daemon=True)
    reader.start()
    try:
        wait_for(
            lambda: (
                engine.proc.poll() is not None or any(e.get("kind") == "proc.output" for e in seen)
            ),
            "the program's first write",
        )
        (pid,) = {e["pid"] for e in seen if e.get("kind") == "proc.start"}
        engine.send("freeze")
        wait_for(lambda: _state(pid) in ("T", "t", ""), "the program stopped")
        assert _state(pid) in ("T", "t")
        engine.send("resume")
        wait_for(lambda: _state(pid) not in ("T", "t"), "the program running again")
        engine.send("stop")
        assert engine.wait(DEADLINE) == 0
        reader.join(DEADLINE)
    finally:
        engine.terminate()
        engine.close()
    assert _state(pid) in ("", "Z")  # ended with the run (reaped, or about to be)
    assert seen[-1]["kind"] == "session.end" and seen[-1]["outcome"] == "stopped"


#: A group leader (started in a session of its own) with a child in its group; says it
#: is ready once the child runs; each ends at the end of its stdin (the parent last).
LEADER = r"""
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
    int p[2];
    char b;
    if (pipe(p)) return 3;
    pid_t c = fork();
    if (c == 0) {
        if (write(p[1], "r", 1) != 1) _exit(4);
        while (read(0, &b, 1) == 1) {
        }
        _exit(0);
    }
    if (read(p[0], &b, 1) != 1) return 5;
    printf("ready %d\n", (int)c);
    fflush(stdout);
    while (read(0, &b, 1) == 1) {
    }
    int st;
    return waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 6;
}
"""


@needs_tools
def test_attach_never_signals_the_group_of_the_process_it_watched(tmp_path: Path) -> None:
    """The program's own group is signalled only where ipcviz made it (``setsid``): an
    attached process's group is the user's; ipcviz ends, and its whole group runs on."""
    from tests.anyprog.test_attach import Attached, runs_unharmed

    binary = compile_c(tmp_path, "leader", LEADER)
    trace = tmp_path / "attach.jsonl"
    proc = subprocess.Popen(
        [str(binary)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        words = proc.stdout.readline().split()
        assert words[0] == "ready"
        child = int(words[1])
        ipc = Attached(proc.pid, trace)
        try:
            ipc.attached([proc.pid, child])
            ipc.detach()
        finally:
            ipc.kill()
        runs_unharmed(proc.pid)
        runs_unharmed(child)
        proc.stdin.close()
        assert proc.wait(DEADLINE) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    verified(trace)
