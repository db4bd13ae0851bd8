"""BLAS threads during training: one per library, our own threads on top.

NumPy's and SciPy's wheels each bring their own OpenBLAS, each with a pool of
one thread per core. Training leaves both pools idle, for two reasons
measured on the 2-core development machine:

- L-BFGS-B does its vector arithmetic (a few dot products and updates on
  vectors of some 10^5 numbers per iteration) through SciPy's OpenBLAS. With
  the pool, each of those tiny calls wakes and synchronises the threads:
  20 ms per iteration of the optimizer's own work against 5 ms without, and
  the pool's threads then keep spinning on the core NumPy needs next.
- The loss and gradient (`model.net.mlp.cost_and_grad_blocks`) run as shares of
  row blocks on our own threads, each calling NumPy's BLAS single-threaded;
  that keeps both cores busy through the elementwise work too, which NumPy
  does on one core. The evaluation took about 80 ms instead of 93-124 ms for
  784-100-10 on 60k images.

`training_threads` sets both libraries to one thread for the duration of a
``with`` block, restores them afterwards, and yields how many threads the
loss and gradient should use: as many as NumPy's BLAS had (one per core, or
what ``OPENBLAS_NUM_THREADS`` says), or 1 when NumPy's BLAS could not be set.
The libraries are found among those loaded into the process (Linux) or in
the wheels' library folders (elsewhere, and in a PyInstaller bundle).

Recognition holds NumPy's BLAS to one thread too (`model.recognise`): its
batches are a few to a few hundred candidate digits, and a second BLAS thread
that has to wait for a core busy with anything else (the window, a training
run, another program) made a batch of 15 four to six times slower, measured
on the 2-core machine under load. The setting is process-wide, so holds
are counted: the first hold saves the thread count and sets 1, the last one
to leave restores it, whichever threads (the window's, a training worker's)
take and leave them.

Left out: other BLAS vendors (MKL, Accelerate) and OpenMP builds, which are
left as they are.
"""

from __future__ import annotations

import ctypes
import functools
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

_PREFIXES = ("scipy_openblas", "openblas")
_SUFFIXES = ("", "64_")


def _library_dirs(package: str) -> list[Path]:
    """Folders where `package`'s wheels (and PyInstaller bundles of them) keep their libraries."""
    module = __import__(package)
    root = Path(module.__file__).resolve().parent
    dirs = [root.parent / f"{package}.libs", root / ".dylibs"]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        dirs += [Path(bundle) / f"{package}.libs", Path(bundle) / package / ".dylibs"]
    return [d.resolve() for d in dirs if d.is_dir()]


def _loaded_libraries() -> list[Path]:
    """OpenBLAS libraries mapped into this process (Linux only; [] elsewhere)."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as f:
            fields = [line.split(maxsplit=5) for line in f]
    except OSError:
        return []
    return sorted({Path(f[5].strip()) for f in fields if len(f) == 6 and "openblas" in f[5].lower()})


@dataclass(frozen=True)
class ThreadControl:
    """Get and set the thread count of one loaded OpenBLAS."""

    path: Path
    get: Callable[[], int]
    set: Callable[[int], None]


@functools.cache
def openblas(package: str) -> ThreadControl | None:
    """The OpenBLAS that `package` ("numpy" or "scipy") loaded, or None if not found.

    Imports what loads the library first (``numpy``, or SciPy's L-BFGS-B), so
    that the one opened here is the loaded one, never a second copy.
    """
    if package == "scipy":
        import scipy.optimize._lbfgsb  # noqa: F401
    else:
        __import__(package)
    dirs = set(_library_dirs(package))
    candidates = [p for p in _loaded_libraries() if p.parent.resolve() in dirs]
    if not candidates:
        candidates = sorted(p for d in dirs for p in d.iterdir() if "openblas" in p.name.lower())
    for path in candidates:
        try:
            lib = ctypes.CDLL(str(path))
        except OSError:
            continue
        for prefix in _PREFIXES:
            for suffix in _SUFFIXES:
                get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                set_ = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                if get is not None and set_ is not None:
                    get.restype, get.argtypes = ctypes.c_int, []
                    set_.restype, set_.argtypes = None, [ctypes.c_int]
                    return ThreadControl(path, get, set_)
    return None


_holds_lock = threading.Lock()
_holds: dict[str, int] = {}
_saved: dict[str, int] = {}


@contextmanager
def one_thread(package: str) -> Iterator[int]:
    """Hold `package`'s OpenBLAS to one thread; yield its count before any hold (0 if not found).

    Holds from several threads overlap safely: the count is restored when the last one leaves.
    """
    control = openblas(package)
    if control is None:
        yield 0
        return
    with _holds_lock:
        if not _holds.get(package):
            _saved[package] = int(control.get())
            control.set(1)
        _holds[package] = _holds.get(package, 0) + 1
        before = _saved[package]
    try:
        yield before
    finally:
        with _holds_lock:
            _holds[package] -= 1
            if not _holds[package]:
                control.set(_saved.pop(package))


@contextmanager
def training_threads() -> Iterator[int]:
    """Run the body with both OpenBLAS pools at one thread; yield the threads to use.

    The previous thread counts are restored on exit, also after an exception.
    """
    with ExitStack() as stack:
        stack.enter_context(one_thread("scipy"))
        numpy_threads = stack.enter_context(one_thread("numpy"))
        yield max(numpy_threads, 1)
