"""Drive the real Digitpad window under Xvfb with xdotool, xclip and ImageMagick.

Used by tests/test_gui.py and the benchmarks. Nothing here mocks Tk: the app
runs as a subprocess (`python -m app`), the mouse and keyboard are the X
server's (XTEST, through xdotool), the clipboard is read with xclip and
screenshots are taken with ImageMagick's `import`. The app is asked to write
a JSON snapshot of its state to a file (``DIGITPAD_DEBUG_STATE``) so that
waits are conditions polled with generous timeouts, never fixed sleeps.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ("Xvfb", "xdotool", "xclip", "import")


def missing_tools() -> list[str]:
    """The X tools this driver needs that are not installed."""
    return [t for t in TOOLS if shutil.which(t) is None]


def wait_for(cond: Callable[[], object], timeout: float = 30.0, interval: float = 0.05,
             what: str = "condition") -> object:
    """Poll `cond` until it returns something truthy; raise TimeoutError after `timeout` s."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            value = cond()
            if value:
                return value
        except (OSError, ValueError, KeyError) as exc:  # a file not written yet, half a JSON
            last_exc = exc
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}"
                               + (f" (last error: {last_exc})" if last_exc else ""))
        time.sleep(interval)


class Xvfb:
    """A virtual X server on a free display number."""

    def __init__(self, width: int = 1280, height: int = 1024):
        self.display = self._free_display()
        self.proc = subprocess.Popen(
            ["Xvfb", f":{self.display}", "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp",
             "-noreset"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        sock = Path(f"/tmp/.X11-unix/X{self.display}")
        try:
            wait_for(lambda: sock.exists() and self._answers(), timeout=30, what="Xvfb to start")
        except TimeoutError:
            self.stop()
            raise

    @staticmethod
    def _free_display() -> int:
        for n in range(90, 400):
            if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
                return n
        raise RuntimeError("no free X display number")

    def _answers(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"Xvfb :{self.display} exited with status {self.proc.returncode}")
        r = subprocess.run(["xdotool", "getdisplaygeometry"], env=self.env(), capture_output=True)
        return r.returncode == 0

    @property
    def name(self) -> str:
        """The DISPLAY value, e.g. ":91"."""
        return f":{self.display}"

    def env(self, **extra: str) -> dict[str, str]:
        """os.environ with DISPLAY pointing here, plus `extra`."""
        env = dict(os.environ)
        env["DISPLAY"] = self.name
        env.update(extra)
        return env

    def stop(self) -> None:
        """Terminate the server (and only it)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


class App:
    """One running Digitpad process and the tools to drive its window."""

    def __init__(self, xvfb: Xvfb, home: Path, state_file: Path | None = None,
                 extra_env: dict[str, str] | None = None, args: Sequence[str] = ()):
        self.xvfb = xvfb
        self.home = Path(home)
        self.state_file = Path(state_file or self.home / "gui-state.json")
        if self.state_file.exists():
            self.state_file.unlink()
        env = xvfb.env(
            DIGITPAD_HOME=str(self.home),
            DIGITPAD_DEBUG_STATE=str(self.state_file),
            PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
            **(extra_env or {}),
        )
        self.env = env
        self.log = open(self.home / "app-stderr.log", "ab")  # noqa: SIM115 (closed in close())
        self.started = time.monotonic()
        self.proc = subprocess.Popen([sys.executable, "-m", "app", *args], env=env, cwd=ROOT,
                                     stdout=subprocess.DEVNULL, stderr=self.log)
        self.wid: str | None = None

    # -- state ------------------------------------------------------------------
    def state(self) -> dict:
        """The app's last JSON snapshot (raises OSError/ValueError if not there yet)."""
        if self.proc.poll() is not None:
            raise RuntimeError(f"the app exited with status {self.proc.returncode}: {self.stderr()}")
        return json.loads(self.state_file.read_text(encoding="utf-8"))

    def stderr(self) -> str:
        """What the app printed on stderr so far."""
        if not self.log.closed:
            self.log.flush()
        return (self.home / "app-stderr.log").read_text(errors="replace")[-3000:]

    def wait_state(self, cond: Callable[[dict], object], timeout: float = 30.0, what: str = "state"):
        """Poll the snapshot until `cond(state)` is truthy; return that state."""
        box: dict = {}

        def check():
            st = self.state()
            if cond(st):
                box["st"] = st
                return True
            box["last"] = st
            return False

        try:
            wait_for(check, timeout=timeout, what=what)
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}; last state: {json.dumps(box.get('last'))[:1500]}") from None
        return box["st"]

    def wait_ready(self, timeout: float = 60.0) -> dict:
        """Wait until the window is mapped, idle and found by xdotool; returns the state."""
        st = self.wait_state(lambda s: s["ready"], timeout=timeout, what="the window to be ready")
        self.wid = self.find_window("^Digitpad$", timeout=timeout)
        return st

    def find_window(self, name_regex: str, timeout: float = 30.0) -> str:
        """The X window id of this app's visible window whose title matches `name_regex`."""
        def search():
            r = self.xdo("search", "--onlyvisible", "--pid", str(self.proc.pid), "--name", name_regex,
                         check=False)
            ids = r.stdout.split()
            return ids[-1] if ids else None

        wid = wait_for(search, timeout=timeout, interval=0.1, what=f"a window named {name_regex!r}")
        return str(wid)

    # -- input ------------------------------------------------------------------
    def xdo(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run one xdotool command on this display."""
        r = subprocess.run(["xdotool", *args], env=self.xvfb.env(), capture_output=True, text=True,
                           timeout=120)
        if check and r.returncode != 0:
            raise RuntimeError(f"xdotool {' '.join(args[:6])}… failed: {r.stderr.strip()}")
        return r

    def focus(self, wid: str | None = None) -> None:
        """Give the keyboard focus to a window (there is no window manager to do it)."""
        self.xdo("windowfocus", "--sync", wid or self.wid)

    def key(self, *keys: str, wid: str | None = None) -> None:
        """Press key combinations (e.g. "ctrl+c") with the window focused."""
        self.focus(wid)
        self.xdo("key", "--clearmodifiers", *keys)

    def type(self, text: str, wid: str | None = None) -> None:
        """Type text into the focused widget of a window."""
        self.focus(wid)
        self.xdo("type", "--delay", "8", text)

    def draw(self, strokes: Sequence[Sequence[Sequence[float]]], step: int = 1,
             pause: float = 0.004) -> None:
        """Drag the mouse along strokes given in pad coordinates (one xdotool call per stroke)."""
        pad = self.state()["pad"]
        ox, oy = pad["x"], pad["y"]
        for s in strokes:
            pts = [(round(ox + x), round(oy + y)) for x, y in list(s)[::step]] + \
                  [(round(ox + s[-1][0]), round(oy + s[-1][1]))]
            args = ["mousemove", str(pts[0][0]), str(pts[0][1]), "sleep", "0.03", "mousedown", "1"]
            for x, y in pts[1:]:
                args += ["mousemove", str(x), str(y), "sleep", str(pause)]
            args += ["sleep", "0.02", "mouseup", "1", "sleep", "0.02"]
            self.xdo(*args)

    def draw_and_wait(self, strokes: Sequence, timeout: float = 30.0) -> dict:
        """Draw strokes on top of what is there and wait until the app has read them all."""
        n = self.state()["strokes"] + len(strokes)
        self.draw(strokes)
        return self.wait_state(lambda s: s["strokes"] == n and not s["drawing"], timeout=timeout,
                               what=f"{n} strokes on the pad")

    def clipboard(self) -> str:
        """The CLIPBOARD selection's text, or "" if nothing owns it."""
        r = subprocess.run(["xclip", "-o", "-selection", "clipboard"], env=self.xvfb.env(),
                           capture_output=True, text=True, timeout=20)
        return r.stdout if r.returncode == 0 else ""

    def copy_result(self, expected: str, timeout: float = 20.0) -> str:
        """Press Ctrl+C in the window and wait until the clipboard holds `expected`."""
        self.key("ctrl+c")
        try:
            wait_for(lambda: self.clipboard() == expected, timeout=timeout,
                     what=f"clipboard to hold {expected!r}")
        except TimeoutError:
            pass
        return self.clipboard()

    def screenshot(self, path: Path, wid: str | None = None) -> Path:
        """Save a PNG of a window with ImageMagick's `import`."""
        subprocess.run(["import", "-window", wid or self.wid, str(path)], env=self.xvfb.env(),
                       check=True, capture_output=True, timeout=60)
        return path

    # -- life -------------------------------------------------------------------
    def close(self, timeout: float = 20.0) -> int | None:
        """Quit with Ctrl+Q (kill the process if that does not work); returns the exit status."""
        if self.proc.poll() is None and self.wid is not None:
            try:
                self.key("ctrl+q")
                self.proc.wait(timeout)
            except (RuntimeError, subprocess.TimeoutExpired):
                pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.log.close()
        return self.proc.returncode


def shifted(strokes: Sequence, dx: float = 0.0, dy: float = 0.0, scale: float = 1.0,
            centre: tuple[float, float] = (280.0, 160.0)) -> list[list[tuple[float, float]]]:
    """Strokes scaled about `centre` and moved by (dx, dy)."""
    cx, cy = centre
    return [[((x - cx) * scale + cx + dx, (y - cy) * scale + cy + dy) for x, y in s] for s in strokes]


def as_drawn(strokes: Sequence, step: int = 1) -> list[list[tuple[float, float]]]:
    """The strokes as the pad records them when `App.draw` replays them: whole pixels."""
    out = []
    for s in strokes:
        pts = [(float(round(x)), float(round(y))) for x, y in list(s)[::step]]
        pts.append((float(round(s[-1][0])), float(round(s[-1][1]))))
        dedup = [pts[0]]
        for p in pts[1:]:
            if abs(p[0] - dedup[-1][0]) + abs(p[1] - dedup[-1][1]) >= 1.0:
                dedup.append(p)
        out.append(dedup)
    return out
