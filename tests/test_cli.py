"""The CLI contract: help, version, list, exit codes, and one-line errors for bad input."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BuiltinTraces, ipcviz


def test_help_lists_commands_and_imports_no_textual():
    result = ipcviz("--help")
    assert result.returncode == 0
    for cmd in ("list", "run", "replay", "export", "clean"):
        assert cmd in result.stdout
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from ipcviz.cli import main\n"
            "try: main(['--help'])\n"
            "except SystemExit: pass\n"
            "print('textual' in sys.modules)",
        ],
        capture_output=True,
        text=True,
    )
    assert probe.stdout.strip().splitlines()[-1] == "False"


def test_version():
    result = ipcviz("--version")
    assert result.returncode == 0 and result.stdout.startswith("ipcviz ")


def test_list_json_has_ids_titles_teaching_points():
    result = ipcviz("list", "--json")
    assert result.returncode == 0
    items = json.loads(result.stdout)
    ids = {item["id"] for item in items}
    assert {"pipe-basic", "shm-race", "shm-semaphore"} <= ids
    for item in items:
        assert item["title"] and all(t.startswith("T") for t in item["teaches"])


def test_list_json_has_the_set_keys_each_scenario_accepts():
    """Each scenario's ``--set`` keys, with type, default and range: a tool (or a student)
    could only find them by reading the scenario's source or a failed --set."""
    from ipcviz.scenario.loader import load_listed
    from ipcviz.scenario.settings import apply_settings

    items = {item["id"]: item for item in json.loads(ipcviz("list", "--json").stdout)}
    pipe = {s["name"]: s for s in items["pipe-basic"]["settings"]}
    assert pipe["messages"] == {
        "name": "messages",
        "type": "int",
        "default": 8,
        "quick": 5,
        "min": 1,
        "max": 10000,
        "help": "a whole number from 1 to 10000",
    }
    assert pipe["pause"]["type"] == "float" and pipe["pause"]["default"] == 0.4
    assert items["c/pipe-parent-child"]["settings"] == []  # a program takes no --set
    for scenario in load_listed():  # every key listed is one --set takes, with its value
        listed = items[scenario.id]["settings"]
        apply_settings(scenario, {s["name"]: s["default"] for s in listed})
        assert {s["name"] for s in listed} == set(scenario.params) | set(scenario.quick)


def _one_line_error(result: subprocess.CompletedProcess[str], code: int = 2) -> str:
    """Exit ``code``, no traceback of ipcviz's own, the last stderr line says what is wrong."""
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    err = result.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ipcviz"), result.stderr
    return result.stderr


