"""``ipcviz explore``: search the interleavings of a scenario for the one that breaks it.

Each explored run is a real run (real processes, real kernel objects) under the step gate;
a strategy (``strategies.py``: PCT or a preemption-bounded DFS) chooses who passes the gate
next. The runner (``runner.py``) forks a fresh engine from this already-loaded process per
run, so a run costs forks, not a Python start. A failing run is shortened by delta
debugging (``search.py``) and printed as a ``--schedule`` that ``ipcviz run`` replays.
"""
