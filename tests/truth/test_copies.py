"""``_Copies``: a queue's sends of one message in the pool, which leave mostly from the
front (stepped past, the lists cut now and then). Checked against a plain list."""

from __future__ import annotations

import random

from ipcviz.engine.linearize import Op, _Copies
from ipcviz.tracer import codes as C


def test_copies_answer_as_a_plain_list_does_while_sends_come_and_go() -> None:
    rng = random.Random(7)
    copies, plain = _Copies(), []
    t = 0
    for step in range(6000):
        if plain and rng.random() < 0.48:  # mostly the oldest leaves, now and then another
            victim = plain[0] if rng.random() < 0.9 else rng.choice(plain)
            plain.remove(victim)
            assert copies.remove(victim) == (not plain)
        else:
            t += rng.randrange(0, 3)  # equal begins too
            op = Op(1, t, t + rng.randrange(0, 50), (C.MSGQ_SEND, 0, t, 1, 1, b"y"))
            plain.append(op)
            plain.sort(key=lambda o: o.b)
            copies.add(op)
        if step % 7 == 0 and plain:
            probe = rng.choice(plain)
            at = probe.b + rng.randrange(-5, 40)
            assert len(copies) == len(plain)
            assert {id(o) for o in copies.live()} == {id(o) for o in plain}
            assert copies.began_before(at) == sum(o.b < at for o in plain)
            assert {id(o) for o in copies.overlapping(probe)} == {
                id(o) for o in plain if o.b < probe.e and o.e > probe.b and o is not probe
            }
    assert not copies.remove(Op(1, 0, 0, (C.MSGQ_SEND, 0, 0, 1, 1, b"y"))) or not plain