@pytest.mark.parametrize(
    "args, words",
    [
        (["run", "no-such-scenario", "--headless"], "unknown scenario"),
        (["run", "no-such-scenario", "--headless"], "c/pipe-parent-child"),  # C listed too
        (["run", "/nonexistent/file.py", "--headless"], "no such scenario file"),
        (["replay", "/nonexistent/trace.jsonl", "--headless"], "no such trace"),
        (["run", "pipe-basic", "--frobnicate"], "unrecognized arguments"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_gives_exit_2_and_a_clear_message(args, words):
    assert words in _one_line_error(ipcviz(*args))


@pytest.mark.parametrize(
    "args, command",
    [
        (["list", "--jsn"], "ipcviz list: "),
        (["run", "pipe-basic", "extra"], "ipcviz run: "),
        (["run", "pipe-basic", "--lang", "fr"], "ipcviz run: "),
        (["export", "t.jsonl", "--format", "pdf", "-o", "x"], "ipcviz export: "),
    ],
)
def test_a_usage_error_is_one_line_naming_its_command(args, command):
    """A new user met 2 to 6 lines (the usage block, then the error), and the top-level
    usage for a command's unknown argument: now one line, with the command and its -h."""
    err = _one_line_error(ipcviz(*args))
    assert err.startswith(command) and err.rstrip().endswith(f"{command[:-2]} -h"), err


def test_an_unrecognized_argument_is_quoted_inert():
    """The argument is written back as typed: a terminal escape in it is shown, not sent."""
    err = _one_line_error(ipcviz("list", "\x1b[2Jgone"))
    assert "\x1b" not in err and "\\x1b[2Jgone" in err, repr(err)


def test_scenario_with_syntax_error(tmp_path: Path):
    bad = tmp_path / "bad.py"
    bad.write_text("from ipcviz.scenario import Scenario\nx = (\n")
    err = _one_line_error(ipcviz("run", str(bad), "--headless"))
    assert "bad.py:2: syntax error" in err


def test_scenario_that_raises_at_import(tmp_path: Path):
    bad = tmp_path / "boom.py"
    bad.write_text("import nonexistent_module_xyz\n")
    err = _one_line_error(ipcviz("run", str(bad), "--headless"))
    assert "ModuleNotFoundError" in err and "line 1" in err


@pytest.mark.parametrize(
    "body",
    [
        "from ipcviz.scenario import Scenario\nx = (\n",  # found by the engine's loader
        "raise RuntimeError('boom')\n",
        "x = 1\n",  # no Scenario in it
    ],
)
def test_a_scenario_that_cannot_start_leaves_no_trace(tmp_path: Path, body: str):
    """Bad input is one line and exit 2, and no file: the engine, which finds it, wrote a
    trace of it (header, error, end) at --record, or a new "run" in the traces directory."""
    bad = tmp_path / "bad.py"
    bad.write_text(body)
    data = tmp_path / "data"
    env = {"XDG_DATA_HOME": str(data)}
    trace = tmp_path / "t.jsonl"
    said = ipcviz("run", str(bad), "--headless", "--record", str(trace), env=env)
    _one_line_error(said)
    assert not trace.exists()
    assert "recording to" not in said.stdout  # the log names no file it never wrote
    _one_line_error(ipcviz("run", str(bad), "--headless", env=env))
    traces = data / "ipcviz" / "traces"
    assert not traces.exists() or not any(traces.iterdir())


def test_bad_input_with_force_keeps_the_trace_it_would_replace(tmp_path: Path):
    """``--record OLD --force`` with a scenario that cannot start: the CLI removed OLD before
    the engine found the error, so a typo lost a recording and left nothing in its place.
    The engine removes it only once the input proved good; a run that starts replaces it."""
    bad = tmp_path / "bad.py"
    bad.write_text("from ipcviz.scenario import Scenario\nx = (\n")
    old = tmp_path / "lesson.jsonl"
    old.write_text('{"kept": true}\n')
    _one_line_error(ipcviz("run", str(bad), "--headless", "--record", str(old), "--force"))
    assert old.read_text() == '{"kept": true}\n'
    ran = ipcviz("run", "pipe-basic", "--quick", "--headless", "--record", str(old), "--force")
    assert ran.returncode == 0, ran.stderr
    assert json.loads(old.read_text().splitlines()[0])["format"] == "ipcviz-trace"
    assert stat.S_IMODE(old.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "argv, said",
    [
        (["run", "pipe-basic"], "`ipcviz run pipe-basic --headless`"),
        (["run", "--", "/bin/echo", "a b"], "`ipcviz run --headless -- /bin/echo 'a b'`"),
    ],
)
def test_no_terminal_names_the_headless_command_as_the_user_ran_it(argv, said):
    """Without a terminal the run says what to type for a log; for a program run it said
    ``ipcviz run None --headless``, a command that runs nothing."""
    err = _one_line_error(ipcviz(*argv))
    assert said in err and "None" not in err, err


def test_an_engine_that_ends_before_its_trace_names_no_trace(tmp_path: Path):
    """A scenario file that ends its process at import (os._exit: nothing can catch it)
    ends the engine before the trace file exists; the message named that file anyway
    ("trace so far: PATH", and nothing at PATH)."""
    bad = tmp_path / "gone.py"
    bad.write_text("import os\nos._exit(0)\n")
    trace = tmp_path / "t.jsonl"
    err = _one_line_error(ipcviz("run", str(bad), "--headless", "--record", str(trace)))
    assert "the engine stopped unexpectedly" in err
    assert not trace.exists() and str(trace) not in err and "it wrote no trace" in err


def test_scenario_without_processes(tmp_path: Path):
    bad = tmp_path / "empty.py"
    bad.write_text("from ipcviz.scenario import Scenario\nscenario = Scenario('e', 'empty')\n")
    assert "declares no processes" in _one_line_error(ipcviz("run", str(bad), "--headless"))


def test_exception_in_a_worker_is_reported_with_its_traceback(tmp_path: Path):
    src = tmp_path / "exc.py"
    src.write_text(
        "from ipcviz.scenario import Scenario\n"
        "scenario = Scenario('exc', 'raises')\n"
        "@scenario.process('w')\n"
        "def w(ctx):\n"
        "    1 / 0\n"
    )
    trace = tmp_path / "t.jsonl"
    result = ipcviz("run", str(src), "--headless", "--record", str(trace))
    err = _one_line_error(result)
    assert "worker w raised ZeroDivisionError" in err and "exc.py" in err
    # the worker's traceback is in the narrated log, starting at the scenario's frame
    assert "ZeroDivisionError" in result.stdout and 'exc.py", line 5, in w' in result.stdout
    assert "workers.py" not in result.stdout
    kinds = [json.loads(x)["kind"] for x in trace.read_text().splitlines()[1:]]
    assert "proc.error" in kinds and kinds[-1] == "session.end"


@pytest.mark.parametrize(
    "content, words",
    [
        (b"garbage\n", "not an ipcviz trace"),
        (b'{"format": "something-else", "version": 1}\n', "not an ipcviz trace"),
        (b"", "empty"),
        (b'{"format": "ipcviz-trace", "version": 999, "scenario": {}}\n', "upgrade ipcviz"),
        (b'{"format":"ipcviz-trace","version":1,"scenario":{}}\nnot json\n{"t":0}\n', "line 2"),
        (b"\xff\xfe\x00binary", "not an ipcviz trace"),
    ],
)
def test_bad_traces_give_exit_2(tmp_path: Path, content: bytes, words: str):
    path = tmp_path / "t.jsonl"
    path.write_bytes(content)
    assert words in _one_line_error(ipcviz("replay", str(path), "--headless"))


def test_clean_runs_and_reports():
    result = ipcviz("clean")
    assert result.returncode == 0 and "dead session" in result.stdout


@pytest.mark.parametrize(
    "args, hint",
    [
        (["run", "pipe-basic"], "ipcviz run pipe-basic --headless"),
        (["run", "pipe-basic", "--present"], "--headless"),
        ([], "--headless"),  # the picker
        (["--present"], "--headless"),
        (["replay", "tests/tui/traces/pipe-basic.jsonl"], "--headless"),
        (["replay", "tests/tui/traces/pipe-basic.jsonl", "--present"], "--headless"),
    ],
)
def test_no_terminal_exits_2_with_one_line(args: list[str], hint: str) -> None:
    """stdout a pipe, stdin /dev/null (cron, CI, `ipcviz run X | less`): no screen, no
    escape codes, no hang; one line saying what to use instead."""
    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_DRIVER"}
    result = subprocess.run(
        [sys.executable, "-m", "ipcviz", *args],
        capture_output=True,
        text=True,
        timeout=60,  # a hang (the TUI waiting for keys) fails here
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=Path(__file__).parent.parent,
    )
    assert result.returncode == 2, result
    assert result.stdout == ""  # no escape codes
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ipcviz: stdout is not a terminal"), lines
    assert hint in lines[0]


def test_no_terminal_on_stderr_or_stdin_exits_2() -> None:
    """Textual draws on stderr and reads stdin: a terminal on stdout alone is not enough."""
    import pty

    main, tty = pty.openpty()
    try:
        for stdin, stderr, which in (
            (tty, subprocess.PIPE, "stderr"),
            (subprocess.DEVNULL, tty, "stdin"),
        ):
            result = subprocess.run(
                [sys.executable, "-m", "ipcviz", "run", "pipe-basic"],
                stdin=stdin,
                stdout=tty,
                stderr=stderr,
                timeout=60,  # a hang (the TUI waiting for keys) fails here
                env={k: v for k, v in os.environ.items() if k != "TEXTUAL_DRIVER"},
            )
            assert result.returncode == 2, which
            if stderr is subprocess.PIPE:
                assert result.stderr.decode().startswith("ipcviz: stderr is not a terminal")
        os.set_blocking(main, False)
        said = os.read(main, 65536).decode(errors="replace")
        assert "stdin is not a terminal" in said and "\x1b" not in said, said
    finally:
        os.close(main)
        os.close(tty)


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf", "-inf"])
@pytest.mark.parametrize(
    "command",
    [
        ["run", "pipe-basic", "--headless"],
        ["run", "--headless", "--", "true"],
        ["explore", "shm-race", "--set", "increments=2"],
    ],
    ids=["run", "run-program", "explore"],
)
def test_a_timeout_that_is_no_limit_is_refused(command: list[str], value: str) -> None:
    """`--timeout -1` read as "the scenario's limit", 0 and NaN as "none": a headless run
    given one of them ran with no limit at all, exit 0, where it must be one line, exit 2."""
    at = command.index("--") if "--" in command else len(command)
    result = ipcviz(*command[:at], f"--timeout={value}", *command[at:], timeout=30)
    assert "give a positive number of seconds" in _one_line_error(result), result.stderr


def test_verify_says_a_trace_without_its_end_is_cut_off(
    builtin_traces: BuiltinTraces, tmp_path: Path
) -> None:
    """A trace whose run was killed has no session.end: verify judged what it holds (legal,
    exit 0) but said nothing of the recording being cut, as if the run were whole."""
    builtin_traces.copy("pipe-basic", tmp_path)
    whole = tmp_path / "pipe-basic.jsonl"
    lines = whole.read_text().splitlines(keepends=True)
    assert json.loads(lines[-1])["kind"] == "session.end"
    cut = tmp_path / "cut.jsonl"
    cut.write_text("".join(lines[:-1]))
    said = ipcviz("verify", str(whole))
    assert said.returncode == 0 and "cut off" not in said.stderr, said.stderr
    said = ipcviz("verify", str(cut))
    assert said.returncode == 0 and "legal history" in said.stdout, said.stdout + said.stderr
    assert "cut off: it has no session.end" in said.stderr, said.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a directory to another user needs root")
def test_a_traces_directory_of_another_user_is_refused(tmp_path: Path) -> None:
    """XDG_DATA_HOME in a shared place where another user made ``ipcviz/traces`` first
    (0777): the run was recorded there, and that user could replace the trace."""
    traces = tmp_path / "data" / "ipcviz" / "traces"
    traces.mkdir(parents=True)
    os.chown(traces, 65534, -1)
    traces.chmod(0o777)
    said = ipcviz(
        "run", "pipe-basic", "--headless", "--quick",
        env={"XDG_DATA_HOME": str(tmp_path / "data")},
    )  # fmt: skip
    assert "belongs to another user (uid 65534)" in _one_line_error(said)
    assert not any(traces.iterdir())


def _nodes(tmp_path: Path) -> dict[str, Path]:
    """A FIFO, (as root) a character device like /dev/null, and a symlink like /dev/stdout
    (to /proc/self/fd/1: in ipcviz, its stdout, a pipe here), in ``tmp_path``."""
    nodes = {"fifo": tmp_path / "fifo", "link to stdout": tmp_path / "stdout"}
    os.mkfifo(nodes["fifo"])
    nodes["link to stdout"].symlink_to("/proc/self/fd/1")
    if os.geteuid() == 0:
        nodes["device"] = tmp_path / "null"
        os.mknod(nodes["device"], 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    return nodes


def test_force_never_replaces_a_device_or_a_fifo_with_a_file(
    builtin_traces: BuiltinTraces, tmp_path: Path
) -> None:
    """`--record /dev/null --force` (and `export -o /dev/null --force`) removed the device
    node and put a 0600 file in its place: as root, the machine's /dev/null; `-o
    /dev/stdout --force` did the same to the /dev/stdout link. --force replaces a file (or a
    symlink itself, to a file or to nothing), nothing else: one line, exit 2, node kept."""
    builtin_traces.copy("pipe-basic", tmp_path)
    trace = tmp_path / "pipe-basic.jsonl"
    for what, node in _nodes(tmp_path).items():
        kind = stat.S_IFMT(node.lstat().st_mode)
        said = ipcviz("run", "pipe-basic", "--headless", "--record", str(node), "--force")
        assert "is not a file" in _one_line_error(said), (what, said.stderr)
        for fmt in ("perfetto", "html"):
            said = ipcviz("export", str(trace), "--format", fmt, "-o", str(node), "--force")
            assert "is not a file" in _one_line_error(said), (what, fmt, said.stderr)
        assert stat.S_IFMT(node.lstat().st_mode) == kind, what


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("from ipcviz.scenario import Scenario\nx = (\n", "bad.py:2: syntax error"),
        ("import nonexistent_module_xyz\n", "ModuleNotFoundError"),
        ("x = 1\n", "defines 0 Scenario objects"),
    ],
    ids=["syntax", "import", "no-scenario"],
)
def test_a_scenario_that_cannot_load_is_one_line_in_a_terminal_too(
    tmp_path: Path, body: str, words: str
) -> None:
    """In a terminal, a scenario that cannot load opened the session screen to say ERROR
    (r restarts, q quits): bad input is one line and exit 2, whether a screen is there or
    not. The real binary on a pseudo-terminal (stdin, stdout and stderr): a screen drawn
    would show as escape codes, and one waiting for keys hangs until the timeout."""
    import pty

    bad = tmp_path / "bad.py"
    bad.write_text(body)
    main, tty = pty.openpty()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "ipcviz", "run", str(bad)],
            stdin=tty,
            stdout=tty,
            stderr=tty,
            timeout=60,
            env={k: v for k, v in os.environ.items() if k != "TEXTUAL_DRIVER"},
        )
        os.set_blocking(main, False)
        said = os.read(main, 65536).decode(errors="replace")
    finally:
        os.close(main)
        os.close(tty)
    lines = [ln for ln in said.splitlines() if ln.strip()]
    assert result.returncode == 2, said
    assert len(lines) == 1 and lines[0].startswith("ipcviz: "), lines
    assert words in lines[0] and "\x1b" not in said, said
