"""A slow, long pipe scenario for the TUI's live control tests (freeze, kill, restart, quit).

The parent writes a numbered line every 50 ms for up to a minute; the child reads them.
Tests stop it long before it ends.
"""

from ipcviz.scenario import Scenario

scenario = Scenario(
    "tui-slow-pipe",
    "A slow pipe, for control tests",
    teaches=["T4"],
    description="The parent writes a line every 50 ms; the child reads each one.",
    params={"messages": 1200, "pause": 0.05},
    timeout=120,
)
scenario.step("write", "The parent writes, the child reads.", "부모가 쓰고 자식이 읽습니다.")
pipe = scenario.pipe("p", writer="parent", reader="child")


@scenario.process("parent")
def parent(ctx):
    ctx.step("write")
    for i in range(ctx.params["messages"]):
        pipe.write(f"line {i}\n".encode())
        ctx.sleep(ctx.params["pause"])
    pipe.close_write()


@scenario.process("child")
def child(ctx):
    while pipe.read(4096):
        pass
