"""Inputs whose size has no natural limit: every step whose cost grows with them is bounded.

A pen held down (one stroke of 200,000 points), 5,000 short strokes, 20 strokes of 20,000 points and
a 2,000-digit row of ink each go through `digitpad predict` between two good ink files: each is answered
or refused with one line naming the file, and the good files are still answered. Each run has a time
limit that fails on a hang (no time is asserted) and a bound on memory: the command's peak resident
size (``VmHWM``, reported by the process itself), or in-process the peak that `tracemalloc` sees.
The pad's live re-reading is checked at the model level: 30 seconds of scribbling, re-read as the pad does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, bench_numbers

from model.inputs import ink

bench = bench_numbers()

HANG = 240.0
"""Seconds after which a run counts as hung (each finishes in a few seconds)."""
MEMORY = 500 * 2**20
"""Bytes a run may hold at its peak (the whole `digitpad predict` process reading a normal number holds
about 150 MiB)."""


def _wander(n: int, x: float = 280.0, scale: float = 120.0) -> np.ndarray:
    """A long looping stroke of `n` points (a pen held down and moved about)."""
    t = np.linspace(0, 40 * np.pi, n)
    return np.column_stack((x + scale * np.cos(t) + 30 * np.sin(0.37 * t),
                            160 + 0.8 * scale * np.sin(1.3 * t)))


def _save(path: Path, strokes) -> str:
    path.write_text(json.dumps({"width": 560, "height": 320,
                                "strokes": [np.round(np.asarray(s), 2).tolist() for s in strokes]}))
    return str(path)


def _bounded_run(fn: Callable[[], object], trace: bool = True) -> tuple[object, int]:
    """Run `fn` in a thread, with `tracemalloc` on if `trace`: (its result, the peak bytes allocated).

    Fails the test if it has not finished after `HANG` seconds, or if it raised."""
    out: dict = {}

    def work() -> None:
        try:
            out["result"] = fn()
        except BaseException as exc:  # noqa: BLE001 - reported below, in the test's thread
            out["error"] = exc

    if trace:
        tracemalloc.start()
    try:
        t = threading.Thread(target=work, daemon=True)
        t.start()
        t.join(HANG)
        peak = tracemalloc.get_traced_memory()[1] if trace else 0
    finally:
        tracemalloc.stop()
    assert not t.is_alive(), f"still running after {HANG:.0f} s: a hang"
    if "error" in out:
        raise out["error"]
    return out.get("result"), peak


@pytest.fixture(scope="module")
def files(tmp_path_factory, held_out) -> dict[str, tuple[str, str | None]]:
    """{name: (path, expected digits or None)}: a good number and the four big inputs."""
    d = tmp_path_factory.mktemp("limits")
    rng = np.random.default_rng(4)
    strokes, text, _ = bench.compact_number(bench.by_writer(held_out)[27], rng, 4, (0.05, 0.2))
    short = [p + rng.normal(0, 6, (3, 2)).cumsum(axis=0)
             for p in rng.uniform([20, 20], [540, 300], size=(5000, 2))]
    row, _, _ = bench.compact_number(held_out, rng, 2000, (0.05, 0.2))
    return {
        "good": (_save(d / "good.json", strokes), text),
        "long": (_save(d / "long.json", [_wander(200_000)]), None),
        "short": (_save(d / "short.json", short), None),
        "twenty": (_save(d / "twenty.json", [_wander(20_000, 100.0 + 20 * k) for k in range(20)]), None),
        "row": (_save(d / "row.json", row), None),
    }


PEAK_REPORTER = """
import atexit, os, runpy, sys

def _report_peak():
    with open("/proc/self/status", encoding="ascii") as f:
        kib = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    with open(os.environ["DIGITPAD_TEST_PEAK_FILE"], "w", encoding="ascii") as out:
        out.write(str(kib * 1024))

atexit.register(_report_peak)
sys.argv[0] = "digitpad"
runpy.run_module("app", run_name="__main__", alter_sys=True)
"""
"""Runs `python -m app` and, at exit, writes the process's own peak resident size (``VmHWM``).

