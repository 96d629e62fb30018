"""How the narrator tells semaphore events: with the value right after."""

from __future__ import annotations

from ipcviz.i18n import lazy

WORDS = {
    "sem.wait.begin": lambda n, e: lazy("waits on {obj}…", obj=e["obj"]),
    "sem.wait": lambda n, e: lazy(
        "took {obj} (value now {value})", obj=e["obj"], value=n.state.objects[e["obj"]].value
    ),
    "sem.post": lambda n, e: lazy(
        "posts {obj} (value now {value})", obj=e["obj"], value=n.state.objects[e["obj"]].value
    ),
    "sem.set": lambda n, e: lazy("sets {obj} to {value}", obj=e["obj"], value=e["value"]),
    "sem.trywait": lambda n, e: (
        lazy("try-waits {obj}: took it", obj=e["obj"])
        if e.get("ok")
        else lazy("try-waits {obj}: busy", obj=e["obj"])
    ),
}
