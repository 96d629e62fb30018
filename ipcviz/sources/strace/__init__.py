"""Unmodified programs under ``strace -f``: its text output becomes ipcviz events.

``parser`` reads strace's lines (pure, no process), ``mapper`` turns the IPC system calls
into ring records and events (pure), ``source`` runs strace and feeds the engine
(``engine``: the engine of ``ipcviz run -- PROG``).
"""
