"""Every way out of ``ipcviz run --headless`` is an exit code and at most one line: a reader
that goes away, a stdout that cannot be written, an unusable data directory or home, a
descriptor limit, a check that exits, a worker that never stops printing."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

from tests.faults.harness import kernel_objects_left, read_lines, write_scenario
from tests.leaks import leftovers

RUN = [sys.executable, "-m", "ipcviz", "run"]


def _run(
    args: list[str], tmp_path: Path, stdout: int | None = None, **kw: object
) -> tuple[int, str]:
    """Run the CLI with ``stdout`` as given; (exit code, stderr)."""
    err = tmp_path / "stderr.txt"
    with err.open("wb") as e:
        rc = subprocess.run(
            args, stdout=stdout, stderr=e, stdin=subprocess.DEVNULL, timeout=120, **kw
        ).returncode
    return rc, err.read_text(errors="replace")


def _one_line(stderr: str) -> bool:
    return len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr


def test_a_reader_that_goes_away_ends_the_run_quietly(tmp_path: Path, record) -> None:
    """``ipcviz run … --headless | head -1``: exit 0, nothing on stderr, nothing left, and
    the trace still ends with ``session.end``."""
    trace = tmp_path / "t.jsonl"
    r, w = os.pipe()
    proc = subprocess.Popen(
        [*RUN, "pipe-basic", "--headless", "--quick", "--record", str(trace)],
        stdout=w,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    os.close(w)
    with os.fdopen(r, "rb") as reader:
        first = reader.readline()  # then the reader is gone, as `head -1` is
    _, err = proc.communicate(timeout=120)
    _, events = read_lines(trace)
    ends = [e["kind"] for e in events if e["kind"] == "session.end"]
    left = kernel_objects_left(events)
    record(
        "stdout-epipe",
        f"exit {proc.returncode}, stderr {len(err)} bytes; trace ends: {ends}",
        left,
    )
    assert first.startswith(b"# recording to")
    assert proc.returncode == 0 and err == b"", err
    assert ends == ["session.end"] and not left


def test_stdout_on_a_full_device_or_closed(tmp_path: Path, record) -> None:
    """/dev/full: one line naming the error, exit 2. A closed stdout: runs, exit 0."""
    with open("/dev/full", "wb") as full:
        rc_full, err_full = _run([*RUN, "pipe-basic", "--headless", "--quick"], tmp_path, full)
    rc_closed, err_closed = _run(
        [*RUN, "pipe-basic", "--headless", "--quick"],
        tmp_path,
        None,
        preexec_fn=lambda: os.close(1),
    )
    record(
        "stdout-full",
        f"/dev/full: exit {rc_full}, {err_full.strip()!r}; stdout closed: exit {rc_closed}",
        [],
    )
    assert rc_full == 2 and _one_line(err_full) and "No space left" in err_full
    assert rc_closed == 0 and "Traceback" not in err_closed, err_closed


def test_unusable_data_directory_or_home_is_one_line(tmp_path: Path, record) -> None:
    """XDG_DATA_HOME under a file, or on a read-only mount (when the machine lets us make
    one), exit 2 with one line; ``HOME=''`` records under the home from the password
    database, never under the current directory."""
    not_dir = tmp_path / "file"
    not_dir.write_text("")
    env = {**os.environ, "XDG_DATA_HOME": str(not_dir)}
    rc_file, err_file = _run([*RUN, "pipe-basic", "--headless", "--quick"], tmp_path, env=env)
    assert rc_file == 2 and _one_line(err_file) and "traces directory" in err_file, err_file

    ro = tmp_path / "ro"
    ro.mkdir()
    bind = f'mount --bind -o ro "{ro}" "{ro}" && exec "$@"'
    mount = subprocess.run(
        ["unshare", "-m", "sh", "-c", bind, "-", *RUN, "pipe-basic", "--headless", "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "XDG_DATA_HOME": str(ro)},
        stdin=subprocess.DEVNULL,
    )
    ro_result = "no read-only mount here"
    if "Read-only file system" in mount.stderr or mount.returncode == 0:
        ro_result = f"exit {mount.returncode}"
        assert mount.returncode == 2 and _one_line(mount.stderr), mount.stderr

    cwd = tmp_path / "cwd"
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "XDG_DATA_HOME"}
    env["HOME"] = ""
    out = subprocess.run(
        [*RUN, "pipe-basic", "--headless", "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )
    where = Path(out.stdout.splitlines()[0].removeprefix("# recording to "))
    where.unlink(missing_ok=True)  # it went to the real home: do not leave it there
    record(
        "data-dir-unusable",
        f"XDG_DATA_HOME under a file: exit {rc_file}; read-only: {ro_result}; HOME='': "
        f"exit {out.returncode}, recorded under {where.parents[3]}",
        [],
    )
    assert out.returncode == 0 and not list(cwd.iterdir())
    assert where.is_absolute() and not str(where).startswith(str(cwd))


MANY = """
from ipcviz.scenario import Scenario
scenario = Scenario('many', 'many objects', timeout=60)
for i in range(6):
    scenario.sysv_queue(f'v{i}')
    scenario.shared_memory(f'm{i}', cells=4)
    scenario.semaphore(f's{i}')
    scenario.posix_queue(f'q{i}', max_messages=4, max_message_size=64)
    scenario.fifo(f'f{i}')