Not `wait4`'s ``ru_maxrss``: Linux carries a parent's high-water mark over fork and exec, so a child
of a pytest process that already holds MNIST (over 1 GiB in the whole suite) would report that."""


def _predict(*paths: str, tmp: Path) -> tuple[int, str, str, int]:
    """`digitpad predict PATHS` in a subprocess: (exit status, stdout, stderr, peak resident bytes).

    Killed, and the test failed, if it has not finished after `HANG` seconds."""
    peak_file = tmp / "peak"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               DIGITPAD_TEST_PEAK_FILE=str(peak_file))
    with (tmp / "out").open("w+") as out, (tmp / "err").open("w+") as err:
        proc = subprocess.Popen([sys.executable, "-c", PEAK_REPORTER, "predict", *paths],
                                stdout=out, stderr=err, env=env, cwd=ROOT)
        try:
            proc.wait(HANG)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail(f"digitpad predict still running after {HANG:.0f} s: a hang")
        out.seek(0)
        err.seek(0)
        return proc.returncode, out.read(), err.read(), int(peak_file.read_text())


@pytest.mark.parametrize("name", ["long", "short", "twenty", "row"])
def test_big_ink_is_answered_or_refused_and_the_good_files_still_answered(files, name, tmp_path):
    path, _ = files[name]
    good, text = files["good"]
    status, out, err, peak = _predict(good, path, good, tmp=tmp_path)
    print(f"\n{name}: status {status}, peak resident {peak / 2**20:.0f} MiB\n{out}{err}")
    assert peak < MEMORY
    lines = [line.split("\t")[:2] for line in out.splitlines()]
    assert lines[0] == [good, text] and lines[-1] == [good, text]  # read right, before and after
    answers = dict(lines)
    errors = err.splitlines()
    if path in answers:  # answered: digits, no error line
        assert len(lines) == 3 and answers[path].isdigit() and not errors and status == 0
    else:  # refused: one line naming the file and the limit
        assert len(lines) == 2 and len(errors) == 1 and status == 2
        assert errors[0].startswith(f"digitpad: error: {path}: ") and "at most" in errors[0]


def test_the_pad_reads_many_strokes_by_columns_within_bounds(recogniser, files):
    """Drawn rather than opened (no file limit), 5,000 strokes and a 2,000-digit row are grouped by the
    columns they cover: answered, within the bounds."""
    for name in ("short", "row"):
        strokes = json.loads(Path(files[name][0]).read_text())["strokes"]
        reading, peak = _bounded_run(lambda s=strokes: recogniser.read_strokes(s))
        print(f"\n{name}: {len(strokes)} strokes read as {len(reading.digits)} digits, "
              f"peak {peak / 2**20:.0f} MiB")
        assert reading.digits and peak < MEMORY


def _scribble(rng: np.random.Generator, seconds: float = 30.0, hz: float = 100.0) -> list[np.ndarray]:
    """A person scribbling on the pad: strokes of 15-150 points (one per motion event at `hz`)
    wandering about, until `seconds` have passed."""
    strokes: list[np.ndarray] = []
    t, pos = 0.0, np.array([280.0, 160.0])
    while t < seconds:
        n = int(rng.integers(15, 150))
        start = np.clip(pos + rng.normal(0, 60, 2), [10, 10], [550, 310])
        steps = rng.normal(0, 1, (n, 2)) * rng.uniform(3, 8) + np.cumsum(rng.normal(0, 0.6, (n, 2)), axis=0)
        strokes.append(np.clip(start + np.cumsum(steps, axis=0), [0, 0], [560, 320]))
        t += n / hz + 0.1
    return strokes


def test_thirty_seconds_of_scribbling_keeps_each_refresh_bounded(shipped):
    """The pad re-reads the drawing every 80 ms while a stroke grows (`app.main_window`'s live refresh:
    `Recogniser.read_strokes` on the finished strokes plus the current one) and after each stroke.
    Here: 30 seconds of short strokes, re-read after each and every 8 points (80 ms of motion events)
    of the last three; and one stroke held down for 30 seconds, re-read every 8 points. The work of a
    re-reading is the candidates it renders (the rest come from the cache): a few dozen, each of at most
    `STROKE_POINTS` points, however long the scribbling goes on."""
    from model.recognise import Recogniser

    strokes = _scribble(np.random.default_rng(1))
    held_down = [_wander(3000)]

    def refreshes() -> list[tuple[int, int, int]]:
        work = []  # (strokes so far, candidates rendered, their points) per re-reading
        for drawing in (strokes, held_down):
            rec = Recogniser(shipped)
            cache = rec._ink_cache
            for k, s in enumerate(drawing):
                ends = range(8, len(s), 8) if k >= len(drawing) - 3 else ()
                for m in [*ends, len(s)]:
                    before = cache.rendered, cache.points
                    rec.read_strokes([*drawing[:k], s[:m]])
                    work.append((len(drawing), cache.rendered - before[0], cache.points - before[1]))
        return work

    work, peak = _bounded_run(refreshes, trace=False)
    work = np.array(work)
    one = work[:, 0] == 1
    print(f"\n{len(strokes)} strokes of {sum(map(len, strokes))} points and one of 3,000: {len(work)} "
          f"re-readings, at most {work[:, 1].max()} candidates and {work[:, 2].max()} points rendered "
          f"by one ({work[one, 2].max()} while the pen is held down)")
    assert work[:, 1].max() <= 100
    assert (work[one, 2] <= ink.STROKE_POINTS * work[one, 1]).all()  # the held stroke is resampled
    assert work[one, 2].max() >= ink.STROKE_POINTS // 2  # ...and it was rendered at all


def test_dense_strokes_are_resampled_and_render_as_before(pen_samples, monkeypatch):
    """A stroke recorded far more densely than needed (every pen segment cut into 400 points) is
    resampled to `STROKE_POINTS` and its picture stays what was drawn; strokes within the bounds come
    back as the very same arrays."""
    sample = next(s for s in pen_samples if s.label == 8 and len(s.strokes) == 1)
    plain = [np.asarray(s, dtype=np.float64) for s in sample.strokes]
    assert all(a is b for a, b in zip(ink.bounded(plain), plain, strict=True))
    s = plain[0]
    t = np.linspace(0, 1, 400, endpoint=False)[:, None]
    dense = np.vstack([(a + t * (b - a)) for a, b in zip(s[:-1], s[1:], strict=True)] + [s[-1:]])
    got = ink.as_strokes([dense])
    assert len(dense) > 20 * ink.STROKE_POINTS and len(got[0]) <= ink.STROKE_POINTS
    with monkeypatch.context() as m:  # the picture of every point drawn, without the bounds
        m.setattr(ink, "STROKE_POINTS", 10**9)
        m.setattr(ink, "DRAWING_POINTS", 10**9)
        drawn = ink.normalise([dense])
    diff = np.abs(ink.normalise(got) - drawn)
    print(f"\n{len(s)} points made {len(dense)}, resampled to {len(got[0])}: "
          f"pixels differ by {diff.max():.3f} at most, {diff.mean():.4f} on average")
    assert diff.max() <= 0.15 and diff.mean() < 0.005  # anti-aliasing: 2 of a pixel's 16 samples
    # A drawing over `DRAWING_POINTS` in all keeps about that many.
    many = ink.as_strokes([dense[: len(dense) // 20] + [30 * k, 0] for k in range(40)])
    assert sum(map(len, many)) <= 1.05 * ink.DRAWING_POINTS


def test_big_ink_files_are_refused_by_size_before_parsing(tmp_path):
    path = tmp_path / "huge.json"
    with path.open("w") as f:
        f.write('{"strokes": [[')
        f.write("[1.5, 2.5], " * (ink.MAX_FILE_BYTES // 10))
        f.write("[1, 2]]]}")
    with pytest.raises(ink.InputError, match=r"huge\.json: ink file too large .* at most"):
        ink.load_ink(path)
