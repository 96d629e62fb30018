"""The event stream: the one contract between the engine and everything that watches it."""
