"""Kernel limits of POSIX queues give one clear line naming the sysctl file, and exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.mechanisms.helpers import run_file


def _limit(name: str) -> int:
    return int(Path(f"/proc/sys/fs/mqueue/{name}").read_text())


QUEUE = """
    from ipcviz.scenario import Scenario

    scenario = Scenario("limits", "too big a queue")
    q = scenario.posix_queue("q", max_messages={m}, max_message_size={s})

    @scenario.process("p")
    def p(ctx):
        q.send(b"never")
"""


@pytest.mark.parametrize(
    ("field", "sysctl"),
    [("max_messages", "msg_max"), ("max_message_size", "msgsize_max")],
)
def test_posix_queue_beyond_the_limit_names_the_file(tmp_path: Path, field: str, sysctl: str):
    limit = _limit(sysctl)
    m = limit + 1 if field == "max_messages" else 4
    s = limit + 1 if field == "max_message_size" else 16
    result, _header, events = run_file(tmp_path, "limits", QUEUE.format(m=m, s=s))
    assert result.returncode == 2
    out = result.stdout + result.stderr
    assert f"/proc/sys/fs/mqueue/{sysctl} = {limit}" in out, out
    assert "Traceback" not in out
    assert not [e for e in events if e["kind"] == "proc.start"]  # nothing ran
