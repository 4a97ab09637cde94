"""Drive the real app from outside Qt: an X server, xdotool, and the app's UI map.

The app runs as its own process (``python -m desklab gui``) on a private Xvfb
display. Input is real X input sent with ``xdotool``; positions come from the
UI map the app writes when ``DESKLAB_UI_MAP`` is set (``desklab.gui.ui_map``:
named widgets and cards placed with ``mapToGlobal``). Results are read from the
files the app writes, never from its insides.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

SCREEN = (1680, 1050)


class XServer:
    """A private Xvfb display; ``display`` is like ":5"."""

    def __init__(self):
        read, write = os.pipe()
        self.proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write), "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24",
             "-nolisten", "tcp", "-noreset"], pass_fds=(write,),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write)
        with os.fdopen(read) as f:
            number = f.readline().strip()
        if not number:
            self.proc.kill()
            raise RuntimeError("Xvfb did not start")
        self.display = f":{number}"

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def tools_missing() -> list[str]:
    return [t for t in ("Xvfb", "xdotool") if shutil.which(t) is None]


class App:
    """One running DeskLab process on ``x`` with its own settings folder ``home``."""

    def __init__(self, x: XServer, home: Path, *args: str):
        self.x, self.home = x, home
        self.map_path = home / "ui-map.json"
        self.map_path.unlink(missing_ok=True)
        env = dict(os.environ)
        for key in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY"):
            env.pop(key, None)
        env.update(DISPLAY=x.display, DESKLAB_UI_MAP=str(self.map_path), HOME=str(home),
                   XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"),
                   QT_QPA_PLATFORM="xcb", PYTHONUNBUFFERED="1")
        self.log = open(home / f"app-{time.monotonic_ns()}.log", "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "desklab", "gui", *args], env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        end = time.monotonic() + 60  # start-up (importing torch) is slow on a busy machine
        while not self.map_path.exists() and time.monotonic() < end:
            if self.proc.poll() is not None:
                raise AssertionError(f"the app exited: {self.log_text()[-3000:]}")
            time.sleep(0.1)
        self.wait(lambda m: m["cards"] and "network" in m["widgets"], 60, "the window")
        time.sleep(0.3)  # first paint

    # ------------------------------------------------------------ reading

    def map(self) -> dict:
        """The latest UI map (retries while the app rewrites it)."""
        for _ in range(50):
            if self.proc.poll() is not None:
                raise AssertionError(f"the app exited with {self.proc.returncode}: "
                                     f"{self.log_text()[-3000:]}")
            try:
                return json.loads(self.map_path.read_text())
            except (OSError, ValueError):
                time.sleep(0.05)
        raise AssertionError("no UI map from the app")

    def log_text(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")

    def wait(self, predicate, timeout: float = 10.0, what: str = "the app"):
        """Poll the map until ``predicate(map)`` is truthy; returns its value."""
        end = time.monotonic() + timeout
        last = None
        while time.monotonic() < end:
            last = self.map()
            value = predicate(last)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; last map: "
                             f"{json.dumps(last)[:2000]}")

    def widget(self, name: str) -> list[int]:
        return self.wait(lambda m: m["widgets"].get(name), 5, f"widget {name!r}")

    def cards(self) -> list[dict]:
        return self.map()["cards"]

    def card(self, path) -> dict:
        path = list(path)
        return self.wait(lambda m: next((c for c in m["cards"] if c["path"] == path), None),
                         5, f"card {path}")

    def tile(self, text: str) -> list[int]:
        return self.wait(lambda m: next((t["rect"] for t in m["palette"]
                                         if t["text"] == text), None), 5, f"tile {text}")

    # ------------------------------------------------------------ input

    def xdo(self, *args) -> None:
        t = time.monotonic()
        subprocess.run(["xdotool", *map(str, args)], check=True,
                       env={**os.environ, "DISPLAY": self.x.display})
        if time.monotonic() - t > 0.3:
            print("story: slow xdotool", args, f"{time.monotonic() - t:.1f} s")

    def move(self, x: int, y: int) -> None:
        self.xdo("mousemove", x, y)
        time.sleep(0.03)

    def click(self, x: int, y: int, button: int = 1, modifier: str | None = None) -> None:
        self.move(x, y)
        if modifier:
            self.xdo("keydown", modifier)
        self.xdo("click", button)
        if modifier:
            self.xdo("keyup", modifier)
        time.sleep(0.15)

    def key(self, *keys: str) -> None:
        self.xdo("key", "--delay", 40, *keys)
        time.sleep(0.15)

    def menu(self, *keys: str) -> None:
        """Open a menu path by its mnemonics (alt+f, e, r), waiting for each popup."""
        for depth, key in enumerate(keys[:-1], start=1):
            self.key(key)
            self.wait(lambda m, d=depth: len(m["popups"]) >= d, 5, f"menu level {depth}")
        self.key(keys[-1])

    def type(self, text: str) -> None:
        self.xdo("type", "--delay", 15, text)

    def drag(self, start: tuple[int, int], end: tuple[int, int], hover_check=None) -> dict:
        """Press at ``start``, move in small steps to ``end``, wiggle (no window manager
        to nudge the drop), check the marker the app shows, release. Returns the map
        seen just before the release."""
        self.move(*start)
        self.xdo("mousedown", 1)
        time.sleep(0.1)
        sx, sy = start
        ex, ey = end
        for i in range(1, 7):
            self.move(sx + (ex - sx) * i // 6, sy + (ey - sy) * i // 6)
        for dx in (3, -3, 0):
            self.move(ex + dx, ey)
        seen = self.wait(hover_check or (lambda m: m), 5, "the drop marker")
        before = self.map()
        self.xdo("mouseup", 1)
        time.sleep(0.3)
        return before if hover_check is None else {"map": before, "seen": seen}

    def resize_window(self, width: int, height: int) -> None:
        """Resize the app's main window with X requests (as a window manager would)."""
        ids = subprocess.run(["xdotool", "search", "--onlyvisible", "--pid",
                              str(self.proc.pid)], capture_output=True, text=True,
                             env={**os.environ, "DISPLAY": self.x.display}).stdout.split()
        main = self.map()["window"]
        for wid in ids:  # the main window: the visible one of the map's size
            geometry = subprocess.run(["xdotool", "getwindowgeometry", wid],
                                      capture_output=True, text=True,
                                      env={**os.environ, "DISPLAY": self.x.display}).stdout
            if f"{main[2]}x{main[3]}" in geometry:
                self.xdo("windowsize", wid, width, height)
                time.sleep(0.3)
                return
        raise AssertionError(f"no X window of size {main[2]}x{main[3]} among {ids}")

    def close_window(self) -> None:
        """Close as a window manager does: WM_DELETE_WINDOW to the top-level window."""
        from Xlib import X, display, protocol  # python-xlib
        d = display.Display(self.x.display)
        delete = d.intern_atom("WM_DELETE_WINDOW")
        protocols = d.intern_atom("WM_PROTOCOLS")
        pid_atom = d.intern_atom("_NET_WM_PID")
        for window in d.screen().root.query_tree().children:
            prop = window.get_full_property(pid_atom, X.AnyPropertyType)
            attrs = window.get_attributes()
            if prop is None or prop.value[0] != self.proc.pid or \
                    attrs.map_state != X.IsViewable:
                continue
            event = protocol.event.ClientMessage(window=window, client_type=protocols,
                                                 data=(32, [delete, X.CurrentTime, 0, 0, 0]))
            window.send_event(event)
        d.flush()
        d.close()

    def wait_exit(self, timeout: float = 20) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("the app did not exit: " + self.log_text()[-2000:]) from None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def shot(self, name: str) -> None:
        """With DESKLAB_STORY_SHOTS=DIR, save the X screen as DIR/name.png (for the docs
        and for looking at what the story saw)."""
        folder = os.environ.get("DESKLAB_STORY_SHOTS")
        if folder:
            time.sleep(0.5)
            self.screenshot(Path(folder) / f"{name}.png")

    def screenshot(self, path: Path) -> None:
        subprocess.run(["import", "-window", "root", str(path)], check=False,
                       env={**os.environ, "DISPLAY": self.x.display},
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def center(rect) -> tuple[int, int]:
    x, y, w, h = rect
    return x + w // 2, y + h // 2
