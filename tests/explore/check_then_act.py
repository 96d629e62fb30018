"""A check-then-act bug that only a long preemption shows: the guest is locked in.

The guest looks at the door (check) and, if it is open, walks in (act). The night guard
sweeps the hall (``rounds`` operations), locks the door, and looks whether anyone is
inside. The guest is locked in only if it is preempted right between its look and its
step while the guard does *all* of that: a few dozen operations in a row. Free running,
the guest's two operations are microseconds apart; a random choice at each gate leaves
the guest waiting through ``rounds + 2`` choices with probability 2**-(rounds + 2).
"""

from ipcviz.scenario import Scenario

scenario = Scenario(
    "check-then-act",
    "The last guest and the night guard: check, then act",
    teaches=["T31"],
    params={"rounds": 30},
    timeout=30,
)
hall = scenario.shared_memory("hall", cells=4)  # 0: door locked, 1: guest inside, 2: sweep


@scenario.process("guest")
def guest(ctx):
    if hall[0] == 0:  # check: the door is open …
        hall[1] = 1  # … act: walk in (but the door may be locked by now)
        ctx.report("entered", True)
    else:
        ctx.report("entered", False)


@scenario.process("guard")
def guard(ctx):
    for i in range(ctx.params["rounds"]):
        hall[2] = i + 1  # sweep one row
    hall[0] = 1  # lock the door
    ctx.report("saw_inside", hall[1] == 1)  # anyone inside to let out?


@scenario.check("nobody is locked in: a guest who entered was seen by the guard")
def nobody_locked_in(run):
    entered = run.report("guest", "entered")
    saw = run.report("guard", "saw_inside")
    return not entered or saw, f"guest entered: {entered}, guard saw someone inside: {saw}"
