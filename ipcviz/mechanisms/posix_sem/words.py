"""How the narrator tells semaphore events: with the value right after."""

from __future__ import annotations

WORDS = {
    "sem.wait.begin": lambda n, e: f"waits on {e['obj']}…",
    "sem.wait": lambda n, e: f"took {e['obj']} (value now {n.state.objects[e['obj']].value})",
    "sem.post": lambda n, e: f"posts {e['obj']} (value now {n.state.objects[e['obj']].value})",
    "sem.trywait": lambda n, e: f"try-waits {e['obj']}: {'took it' if e.get('ok') else 'busy'}",
}
