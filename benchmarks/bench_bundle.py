"""The stand-alone bundle: its size on disk and how fast its window opens, beside the source install.

Prints (no assertions):

1. the size on disk of the one-folder bundle (``dist/digitpad``, as ``du``
   counts it) and of the one-file executable if there is one
   (``dist/onefile/digitpad``), with the largest parts of the folder;
2. start to window, under one Xvfb server, for the frozen app and for the
   source install (``python -m app``) in the same run, taking turns so
   that both see the same background load: the time from spawning the
   process until ``xdotool search --onlyvisible --name '^Digitpad$'``
   finds the window, and until the app reports itself ready (mapped and
   idle, through ``DIGITPAD_DEBUG_STATE``). Median (and min..max) of
   ``--runs`` starts each, after one unmeasured warm-up start each.
   The window is looked for every 20 ms: ``xdotool search --sync`` does
   the same search but only every 0.5 s, too coarse for this.

Run from the repository root, after ``pyinstaller --noconfirm build.spec``
(or with ``--build`` to build first):

    python benchmarks/bench_bundle.py [--runs 5] [--dist dist] [--build]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

MNIST = Path(os.environ.get("DIGITPAD_DATA", ROOT.parent / "shared" / "data" / "mnist"))


def du(path: Path) -> int:
    """Bytes on disk, as `du` counts them (allocated blocks, hard links once)."""
    if not path.is_dir() or path.is_symlink():
        return path.lstat().st_blocks * 512
    seen: set[tuple[int, int]] = set()
    total = 0
    for p in [path, *path.rglob("*")]:
        st = p.lstat()
        if (st.st_dev, st.st_ino) in seen:
            continue
        seen.add((st.st_dev, st.st_ino))
        total += st.st_blocks * 512
    return total


def mib(n: int) -> str:
    return f"{n / 2**20:7.1f} MiB"


def report_size(folder: Path, onefile: Path) -> None:
    print("bundle size on disk")
    if folder.is_dir():
        files = sum(1 for p in folder.rglob("*") if p.is_file())
        print(f"  one folder  {folder.relative_to(ROOT) if folder.is_relative_to(ROOT) else folder}: "
              f"{mib(du(folder))}  ({files} files)")
        internal = folder / "_internal"
        if internal.is_dir():
            parts = sorted(((du(p), p.name) for p in internal.iterdir()), reverse=True)[:8]
            listed = ", ".join(f"{name} {size / 2**20:.1f}" for size, name in parts)
            print(f"    largest (MiB): {listed}")
    if onefile.is_file():
        print(f"  one file    {onefile.relative_to(ROOT) if onefile.is_relative_to(ROOT) else onefile}: "
              f"{mib(du(onefile))}")


def start_once(cmd: list[str], xvfb, home: Path, clean: bool) -> tuple[float, float]:
    """Seconds from spawn to (window found, app ready); then quit it with Ctrl+Q."""
    from gui_driver import wait_for

    home.mkdir(parents=True, exist_ok=True)
    state = home / "state.json"
    env = xvfb.env(DIGITPAD_HOME=str(home), DIGITPAD_DEBUG_STATE=str(state), DIGITPAD_DATA=str(MNIST))
    if clean:
        env = {k: v for k, v in env.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    else:
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    xdo_env = xvfb.env()
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        def window():
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd[0]} exited ({proc.returncode}): {proc.stderr.read()[-2000:]}")
            r = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "^Digitpad$"],
                               env=xdo_env, capture_output=True, text=True)
            return r.stdout.split()[-1] if r.stdout.split() else None

        wid = wait_for(window, timeout=180, interval=0.02, what="the Digitpad window")
        t_window = time.monotonic() - t0

        def ready():
            return json.loads(state.read_text())["ready"]

        wait_for(ready, timeout=180, interval=0.01, what="the app to be ready")
        t_ready = time.monotonic() - t0
        subprocess.run(["xdotool", "windowfocus", "--sync", str(wid), "key", "--clearmodifiers", "ctrl+q"],
                       env=xdo_env, capture_output=True, timeout=60)
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    return t_window, t_ready


def report_starts(variants: dict[str, list[str]], runs: int, clean: dict[str, bool]) -> None:
    from gui_driver import Xvfb, missing_tools

    missing = [t for t in missing_tools() if t != "import"]
    if missing:
        print(f"start to window: skipped (missing {', '.join(missing)})")
        return
    xvfb = Xvfb(1280, 1024)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(runs + 1):  # run 0 warms the page cache and is not counted
                for name, cmd in variants.items():
                    t = start_once(cmd, xvfb, Path(tmp) / f"{name}-{i}", clean[name])
                    if i:
                        times[name].append(t)
    finally:
        xvfb.stop()

    def fmt(xs: list[float]) -> str:
        return f"{statistics.median(xs):5.2f} s  ({min(xs):.2f}..{max(xs):.2f})"

    print(f"start to window under Xvfb, median (min..max) of {runs} starts each")
    print(f"  {'':24s} {'window found':>26s}   {'ready for input':>26s}")
    for name, ts in times.items():
        print(f"  {name:24s} {fmt([t[0] for t in ts]):>26s}   {fmt([t[1] for t in ts]):>26s}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dist", default=str(ROOT / "dist"), help="PyInstaller's dist folder (dist)")
    ap.add_argument("--runs", type=int, default=5, help="measured starts of each variant (5)")
    ap.add_argument("--build", action="store_true", help="run `pyinstaller --noconfirm build.spec` first")
    args = ap.parse_args()

    dist = Path(args.dist).resolve()
    if args.build:
        subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
                        "--distpath", str(dist), str(ROOT / "build.spec")], cwd=ROOT, check=True)
    folder, onefile = dist / "digitpad", dist / "onefile" / "digitpad"
    exe = folder / "digitpad"
    if not exe.is_file():
        print(f"no bundle at {folder}: run `pyinstaller --noconfirm build.spec` (or pass --build)")
        return 1
    report_size(folder, onefile)
    print()
    variants = {"frozen (one folder)": [str(exe)]}
    if onefile.is_file():
        variants["frozen (one file)"] = [str(onefile)]
    variants["source (python -m app)"] = [sys.executable, "-m", "app"]
    clean = {name: name.startswith("frozen") for name in variants}
    report_starts(variants, args.runs, clean)
    return 0


if __name__ == "__main__":
    sys.exit(main())
