"""Instrumented IPC wrappers: the kernel does the real work, the wrapper records it."""
