"""``ipcviz replay TRACE --headless``: the narrated log of a recording, as fast as it reads.

A headless replay is one straight fold of the trace in order: the narrator applies each
event to its model and words it (the same lines as the live run). It needs no random
access, so it keeps nothing per event; anything that needs the model *at* an event or a
narration step goes through :class:`~ipcviz.replay.TraceIndex`.

Lines are written in blocks, not one ``write`` and ``flush`` per event: the output is the
same bytes, in the same order, and whatever was told before a bad line further on is
written out before the error is raised.
"""

from __future__ import annotations

import sys
from typing import TextIO

from ipcviz.events.trace import TraceReader
from ipcviz.i18n import _

#: Lines gathered before one write to stdout.
BLOCK = 4096


def replay_headless(reader: TraceReader, lang: str, out: TextIO | None = None) -> int:
    """Print the intro and every event's lines; TraceError (exit 2) for a bad line.

    The rules of ``ipcviz verify`` are checked in the same pass, on the narrator's state
    before each event: at the first violation a line says that the trace is not a legal
    history, with verify's reason, *before* the first line that may show an impossible
    value. Returns the number of violations (the caller says it again at the end)."""
    from ipcviz.bytefmt import safe_text
    from ipcviz.model.verify import Verifier
    from ipcviz.narrate.headless import Narrator

    out = sys.stdout if out is None else out
    narrator = Narrator(reader.header, lang)
    entry = narrator.entry
    feed, state = Verifier().feed, narrator.state
    violations = 0
    pending: list[str] = narrator.intro()
    add = pending.extend
    try:
        for event in reader.events():  # checked by the reader: TraceError if bad
            bad = feed(state, event)
            if bad:
                if not violations:
                    pending.append(
                        "!! "
                        + _(
                            "NOT A LEGAL HISTORY from here on: values shown may be impossible "
                            "(ipcviz verify: {why})"
                        ).format(why=safe_text(bad[0].line(), 300))
                    )
                violations += len(bad)
            told = entry(event)
            if told is not None:
                add(told.lines())
                if len(pending) >= BLOCK:
                    out.write("\n".join(pending) + "\n")
                    out.flush()
                    pending.clear()
    finally:
        if pending:
            out.write("\n".join(pending) + "\n")
        out.flush()
    return violations
