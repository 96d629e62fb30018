"""Narrators: events told as plain text (headless runs, CI, handouts)."""
