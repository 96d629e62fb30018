"""The real ``ipcviz run pipe-basic`` in a real terminal (tmux), ended three ways.

q (exit status 0, written to a file by the tmux command), Ctrl-C, and the terminal closing
(tmux kill-session: SIGHUP). After each, no process of the run and no kernel object is
left (the autouse leak check in tests/conftest.py looks at the kernel objects).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None, reason="tmux is not installed (CI installs it)"
)


class Tmux:
    """A private tmux server (its own socket) running one command in a 120x40 window."""

    def __init__(self, tmp_path: Path, command: str, size: tuple[int, int] = (120, 40)) -> None:
        self.socket = f"ipcviz-test-{os.getpid()}-{time.monotonic_ns()}"
        self.name = "t"
        env = {**os.environ, "TERM": "xterm-256color"}
        env.pop("NO_COLOR", None)
        subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", "new-session", "-d", "-s", self.name,
             "-x", str(size[0]), "-y", str(size[1]), command],
            check=True, env=env, cwd=tmp_path,
        )  # fmt: skip

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=False
        )

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.name).stdout

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.name, *keys)

    def close(self) -> None:
        self.run("kill-server")


def wait_for(cond: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def run_procs(marker: str) -> list[psutil.Process]:
    """Processes of this run: the TUI, the engine and its workers all carry the trace path."""
    found = []
    for p in psutil.process_iter(["cmdline"]):
        try:
            if any(marker in arg for arg in p.info["cmdline"] or []):
                found.append(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return [p for p in found if p.pid != os.getpid()]


def start(tmp_path: Path) -> tuple[Tmux, Path, Path]:
    trace = tmp_path / "tmux-run.jsonl"
    status = tmp_path / "status"
    cmd = (
        f"{shlex.quote(sys.executable)} -m ipcviz run pipe-basic --record {shlex.quote(str(trace))}"
        f"; echo $? > {shlex.quote(str(status))}; sleep 60"
    )
    return Tmux(tmp_path, cmd), trace, status


def see_it_run(tmux: Tmux) -> None:
    """The screen shows the session and changes as the processes run."""
    # ("parent" is in the title too: wait for the panels, not for a first partial frame)
    wanted = ("pipe-basic", "parent", "kernel objects", "processes")
    wait_for(lambda: all(w in tmux.screen() for w in wanted), "the session's panels")
    first = tmux.screen()
    wait_for(lambda: tmux.screen() != first, "the screen to change")
    wait_for(lambda: "message 2" in tmux.screen(), "the second message in the log")


def _still_running(trace: Path) -> list[str]:
    """The run's processes other than tmux; one that ends while it is looked at is gone."""
    names = []
    for p in run_procs(str(trace)):
        try:
            name = p.name()
        except psutil.NoSuchProcess:
            continue
        if "tmux" not in name:
            names.append(name)
    return names


def nothing_left(trace: Path) -> None:
    wait_for(lambda: not _still_running(trace), "every process of the run to end")
    last = trace.read_text().splitlines()[-1]
    assert '"kind":"session.end"' in last.replace(" ", "")


def test_q_in_a_real_terminal_exits_0_and_leaves_nothing(tmp_path: Path) -> None:
    tmux, trace, status = start(tmp_path)
    try:
        see_it_run(tmux)
        tmux.keys("q")
        wait_for(status.exists, "the exit status")
        assert status.read_text().strip() == "0"
        nothing_left(trace)
    finally:
        tmux.close()


def test_ctrl_c_in_a_real_terminal_leaves_nothing(tmp_path: Path) -> None:
    tmux, trace, status = start(tmp_path)
    try:
        see_it_run(tmux)
        tmux.keys("C-c")
        wait_for(status.exists, "the exit status")
        assert status.read_text().strip() in ("0", "130")
        nothing_left(trace)
    finally:
        tmux.close()


def test_terminal_closing_sighup_leaves_nothing(tmp_path: Path) -> None:
    tmux, trace, _ = start(tmp_path)
    try:
        see_it_run(tmux)
    finally:
        tmux.run("kill-session", "-t", tmux.name)  # the terminal goes away: SIGHUP
    nothing_left(trace)
    tmux.close()