for j in range(6):
    @scenario.process(f'w{j}')
    def w(ctx):
        pass
"""


def test_a_descriptor_limit_still_cleans_everything(tmp_path: Path, record) -> None:
    """``ulimit -n`` from too low to just enough: exit 0 or 2 with one line naming the
    limit, and whatever was created is removed (the engine keeps a spare descriptor for its
    shutdown, and each shutdown step is guarded)."""
    scenario = write_scenario(tmp_path, MANY, "many")
    before = set(leftovers())
    results = {}
    for n in (30, 40, 44, 48, 52, 64):
        trace = tmp_path / f"t{n}.jsonl"

        def limit(n: int = n) -> None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))

        rc, err = _run(
            [*RUN, str(scenario), "--headless", "--record", str(trace)],
            tmp_path,
            subprocess.DEVNULL,
            preexec_fn=limit,
        )
        _, events = read_lines(trace)
        results[n] = (rc, err.strip(), kernel_objects_left(events))
    new = sorted(set(leftovers()) - before)
    record(
        "fd-limit",
        "; ".join(f"-n {n}: exit {rc}" for n, (rc, _, _) in results.items()),
        [x for _, _, left in results.values() for x in left] + new,
    )
    for n, (rc, err, left) in results.items():
        assert rc in (0, 2) and not left, (n, rc, err, left)
        assert rc == 0 or (_one_line(err) and "limit" in err), (n, err)
    assert any(rc == 2 for rc, _, _ in results.values()), "no limit was low enough"
    assert not new


CHECK_EXITS = """
import sys
from ipcviz.scenario import Scenario
scenario = Scenario('exits', 'a check exits')

@scenario.process('w')
def w(ctx):
    pass

@scenario.check('a claim that is false')
def false(run):
    return False, 'it is false'

@scenario.check('a check that exits')
def leave(run):
    sys.exit(0)
"""


def test_a_check_that_exits_cannot_hide_a_failure(tmp_path: Path, record) -> None:
    scenario = write_scenario(tmp_path, CHECK_EXITS, "exits")
    trace = tmp_path / "t.jsonl"
    rc, err = _run(
        [*RUN, str(scenario), "--headless", "--record", str(trace)], tmp_path, subprocess.DEVNULL
    )
    _, events = read_lines(trace)
    end = next(e for e in events if e["kind"] == "session.end")
    checks = [(e["description"], e["ok"]) for e in events if e["kind"] == "check"]
    record("check-exits", f"exit {rc}, outcome {end['outcome']}; {err.strip()[:80]}", [])
    assert rc == 2 and end["outcome"] == "error", (rc, err)
    assert checks == [("a claim that is false", False), ("a check that exits", False)]
    assert "SystemExit" in err and "Traceback" not in err


FLOOD = """
import os
from ipcviz.scenario import Scenario
scenario = Scenario('flood', 'prints 48 MiB')

@scenario.process('w')
def w(ctx):
    block = b'y' * (1 << 20)
    for _ in range(48):
        os.write(1, block)
