"""Named background jobs for a Tk window: worker threads that talk to Tk only through a queue.

A window starts a job by name (`Workers.start`); the job runs in a daemon
thread as ``target(progress, cancel, *args)`` and only ever puts messages on
a `queue.Queue`. The window calls `Workers.drain` on its own `after()` tick,
on the Tk thread, to apply them. Starting a job under a name already running
cancels the old one, and messages from a cancelled job are dropped, so a
result never arrives for weights or a choice that has changed since. Left
out: any Tk call (the window decides what a finished job means) and killing
threads (a job stops at its next check of ``cancel``).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from model.errors import DigitpadError
from model.views.robustness import Cancelled

JOIN_SECONDS = 3.0
"""How long `Workers.join` waits, in all, for cancelled threads when the app quits."""


@dataclass
class Job:
    """A worker thread, its cancel flag and what it computes (e.g. a set's name)."""

    thread: threading.Thread
    cancel: threading.Event
    what: str


@dataclass
class Finished:
    """A job that ended: ``kind`` is "done" (``value`` is the result), "error" (a one-line
    message) or "cancelled"."""

    name: str
    kind: str
    what: str
    value: Any


class Workers:
    """The jobs of one window, with their status ("idle", "computing", "done", "error") and progress."""

    def __init__(self, names: Iterable[str], thread_prefix: str):
        self.names = tuple(names)
        self.thread_prefix = thread_prefix
        self.events: queue.Queue = queue.Queue()
        self.jobs: dict[str, Job] = {}
        self.status: dict[str, str] = {}
        self.progress: dict[str, tuple[int, int]] = {}
        self.reset()

    def reset(self) -> None:
        """Cancel every job and forget statuses and progress (e.g. the weights changed)."""
        self.cancel_all()
        self.status = dict.fromkeys(self.names, "idle")
        self.progress.clear()

    def start(self, name: str, target: Callable[..., Any], *args: Any, what: str = "") -> None:
        """Run ``target(progress, cancel, *args)`` in a new thread as job `name`, cancelling the old one."""
        old = self.jobs.pop(name, None)
        if old is not None:
            old.cancel.set()
        cancel = threading.Event()
        t = threading.Thread(target=self._run, args=(name, target, cancel, *args),
                             name=f"{self.thread_prefix}-{name}", daemon=True)
        self.jobs[name] = Job(t, cancel, what)
        self.status[name] = "computing"
        self.progress[name] = (0, 1)
        t.start()

    def _run(self, name: str, target: Callable[..., Any], cancel: threading.Event, *args: Any) -> None:
        """In the worker thread: only puts messages on the queue."""
        def progress(done: int, total: int) -> None:
            self.events.put(("progress", name, cancel, (done, total)))

        try:
            self.events.put(("done", name, cancel, target(progress, cancel, *args)))
        except Cancelled:
            self.events.put(("cancelled", name, cancel, None))
        except DigitpadError as exc:
            self.events.put(("error", name, cancel, str(exc)))
        except MemoryError:
            self.events.put(("error", name, cancel, "not enough memory"))
        except Exception as exc:  # shown by the window as one line, never as a traceback
            self.events.put(("error", name, cancel, f"{type(exc).__name__}: {exc}"))

    def drain(self) -> tuple[bool, list[Finished]]:
        """Apply the queued messages (on the Tk thread): whether anything changed, and the jobs that ended."""
        changed, ended = False, []
        while True:
            try:
                kind, name, cancel, value = self.events.get_nowait()
            except queue.Empty:
                return changed, ended
            current = self.jobs.get(name)
            if current is None or current.cancel is not cancel:
                continue  # from a job cancelled since
            changed = True
            if kind == "progress":
                self.progress[name] = value
                continue
            self.jobs.pop(name, None)
            self.status[name] = {"done": "done", "error": "error"}.get(kind, "idle")
            ended.append(Finished(name, kind, current.what, value))

    def cancel_all(self) -> None:
        """Ask every running job to stop at its next step."""
        for job in self.jobs.values():
            job.cancel.set()

    def join(self, seconds: float = JOIN_SECONDS) -> None:
        """Cancel every job and wait up to `seconds` in all for their threads (the app is quitting)."""
        threads = [job.thread for job in self.jobs.values()]
        self.cancel_all()
        deadline = time.monotonic() + seconds
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