def _descendants(tmux: Tmux) -> list[str]:
    """The processes below the terminal's shell other than ipcviz's own (its engines and
    their workers, a compiler): what a run left running."""
    shell = psutil.Process(int(tmux.run("list-panes", "-F", "#{pane_pid}").stdout.split()[0]))
    names = []
    for p in shell.children(recursive=True):
        try:
            if p.ppid() != shell.pid:  # (the TUI itself is the shell's child)
                names.append(p.name())
        except psutil.NoSuchProcess:
            continue
    return names


def _about(screen: str) -> str:
    """The picker's description box's first line: the selected scenario's title."""
    return next((line for line in screen.splitlines() if line.startswith("│ ")), "")


def choose(tmux: Tmux, title: str) -> None:
    """Move the picker's cursor down until the selected scenario's title starts so."""
    for _ in range(60):
        shown = _about(tmux.screen())
        if shown.startswith("│ " + title):
            return
        tmux.keys("Down")
        wait_for(lambda was=shown: _about(tmux.screen()) != was, "the cursor to move")
    raise AssertionError(f"no scenario titled {title!r} in the picker")


def test_q_in_a_run_from_the_picker_goes_back_to_it_then_quits(tmp_path: Path) -> None:
    """``ipcviz`` in an 80x24 terminal: Enter runs pipe-basic, q stops it (nothing of it
    left running) and shows the picker again; a second run works; q on the picker ends
    the app with status 0."""
    status = tmp_path / "status"
    data = tmp_path / "data"
    cmd = (
        f"XDG_DATA_HOME={shlex.quote(str(data))} {shlex.quote(sys.executable)} -m ipcviz"
        f"; echo $? > {shlex.quote(str(status))}; sleep 60"
    )
    tmux = Tmux(tmp_path, cmd, size=(80, 24))
    try:
        wait_for(lambda: "choose a scenario" in tmux.screen(), "the picker")
        for run in (1, 2):
            choose(tmux, "Anonymous pipe: parent writes")
            tmux.keys("Enter")
            wait_for(lambda: "kernel objects" in tmux.screen(), f"run {run} on screen")
            wait_for(lambda: "● child" in tmux.screen(), f"run {run}'s processes")
            tmux.keys("q")
            wait_for(lambda: "choose a scenario" in tmux.screen(), "the picker again")
            wait_for(lambda: not _descendants(tmux), "every process of the run to end")
            assert not status.exists()  # the app is still there
        assert len(list((data / "ipcviz" / "traces").glob("*-pipe-basic-*.jsonl"))) == 2
        tmux.keys("q")
        wait_for(status.exists, "the exit status")
        assert status.read_text().strip() == "0"
    finally:
        tmux.close()


def narration_read(screen: str) -> str:
    """The presenter's narration panel as a viewer reads it: the rows inside its heavy
    frame, the large type read back into letters (``bigread``), without spaces."""
    from tests.lecture.bigread import read_lines

    rows = [line[2 : line.rindex("┃")] for line in screen.splitlines() if line.startswith("┃")]
    try:
        return "".join(read_lines(rows).split())
    except ValueError:  # a frame caught mid-draw: not readable yet
        return ""


def test_presenter_mode_at_80x24_shows_the_narration_text(tmp_path: Path) -> None:
    """``ipcviz run pipe-basic --present`` in an 80×24 terminal: the first step's words are
    on the screen in large type (read back from the blocks, not taken from the widget),
    paged, with the diagram below them; → shows the next page, then goes on."""
    trace = tmp_path / "tmux-present.jsonl"
    status = tmp_path / "status"
    cmd = (
        f"{shlex.quote(sys.executable)} -m ipcviz run pipe-basic --present"
        f" --record {shlex.quote(str(trace))}; echo $? > {shlex.quote(str(status))}; sleep 60"
    )
    tmux = Tmux(tmp_path, cmd, size=(80, 24))
    try:
        wait_for(
            lambda: "THEENGINECALLEDPIPE():THEKERNEL" in narration_read(tmux.screen()),
            "the first step's text, large",
        )
        screen = tmux.screen()
        assert "page 1 of 2" in screen and "more: → next page" in screen
        assert "pipe" in screen and "parent" in screen  # the diagram, below
        assert len(screen.splitlines()) <= 24 and all(len(x) <= 80 for x in screen.splitlines())
        tmux.keys("Right")
        wait_for(
            lambda: "EACHCLOSESTHEENDITDOESNOTUSE." in narration_read(tmux.screen()),
            "the first step's second page",
        )
        tmux.keys("Right")
        wait_for(
            lambda: "APIPEISHALF-DUPLEX." in narration_read(tmux.screen()),
            "the second step's text",
        )
        tmux.keys("q")
        wait_for(status.exists, "the exit status")
        assert status.read_text().strip() == "0"
        nothing_left(trace)
    finally:
        tmux.close()


