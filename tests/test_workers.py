"""app.workers: named jobs in threads, results applied only through drain(), stale results dropped."""

from __future__ import annotations

import threading
import time

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
