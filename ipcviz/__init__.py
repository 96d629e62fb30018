"""ipcviz: watch inter-process communication happen on the real Linux kernel."""

__version__ = "0.1.0"