@pytest.mark.skipif(
    shutil.which("strace") is None or shutil.which("gcc") is None,
    reason="c/two-locks is compiled with gcc and watched through strace",
)
def test_q_at_a_programs_deadlock_removes_what_it_made_and_says_so(tmp_path: Path) -> None:
    """q while a C program stands deadlocked: ipcviz kills it before it removes its
    semaphore set, so ipcviz removes the set, and once the screen is gone the terminal
    says so (it used to leave the set on the machine, said only inside the trace)."""
    trace = tmp_path / "two-locks.jsonl"
    status = tmp_path / "status"
    cmd = (
        f"{shlex.quote(sys.executable)} -m ipcviz run c/two-locks"
        f" --record {shlex.quote(str(trace))}; echo $? > {shlex.quote(str(status))}; sleep 60"
    )
    tmux = Tmux(tmp_path, cmd)
    try:
        wait_for(lambda: "select a victim" in tmux.screen(), "the deadlock on the screen", 60)
        tmux.keys("q")
        wait_for(status.exists, "the exit status")
        assert status.read_text().strip() == "0"
        nothing_left(trace)
        screen = " ".join(tmux.screen().split())
    finally:
        tmux.close()
    sets = {
        e["id"]
        for e in map(json.loads, trace.read_text().splitlines()[1:])
        if e.get("kind") == "obj.declare" and e.get("type") == "sysv_sem"
    }
    assert len(sets) == 1
    assert f"# ipcviz ended the program before it removed semid {next(iter(sets))}" in screen
    assert "recorded to" in screen
    rows = Path("/proc/sysvipc/sem").read_text().splitlines()[1:]
    assert not [r for r in rows if r.split()[1:2] == [str(next(iter(sets)))]]


def test_q_with_an_engine_that_cannot_answer_exits_2_and_says_why(tmp_path: Path) -> None:
    """The engine is stopped (SIGSTOP: a debugger, a frozen machine) when q is pressed:
    ipcviz asks it, then SIGTERM, then kills it, and cleans its session itself. The exit
    status was the engine's raw status (-9: 247 to the shell), outside 0/1/2, and nothing
    said why; now 2, with the headless run's line about an engine that died."""
    trace = tmp_path / "stopped-engine.jsonl"
    status = tmp_path / "status"
    cmd = (
        f"{shlex.quote(sys.executable)} -m ipcviz run pipe-basic --pace 0.1"
        f" --record {shlex.quote(str(trace))}"
        f"; echo $? > {shlex.quote(str(status))}; sleep 60"
    )
    tmux = Tmux(tmp_path, cmd)
    try:
        wanted = ("pipe-basic", "kernel objects", "processes")
        wait_for(lambda: all(w in tmux.screen() for w in wanted), "the session's panels")
        # the engine, not its workers (forks of it, with its command line)
        forks = [p for p in run_procs(str(trace)) if "ipcviz.engine" in " ".join(p.cmdline())]
        engines = [p for p in forks if p.ppid() not in {q.pid for q in forks}]
        assert len(engines) == 1, forks
        engines[0].suspend()  # SIGSTOP
        tmux.keys("q")
        wait_for(status.exists, "the exit status", timeout=60)
        assert status.read_text().strip() == "2"
        # (said after the screen is gone: the terminal shows it above the shell's next line)
        said = " ".join(tmux.screen().split())
        assert "ipcviz: the engine stopped unexpectedly (status -9)" in said, said
        wait_for(lambda: not _still_running(trace), "every process of the run to end")
    finally:
        tmux.close()
