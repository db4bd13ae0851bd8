"""The stand-alone bundle: its size on disk and how fast its window opens, before and after.

Prints (no assertions):

1. the size on disk of the one-folder bundle (``dist/digitpad``, as ``du``
   counts it) and of the one-file executable if there is one
   (``dist/onefile/digitpad``), with the largest parts of the folder; with
   ``--before REV`` also those of the bundles built from git revision REV
   (exported with ``git archive`` into a temporary folder and built there
   with that revision's build.spec, one folder and one file), side by side;
2. start to window, under one Xvfb server, for each frozen app and for the
   source install (``python -m app``; with ``--before``, REV's source too) in
   the same run, taking turns so that all see the same background load: the
   time from spawning the process until ``xdotool search --onlyvisible
   --name '^Digitpad$'`` finds the window, until the app reports itself
   shown (mapped and idle, taking strokes: ``"shown"`` in ``DIGITPAD_DEBUG_STATE``)
   and until it is ready (shown, and the network loaded: ``"ready"``; the
   network is loaded in a worker thread once the window shows; a revision
   from before that split has no ``"shown"`` and is ready when shown). Median (and
   min..max) of ``--runs`` starts each, after one unmeasured warm-up start
   each. The window is looked for every 20 ms: ``xdotool search --sync``
   does the same search but only every 0.5 s, too coarse for this;
3. the same variants on the command line:
   ``--version`` (the interpreter and the CLI) and ``predict`` on one PNG
   digit (that plus NumPy, SciPy and Pillow: the recogniser's start-up).

Run from the repository root, after ``pyinstaller --noconfirm build.spec``
and ``DIGITPAD_ONEFILE=1 pyinstaller --noconfirm build.spec`` (or with
``--build`` to build both first):

    python benchmarks/bench_bundle.py [--runs 5] [--dist dist] [--build] [--before REV | --before-dist DIR]

``--before-dist DIR`` takes the "before" bundles from a dist folder built
earlier instead of building REV.
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


def report_size(folder: Path, onefile: Path, label: str = "") -> None:
    """Print the bundles' sizes on disk (and the folder's largest parts)."""
    print(f"bundle size on disk{f' ({label})' if label else ''}")
    if folder.is_dir():
        files = sum(1 for p in folder.rglob("*") if p.is_file())
        print(f"  one folder  {_shown(folder)}: {mib(du(folder))}  ({files} files)")
        internal = folder / "_internal"
        if internal.is_dir():
            parts = sorted(((du(p), p.name) for p in internal.iterdir()), reverse=True)[:8]
            listed = ", ".join(f"{name} {size / 2**20:.1f}" for size, name in parts)
            print(f"    largest (MiB): {listed}")
    if onefile.is_file():
        print(f"  one file    {_shown(onefile)}: {mib(du(onefile))}")


def _shown(path: Path) -> Path:
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def report_size_change(before: Path, after: Path) -> None:
    """Before and after, one line per bundle kind."""
    print("bundle size on disk, before -> after")
    for kind, rel in (("one folder", Path("digitpad")), ("one file", Path("onefile", "digitpad"))):
        b, a = before / rel, after / rel
        if b.exists() and a.exists():
            print(f"  {kind:11s} {mib(du(b))} -> {mib(du(a))}  ({(du(a) - du(b)) / 2**20:+.1f} MiB)")


def build(tree: Path, dist: Path, work: Path) -> None:
    """Both bundles (one folder, one file) of the source tree `tree`, into `dist`."""
    for onefile in (False, True):
        env = {k: v for k, v in os.environ.items() if k != "DIGITPAD_ONEFILE"}
        if onefile:
            env["DIGITPAD_ONEFILE"] = "1"
        subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
                        "--distpath", str(dist), "--workpath",
                        str(work / ("onefile" if onefile else "onedir")), str(tree / "build.spec")],
                       cwd=tree, env=env, check=True)


def export_revision(rev: str, dest: Path) -> Path:
    """The files of git revision `rev` (``git archive``), in `dest`; the working tree is untouched."""
    dest.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", "--format=tar", rev], cwd=ROOT, capture_output=True,
                             check=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest


def start_once(cmd: list[str], xvfb, home: Path, clean: bool | Path) -> tuple[float, float, float]:
    """Seconds from spawn to (window found, window shown and taking input, network loaded);
    then quit it with Ctrl+Q."""
    from gui_driver import wait_for

    home.mkdir(parents=True, exist_ok=True)
    state = home / "state.json"
    env = xvfb.env(DIGITPAD_HOME=str(home), DIGITPAD_DEBUG_STATE=str(state), DIGITPAD_DATA=str(MNIST))
    if clean is True:  # a frozen app: nothing of the source tree
        env = {k: v for k, v in env.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    else:  # the source tree to run (this one, or an exported revision)
        tree = ROOT if clean is False else clean
        env["PYTHONPATH"] = str(tree) + os.pathsep + env.get("PYTHONPATH", "")
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

        def shown():
            st = json.loads(state.read_text())
            return st.get("shown", st["ready"])

        wait_for(shown, timeout=180, interval=0.01, what="the window to take input")
        t_shown = time.monotonic() - t0

        def ready():
            return json.loads(state.read_text())["ready"]

        wait_for(ready, timeout=180, interval=0.01, what="the network to be loaded")
        t_ready = time.monotonic() - t0
        subprocess.run(["xdotool", "windowfocus", "--sync", str(wid), "key", "--clearmodifiers", "ctrl+q"],
                       env=xdo_env, capture_output=True, timeout=60)
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    return t_window, t_shown, t_ready


def report_commands(variants: dict[str, list[str]], runs: int, clean: dict[str, bool | Path]) -> None:
    """Seconds to run `--version` and `predict` on one MNIST digit (PNG): start-up without and
    with the recogniser (NumPy, SciPy, Pillow), taking turns like the window starts."""
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        digit = Path(tmp) / "digit.png"
        pixels = bytes(min(255, max(0, 255 - 40 * abs(x - 14))) if 6 < y < 22 else 0
                       for y in range(28) for x in range(28))  # a vertical bar: reads as a 1
        Image.frombytes("L", (28, 28), pixels).save(digit)
        times: dict[str, dict[str, list[float]]] = {name: {"--version": [], "predict": []}
                                                    for name in variants}
        for i in range(runs + 1):
            for name, cmd in variants.items():
                env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
                env["DIGITPAD_HOME"] = str(Path(tmp) / "home")
                if clean[name] is not True:
                    env["PYTHONPATH"] = str(ROOT if clean[name] is False else clean[name])
                for what, args in (("--version", ["--version"]), ("predict", ["predict", str(digit)])):
                    t0 = time.monotonic()
                    subprocess.run([*cmd, *args], env=env, cwd=tmp, capture_output=True, check=True,
                                   timeout=300)
                    if i:
                        times[name][what].append(time.monotonic() - t0)
    print(f"command line, median (min..max) of {runs} runs each")
    print(f"  {'':32s} {'--version':>26s}   {'predict one PNG':>26s}")
    for name, ts in times.items():
        v, p = ts["--version"], ts["predict"]
        print(f"  {name:32s} {statistics.median(v):5.2f} s  ({min(v):.2f}..{max(v):.2f})        "
              f"{statistics.median(p):5.2f} s  ({min(p):.2f}..{max(p):.2f})")


def report_starts(variants: dict[str, list[str]], runs: int, clean: dict[str, bool | Path]) -> None:
    from gui_driver import Xvfb, missing_tools

    missing = [t for t in missing_tools() if t != "import"]
    if missing:
        print(f"start to window: skipped (missing {', '.join(missing)})")
        return
    xvfb = Xvfb(1280, 1024)
    times: dict[str, list[tuple[float, float, float]]] = {name: [] for name in variants}
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
    print(f"  {'':28s} {'window found':>24s} {'shown, takes input':>24s} {'network loaded':>24s}")
    for name, ts in times.items():
        print(f"  {name:28s} {fmt([t[0] for t in ts]):>24s} {fmt([t[1] for t in ts]):>24s} "
              f"{fmt([t[2] for t in ts]):>24s}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dist", default=str(ROOT / "dist"), help="PyInstaller's dist folder (dist)")
    ap.add_argument("--runs", type=int, default=5, help="measured starts of each variant (5)")
    ap.add_argument("--build", action="store_true", help="build both bundles of this tree first")
    ap.add_argument("--before", metavar="REV", help="also build and measure git revision REV's bundles")
    ap.add_argument("--before-dist", metavar="DIR", help="the 'before' bundles, built earlier, in DIR")
    args = ap.parse_args()

    dist = Path(args.dist).resolve()
    with tempfile.TemporaryDirectory(prefix="bench-bundle-") as tmp:
        if args.build:
            build(ROOT, dist, Path(tmp) / "work")
        before_dist = Path(args.before_dist).resolve() if args.before_dist else None
        before_tree = None
        if args.before:
            before_tree = export_revision(args.before, Path(tmp) / "before-src")
            before_dist = Path(tmp) / "before-dist"
            print(f"building {args.before} in {before_tree} ...", flush=True)
            build(before_tree, before_dist, Path(tmp) / "before-work")
        exe = dist / "digitpad" / "digitpad"
        if not exe.is_file():
            print(f"no bundle at {dist / 'digitpad'}: run `pyinstaller --noconfirm build.spec` "
                  "(or pass --build)")
            return 1
        if before_dist is not None:
            report_size(before_dist / "digitpad", before_dist / "onefile" / "digitpad",
                        f"before: {args.before or before_dist}")
            print()
        report_size(dist / "digitpad", dist / "onefile" / "digitpad", "after" if before_dist else "")
        if before_dist is not None:
            print()
            report_size_change(before_dist, dist)
        print()
        variants: dict[str, list[str]] = {}
        clean: dict[str, bool | Path] = {}
        for label, d in (("before", before_dist), ("after" if before_dist else "", dist)):
            if d is None:
                continue
            for kind, rel in (("one folder", Path("digitpad", "digitpad")),
                              ("one file", Path("onefile", "digitpad"))):
                if (d / rel).is_file():
                    name = f"frozen ({kind}){f' {label}' if label else ''}"
                    variants[name], clean[name] = [str(d / rel)], True
        if before_tree is not None:
            variants["source before"], clean["source before"] = [sys.executable, "-m", "app"], before_tree
        name = "source (python -m app)" if before_dist is None else "source after"
        variants[name], clean[name] = [sys.executable, "-m", "app"], False
        report_starts(variants, args.runs, clean)
        print()
        report_commands(variants, args.runs, clean)
    return 0


if __name__ == "__main__":
    sys.exit(main())
