"""app.workers: named jobs in threads, results applied only through drain(), stale results dropped."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

from conftest import ROOT

from app.workers import Workers
from model.errors import DataError
from model.views.robustness import Cancelled


def _until_ended(w: Workers, seconds: float = 20.0):
    deadline = time.monotonic() + seconds
    ended = []
    while time.monotonic() < deadline and not ended:
        ended = w.drain()[1]
        time.sleep(0.01)
    return ended


def test_a_job_reports_progress_then_its_result():
    w = Workers(("sum",), "test")
    gate = threading.Event()

    def work(progress, cancel, n):
        progress(1, 2)
        gate.wait(10)
        return n * 2

    w.start("sum", work, 21, what="twice")
    assert w.status["sum"] == "computing" and w.drain()[1] == []  # nothing ends before the gate opens
    gate.set()
    (job,) = _until_ended(w)
    assert (job.name, job.kind, job.what, job.value) == ("sum", "done", "twice", 42)
    assert w.status["sum"] == "done" and w.progress["sum"] == (1, 2) and not w.jobs


def test_a_restarted_job_drops_the_old_ones_result_and_errors_are_one_line():
    w = Workers(("a",), "test")
    release = threading.Event()

    def slow(progress, cancel, value):
        release.wait(10)
        if value == "bad":
            raise DataError("set.npz: no labels")
        return value

    w.start("a", slow, "old")
    old_thread = w.jobs["a"].thread
    assert old_thread.daemon and not w.jobs["a"].cancel.is_set()
    w.start("a", slow, "bad")  # cancels "old", whose answer must never arrive
    release.set()
    old_thread.join(10)
    (job,) = _until_ended(w)
    assert (job.kind, job.value) == ("error", "set.npz: no labels") and w.status["a"] == "error"


def test_cancel_stops_a_job_at_its_next_step():
    w = Workers(("loop",), "test")

    def loop(progress, cancel):
        while True:
            if cancel.is_set():
                raise Cancelled()
            time.sleep(0.005)

    w.start("loop", loop)
    thread = w.jobs["loop"].thread
    w.cancel_all()
    (job,) = _until_ended(w)
    assert job.kind == "cancelled" and w.status["loop"] == "idle"
    thread.join(10)
    assert not thread.is_alive()


_QUIT_SCRIPT = """
import sys, threading
import numpy as np
from app.main_window import exit_if_workers_remain

if sys.argv[1] == "busy":
    def work():
        a = np.ones((400, 400), dtype=np.float32)
        while True:
            a = a @ a / 400.0
    threading.Thread(target=work, name="digitpad-train", daemon=True).start()
print("window closed", end="")
exit_if_workers_remain()
print(" and finalised normally")
sys.exit(3)
"""


def _run_quit(mode: str):
    return subprocess.run([sys.executable, "-c", _QUIT_SCRIPT, mode], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_quitting_with_a_worker_still_computing_ends_the_process_at_once_with_status_0():
    # The window has closed but a worker is still inside NumPy: the process ends there, output
    # flushed, rather than finalising the interpreter under the running thread.
    busy = _run_quit("busy")
    assert (busy.returncode, busy.stdout, busy.stderr) == (0, "window closed", "")
    # With no worker left, quitting goes on as usual.
    idle = _run_quit("idle")
    assert (idle.returncode, idle.stdout) == (3, "window closed and finalised normally\n")
