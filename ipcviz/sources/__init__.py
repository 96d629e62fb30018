"""Event sources beside the tracer rings: ways to watch programs ipcviz did not instrument.

Each source turns what it observes into the same ring records and events the workers'
rings give (``ipcviz/tracer/codes.py``), so the engine's linearization, the model, the
screens, replay and the exporters need not know where an operation came from.
"""
