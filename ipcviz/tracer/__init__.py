"""Tracer: workers write binary records into a shared-memory ring; the engine drains it."""
