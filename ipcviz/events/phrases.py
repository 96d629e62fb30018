"""The sentences the engine writes into a trace (an ``error`` event's ``message``, a
``recording.stopped``): English, with their values in them, since a trace carries no
language. Each is a template here, marked for the catalog; the engine fills it in English,
and the narrator (``said.known``) finds the template and its values again, so the sentence
is shown in the language of the screen (``ipcviz/narrate/said.py``)."""

from __future__ import annotations

from ipcviz.i18n import N_

TIMEOUT = N_("timeout: still running after {seconds} s: {running}")
INTERNAL = N_("internal error: {error} (please report it)")
INTERNAL_AT_END = N_("internal error at the end: {error}")
CHECK_RAISED = N_("check {description} raised {error}")
#: a check's ``detail`` when it raised (the check event's, next to the ``error``)
CHECK_RAISED_DETAIL = N_("the check raised {error}")
RECORDING_STOPPED = N_(
    "recording stopped: {why}; {path} keeps the events before that and stays valid; the run goes on"
)
THREAD_GATE = N_(
    "cannot open the step gate of thread {thread} of process {pid} (/proc/{pid}/fd/{fd} is "
    "not its gate pipe): that thread stays at its gate"
)
ATTACH_FAILED = N_("strace could not attach to {pid}: {why}")

#: every template ``known`` looks for, longest first (the most specific wins)
TEMPLATES: tuple[str, ...] = tuple(
    sorted(
        (
            TIMEOUT,
            INTERNAL,
            INTERNAL_AT_END,
            CHECK_RAISED,
            CHECK_RAISED_DETAIL,
            RECORDING_STOPPED,
            THREAD_GATE,
            ATTACH_FAILED,
        ),
        key=len,
        reverse=True,
    )
)