"""


def test_output_is_capped_per_process_and_the_trace_says_so(tmp_path: Path, record) -> None:
    scenario = write_scenario(tmp_path, FLOOD, "flood")
    trace = tmp_path / "t.jsonl"
    out = tmp_path / "out.txt"
    with out.open("wb") as f:
        rc, err = _run([*RUN, str(scenario), "--headless", "--record", str(trace)], tmp_path, f)
    _, events = read_lines(trace)
    outputs = [e for e in events if e["kind"] == "proc.output"]
    import base64

    recorded = sum(len(base64.b64decode(e["data"])) for e in outputs)
    cut = [e.get("cut") for e in outputs if "cut" in e]
    size = trace.stat().st_size
    record(
        "output-flood",
        f"48 MiB written: {recorded} bytes recorded, cut={cut}, trace {size // 1024} KiB, "
        f"exit {rc}",
        [],
    )
    assert rc == 0, err
    assert recorded == 1 << 20 and cut == [1 << 20]
    assert size < 3 << 20
    assert "output cut after 1048576 bytes" in out.read_text(errors="replace")
    json.loads(trace.read_text().splitlines()[-1])  # the trace is whole


EXACT = """
import os
from ipcviz.scenario import Scenario
scenario = Scenario('exact', 'prints exactly the recorded limit, then exits')

@scenario.process('w')
def w(ctx):
    block = b'z' * (1 << 16)
    for _ in range(16):
        os.write(1, block)
"""


def test_output_of_exactly_the_limit_is_whole_not_cut(tmp_path: Path) -> None:
    """1 MiB written, 1 MiB recorded: nothing was cut, and the trace says nothing was (it
    said "output cut after 1048576 bytes" for the event that reached the limit)."""
    scenario = write_scenario(tmp_path, EXACT, "exact")
    trace = tmp_path / "t.jsonl"
    out = tmp_path / "out.txt"
    with out.open("wb") as f:
        rc, err = _run([*RUN, str(scenario), "--headless", "--record", str(trace)], tmp_path, f)
    assert rc == 0, err
    outputs = [e for e in read_lines(trace)[1] if e["kind"] == "proc.output"]
    import base64

    assert sum(len(base64.b64decode(e["data"])) for e in outputs) == 1 << 20
    assert not [e for e in outputs if "cut" in e]
    assert "output cut" not in out.read_text(errors="replace")


def test_the_output_cap_at_its_edges() -> None:
    """One rule for a worker's output and a traced program's (``capped``): whole up to the
    cap; the write that crosses it is cut there; after a write that ended exactly at the
    cap, the next says the cut (with nothing kept); after a cut, nothing more."""
    from ipcviz.engine.life import OUTPUT_CAP, capped

    assert capped(0, b"ab") == (b"ab", None)
    assert capped(OUTPUT_CAP - 2, b"ab") == (b"ab", None)  # ends exactly at the cap: whole
    assert capped(OUTPUT_CAP, b"cd") == (b"", OUTPUT_CAP)  # the next one says the cut
    assert capped(OUTPUT_CAP - 1, b"ab") == (b"a", OUTPUT_CAP)  # crosses it: cut there
    assert capped(OUTPUT_CAP + 1, b"ef") is None  # the cut was said
    assert capped(10, b"abc", size=5) == (b"abc", 13)  # strace showed 3 of 5 bytes


def test_an_engine_whose_viewer_is_gone_before_its_header_ends_cleanly(tmp_path: Path) -> None:
    """The engine's first write, the trace header to its viewer, met a viewer already gone
    (``python -m ipcviz.engine … | true``, or ``ipcviz run`` SIGKILLed as it started): its
    handler read ``outcome`` before ``__init__`` had set it, the engine died with a
    traceback, and its registry file and a trace of a header alone stayed until the next
    ``ipcviz clean``. Now it ends at once: exit 0, no traceback, no process started, no
    registry, and a trace that ends with ``session.end`` (reason: viewer gone)."""
    from ipcviz.session.registry import runtime_dir

    trace = tmp_path / "t.jsonl"
    sid = os.urandom(4).hex()
    r, w = os.pipe()
    os.close(r)  # the viewer is gone before the engine writes anything
    scenario = Path(__file__).parents[2] / "scenarios" / "sysv_shm.py"
    engine = [sys.executable, "-m", "ipcviz.engine", str(scenario)]
    try:
        rc, err = _run([*engine, "--trace", str(trace), "--sid", sid], tmp_path, stdout=w)
    finally:
        os.close(w)
    assert rc == 0 and "Traceback" not in err, err
    assert not (runtime_dir() / f"{sid}.json").exists()
    _, events = read_lines(trace)
    assert [e["kind"] for e in events] == ["session.end"], events
    assert events[0]["reason"] == "viewer gone"
    assert not [x for x in leftovers() if sid in x]
