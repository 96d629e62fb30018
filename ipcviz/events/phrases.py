"""The sentences the engine writes into a trace (an ``error`` event's ``message``, a
``recording.stopped``): English, with their values in them, since a trace carries no
language. Each is a template here, marked for the catalog; the engine fills it in English,
and the narrator (``said.known``) finds the template and its values again, so the sentence
is shown in the language of the screen (``ipcviz/narrate/said.py``)."""

from __future__ import annotations

import re
from functools import cache

from ipcviz.i18n import N_, Lazy

TIMEOUT = N_("timeout: still running after {seconds} s: {running}")
INTERNAL = N_("internal error: {error} (please report it)")
INTERNAL_AT_END = N_("internal error at the end: {error}")
CHECK_RAISED = N_("check {description} raised {error}")
#: a check's ``detail`` when it raised (the check event's, next to the ``error``)
CHECK_RAISED_DETAIL = N_("the check raised {error}")
#: a check's ``detail`` when it failed after a kill (``undecided``: no ✗, see engine/checks.py)
CHECK_UNDECIDED = N_("cannot decide: {names} killed before the end (saw {detail})")
RECORDING_STOPPED = N_(
    "recording stopped: {why}; {path} keeps the events before that and stays valid; the run goes on"
)
THREAD_GATE = N_(
    "cannot open the step gate of thread {thread} of process {pid} (/proc/{pid}/fd/{fd} is "
    "not its gate pipe): that thread stays at its gate"
)
ATTACH_FAILED = N_("strace could not attach to {pid}: {why}")
#: the strace under a program or a scenario's command died (killed, crashed) while its
#: processes ran: they are killed, as they could no longer be seen
STRACE_ENDED = N_(
    "the strace of {name} ended ({status}) while processes {pids} ran: killed, as they could "
    "no longer be seen"
)
#: ``session.end``'s reason when the user stopped twice (``Linearizer.abandon``)
LEFT_OUT = N_(
    "stopped at once by the user: {count} operations the processes made before the stop "
    "were not yet put in order and are not in the trace"
)
#: ``session.end``'s reason when the viewer died and the engine ended at once (``_viewer_gone``)
LEFT_OUT_GONE = N_(
    "viewer gone: {count} operations the processes made before the stop were not yet put "
    "in order and are not in the trace"
)
#: ``order.conflict``: the engine found no legal place for an operation (``reason``: the
#: legality rule's, in English, or ``NO_PLACE``)
CONFLICT = N_("no order of the recorded operations explains this one: {reason}")
#: ``CONFLICT``'s reason for an operation legal by itself that still found no place
NO_PLACE = N_("no legal place")

#: ``program.leftover``: what became of an object a traced program made and left, by the
#: event's ``reason``; its values are ``what``, ``name``, ``hint`` (``sources/strace/engine.py``)
LEFTOVERS = {
    "removed": N_("ipcviz ended the program before it removed {kind} {name}: ipcviz removed it"),
    "replaced": N_(
        "the {kind} the program made at {name} is no longer under that name: another's is there "
        "now (ipcviz leaves it alone)"
    ),
    "unproven": N_(
        "ipcviz ended the program and left {kind} {name}: nothing shows the program's own call "
        "made it (opened by key or name without an exclusive create, or another's put there "
        "since); if it is the program's, remove it with `{hint}`"
    ),
    "maybe": N_(
        "the program opened {kind} {name} with O_CREAT and left it: whether it was there "
        "before the run is not known (/dev/mqueue is not mounted); if it is the program's, "
        "remove it with `{hint}`"
    ),
    "kept": N_(
        "the program left {kind} {name} behind (it ended by itself, and what a program keeps "
        "is its own: remove it with `{hint}`)"
    ),
}
#: The kinds of object a ``program.leftover`` names (``what``); System V's ``msqid``,
#: ``semid``, ``shmid`` are identifiers, shown as they are.
LEFTOVER_KINDS = {
    "FIFO": N_("FIFO"),
    "POSIX queue": N_("POSIX queue"),
    "POSIX shared memory": N_("POSIX shared memory"),
    "POSIX semaphore": N_("POSIX semaphore"),
}

