"""A hostile environment: a process limit, a full /dev/shm. One clear line, exit 2,
nothing left behind.

``ulimit -u`` (RLIMIT_NPROC) does not bind root, so the runs are made as uid 65531; they
keep only the capability to read this checkout and the interpreter under /root
(``dac_override``, ``dac_read_search``: not ``sys_resource`` or ``sys_admin``, which would
lift the limit). /dev/shm is made full in a private mount namespace (a 64 KiB tmpfs).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.faults.harness import replays, write_scenario

#: A uid of this test's own, not ``nobody``: other tests run processes as nobody at the
#: same time (xdist), which count against the limit and would look like this run's
#: leftovers (it failed so once in a suite run).
NOBODY = 65531
AS_NOBODY = [
    *("setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"),
    *("--inh-caps=+dac_override,+dac_read_search", "--ambient-caps=+dac_override,+dac_read_search"),
]
#: A limit one higher each time: a fork fails at every place in turn (the CLI's, the
#: engine's for each worker, the forking worker's).
FORKS = """
import os
from ipcviz.scenario import Scenario
scenario = Scenario('forks', 'a worker that forks', timeout=60)
p = scenario.pipe('p')
s = scenario.semaphore('s')

@scenario.process('w')
def w(ctx):
    if ctx.fork('kid') == 0:
        os._exit(0)
    os.wait()

@scenario.process('v', count=2)
def v(ctx):
    pass
"""


def _nobody_left(home: Path) -> list[str]:
    """What uid nobody has now: processes, /dev/shm entries, System V objects, registries."""
    out = []
    for p in psutil.process_iter(["uids", "cmdline"]):
        try:
            if p.info["uids"] and p.info["uids"].real == NOBODY:
                out.append(f"process {p.pid} {' '.join(p.info['cmdline'] or [])[:60]}")
        except psutil.NoSuchProcess:
            pass
    for name in os.listdir("/dev/shm"):
        try:
            if os.stat(f"/dev/shm/{name}").st_uid == NOBODY:
                out.append(f"/dev/shm/{name}")
        except OSError:
            pass
    for table in ("sem", "msg", "shm"):
        try:
            lines = Path(f"/proc/sysvipc/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        out += [f"sysv {table} {ln.split()[1]}" for ln in lines if str(NOBODY) in ln.split()[4:6]]
    rdir = Path(f"/tmp/ipcviz-{NOBODY}")
    if rdir.is_dir() and not rdir.is_symlink():
        out += [f"{rdir}/{n}" for n in os.listdir(rdir)]
    return out


def test_a_process_limit_is_one_line_and_leaves_nothing(tmp_path: Path, record) -> None:
    home = tmp_path / "home"
    home.mkdir()
    os.chown(home, NOBODY, -1)
    os.chmod(tmp_path, 0o755)
    src = write_scenario(tmp_path, FORKS)
    os.chmod(src, 0o644)
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "XDG_DATA_HOME": str(home / "data")}
    rdir = Path(f"/tmp/ipcviz-{NOBODY}")
    made_rdir = not rdir.exists()  # then nobody's runs make it: removed at the end
    before = set(_nobody_left(home))
    results = []
    run = [sys.executable, "-m", "ipcviz", "run", str(src), "--headless"]
    for limit in range(1, 10):
        r = subprocess.run(
            [*AS_NOBODY, "prlimit", f"--nproc={limit}", *run],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd="/",
            stdin=subprocess.DEVNULL,
        )
        if limit == 1 and "setpriv" in r.stderr:
            pytest.skip(f"cannot run as nobody with those capabilities: {r.stderr.strip()}")
        err = [ln for ln in r.stderr.splitlines() if ln.strip()]
        assert "Traceback" not in r.stderr, r.stderr
        assert r.returncode in (0, 2), (limit, r.returncode, r.stderr)
        if r.returncode == 2:
            assert len(err) == 1 and "ulimit -u" in err[0], (limit, err)
        left = sorted(set(_nobody_left(home)) - before)
        assert not left, (limit, left)
        results.append(f"-u {limit}: exit {r.returncode}" + (f" ({err[0]})" if err else ""))
        if r.returncode == 0:
            break
    if made_rdir and rdir.is_dir() and not rdir.is_symlink():
        rdir.rmdir()  # empty (checked above): other tests need it absent
    assert results[-1].startswith(f"-u {limit}: exit 0"), results
    record("nproc-limit", "; ".join(results), [])


SEM_AND_SHM = """
from ipcviz.scenario import Scenario
scenario = Scenario('full-shm', 'objects on a full /dev/shm', timeout=60)
{objects}

@scenario.process('w')
def w(ctx):
    pass
"""


@pytest.mark.parametrize("what", ["semaphore", "shared memory"], ids=["posix-sem", "posix-shm"])
def test_a_full_dev_shm_is_one_line(tmp_path: Path, what: str, record) -> None:
    objects = "scenario.semaphore('s')" if what == "semaphore" else "scenario.shared_memory('m')"
    src = write_scenario(tmp_path, SEM_AND_SHM.format(objects=objects))
    trace = tmp_path / "run.jsonl"
    script = (
        "mount -t tmpfs -o size=64k tmpfs /dev/shm || exit 99\n"
        "dd if=/dev/zero of=/dev/shm/fill bs=4k count=100 2>/dev/null\n"
        f"{sys.executable} -m ipcviz run {src} --headless --record {trace}\n"
        "echo rc=$?\n"
        "ls -A /dev/shm\n"
    )
    r = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    if r.returncode == 99 or "rc=" not in r.stdout:
        pytest.skip(f"cannot give a run a small private /dev/shm here: {r.stderr.strip()}")
    rc = int(r.stdout.split("rc=")[1].split()[0])
    left = [f"/dev/shm/{n}" for n in r.stdout.split("rc=")[1].split()[1:] if n != "fill"]
    err = [ln for ln in r.stderr.splitlines() if ln.strip()]
    ok, why = replays(trace)
    fid = "full-shm-sem" if what == "semaphore" else "full-shm-segment"
    record(fid, f"exit {rc}: {' / '.join(err)[:200]}", left, "yes" if ok else why)
    assert rc == 2 and len(err) == 1, r.stderr
    assert "No space left on device" in err[0] and "df -h /dev/shm" in err[0], err
    assert "internal error" not in err[0]
    assert not left and ok, (left, why)
