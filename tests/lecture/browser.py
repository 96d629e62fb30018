"""Headless Chromium driven over the DevTools protocol (aiohttp, which textual-serve brings).

Why not ``chromium --screenshot URL``: it shoots as soon as the page loaded, before the
served app has started and sent its first frame. Here the test waits (with a deadline) for
the page to say the terminal got its first byte, then takes the screenshot.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,800",
]


def find_chromium() -> str:
    """Debian's chromium; installed with apt in CI (root) where missing, else the test skips."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    if not os.environ.get("CI") or os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("chromium is not installed (apt-get install chromium; CI installs it itself)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium"],
    ):
        subprocess.run(cmd, env=env, capture_output=True, timeout=600, check=False)
    path = shutil.which("chromium")
    if not path:
        pytest.skip("chromium could not be installed with apt-get here")
    return path


class Chromium:
    """One headless browser in its own process group; ``close()`` kills it for sure."""

    def __init__(self, exe: str, profile: Path) -> None:
        self.profile = profile
        self.proc = subprocess.Popen(
            [
                exe,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                "--remote-debugging-port=0",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def devtools_port(self, deadline: float) -> int:
        marker = self.profile / "DevToolsActivePort"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"chromium exited with status {self.proc.returncode}")
            try:
                return int(marker.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                time.sleep(0.05)
        raise AssertionError("chromium did not open its DevTools port")

    def close(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(5)
                break
            except subprocess.TimeoutExpired:
                continue
        try:  # helpers (zygote, gpu) share the group: make sure none is left
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()


class Page:
    """The browser's first tab, over its DevTools websocket."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._id = 0

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._id += 1
        my_id = self._id
        await self.ws.send_str(json.dumps({"id": my_id, "method": method, "params": params}))
        async for msg in self.ws:
            data = json.loads(msg.data)
            if data.get("id") == my_id:
                if "error" in data:
                    raise AssertionError(f"{method}: {data['error']}")
                return data.get("result", {})
        raise AssertionError(f"{method}: DevTools connection closed")

    async def evaluate(self, expression: str) -> Any:
        result = await self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        return result.get("result", {}).get("value")

    async def screenshot(self) -> bytes:
        result = await self.call("Page.captureScreenshot", format="png")
        return base64.b64decode(result["data"])


async def open_page(port: int) -> tuple[aiohttp.ClientSession, Page]:
    session = aiohttp.ClientSession()
    async with session.get(f"http://127.0.0.1:{port}/json/list") as resp:
        targets = await resp.json(content_type=None)
    page = next(t for t in targets if t.get("type") == "page")
    ws = await session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0)
    return session, Page(ws)


#: JavaScript: decode a PNG (base64) in the page and count pixels by colour class.
COUNT_COLOURS = """
(async (b64) => {
  const img = new Image();
  img.src = "data:image/png;base64," + b64;
  await img.decode();
  const c = document.createElement("canvas");
  c.width = img.width; c.height = img.height;
  const g = c.getContext("2d");
  g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  let black = 0, yellow = 0, light = 0, colours = new Set();
  for (let i = 0; i < d.length; i += 4) {
    const r = d[i], gr = d[i + 1], b = d[i + 2];
    if (r < 8 && gr < 8 && b < 8) black++;
    if (r > 240 && gr > 200 && gr < 230 && b < 30) yellow++;
    if (r > 200 && gr > 200 && b > 200) light++;
    if (colours.size < 5000) colours.add((r << 16) | (gr << 8) | b);
  }
  return {total: d.length / 4, black, yellow, light, colours: colours.size};
})
"""


async def wait_for(page: Page, expression: str, deadline: float) -> Any:
    """Poll a JavaScript expression until it is truthy (or fail at the deadline)."""
    value = None
    while time.monotonic() < deadline:
        value = await page.evaluate(expression)
        if value:
            return value
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {expression!r} (last: {value!r})")