#: every template ``known`` looks for, longest first (the most specific wins)
TEMPLATES: tuple[str, ...] = tuple(
    sorted(
        (
            TIMEOUT,
            INTERNAL,
            INTERNAL_AT_END,
            CHECK_RAISED,
            CHECK_RAISED_DETAIL,
            CHECK_UNDECIDED,
            RECORDING_STOPPED,
            THREAD_GATE,
            ATTACH_FAILED,
            STRACE_ENDED,
            CONFLICT,
            LEFT_OUT,
            LEFT_OUT_GONE,
        ),
        key=len,
        reverse=True,
    )
)


def match(text: str) -> Lazy | None:
    """``text`` as the template it was filled from, with its values (None: no template)."""
    for template, pattern in _patterns():
        m = pattern.fullmatch(text)
        if m is not None:
            return Lazy(template, **m.groupdict())
    return None


@cache
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Each template as a pattern: its words as they are, each ``{name}`` any text (the
    same text where a name comes back)."""
    out = []
    for template in TEMPLATES:
        parts, seen = [], set()
        for i, piece in enumerate(re.split(r"\{(\w+)\}", template)):
            if i % 2 == 0:
                parts.append(re.escape(piece))
            elif piece in seen:
                parts.append(f"(?P={piece})")
            else:
                seen.add(piece)
                parts.append(f"(?P<{piece}>.*?)")
        out.append((template, re.compile("".join(parts), re.DOTALL)))
    return tuple(out)


#: Why a scenario's commands are seen by the probes alone (a ``notice`` event's ``reason``)
#: → its words (``ipcviz/sources/strace/commands.py``).
UNTRACED = {
    "no-strace": N_(
        "strace is not installed (apt-get install strace): programs are seen by the kernel "
        "probes alone, not their system calls"
    ),
    "no-ptrace": N_(
        "tracing is disabled on this machine (kernel.yama.ptrace_scope = 3): programs are "
        "seen by the kernel probes alone, not their system calls"
    ),
}

#: Other ``notice`` lines, by their ``reason`` (fields: the event's own).
NOTICES = {
    **UNTRACED,
    "unseen-use": N_(
        "process {pid} uses {name}, which changes without system calls (a store, an "
        "uncontended sem_wait): ipcviz cannot see what it does there"
    ),
    "outside-end": N_(
        "a process ipcviz does not watch opened the other end of {name} (a client from "
        "another shell?): what it writes or reads there is not seen"
    ),
    "unseen-value": N_(
        "process {pid} set {name} to values strace does not print (semctl SETALL): from "
        "now on only the kernel's readings tell its value"
    ),
    "unseen-contents": N_(
        "a call on {name} is not explained by the traced calls (a message none of them "
        "sent, a refusal where they left room): the queue was there before the run "
        "(opened with O_CREAT alone; /dev/mqueue is not mounted to tell), or a process "
        "ipcviz does not watch uses it: its contents are not all known"
    ),
    "observer-eintr": N_(
        "process {pid}'s semop on {name} failed with EINTR on a {signal}: under strace "
        "every signal stops a process and a stopped semop is not restarted; without strace, "
        "unless it handles {signal}, it would still be waiting"
    ),
    "attach-missed": N_(
        "process {pid} ({name}) started while ipcviz attached, before strace held its "
        "parent: it is not traced (its calls are not shown)"
    ),
    "attach-refused": N_(
        "process {pid} ({name}) is not traced, strace could not attach to it: its calls "
        "are not shown, nor when it lets go of the pipes it holds"
    ),
    "attach-let-go": N_(
        "process {pid} let go of its end of {name} before strace held it (a close or an "
        "exit that is not shown): it is not counted as holding it any more"
    ),
}
