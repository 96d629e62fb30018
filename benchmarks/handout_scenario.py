"""Benchmark scenario: a lecture of many narration steps (``params["steps"]``), each after a
message through a pipe under a semaphore, so every handout picture differs a little
from the one before it (what a long recorded lecture looks like to the exporters)."""

import os

from ipcviz.scenario import Scenario

#: Narration steps (``HANDOUT_STEPS`` in the environment: the benchmark records 200 and 400).
STEPS = int(os.environ.get("HANDOUT_STEPS", "200"))

scenario = Scenario(
    "handout-bench",
    "Handout benchmark: many narration steps",
    params={"steps": STEPS},
    quick={"steps": STEPS},
    timeout=600,
)
for k in range(STEPS):
    scenario.step(
        f"s{k:03d}",
        f"Step {k}: the writer has sent {k} messages through the pipe.",
        f"{k}단계: 쓰는 쪽이 파이프로 메시지 {k}개를 보냈습니다.",
    )
pipe = scenario.pipe("p", writer="writer", reader="reader")
lock = scenario.semaphore("lock", value=1)


@scenario.process("writer")
def writer(ctx):
    for k in range(ctx.params["steps"]):
        with lock:
            pipe.write(f"message {k}\n".encode())
        ctx.step(f"s{k:03d}")
    pipe.close_write()


@scenario.process("reader")
def reader(ctx):
    while pipe.read(4096):
        pass
