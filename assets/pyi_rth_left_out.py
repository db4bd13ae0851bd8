"""PyInstaller run-time hook: stand-ins for compiled modules the bundle leaves out.

Importing ``scipy.optimize`` (for L-BFGS-B), ``scipy.ndimage`` and
``scipy.spatial`` (for cKDTree) also imports, at import time, compiled
modules that Digitpad never calls: the HiGHS LP solver, the sparse-matrix
kernels and eigensolvers, Qhull, the distance and rotation kernels,
MINPACK, SLSQP and more (about 20 MB); likewise NumPy's FFT kernels and
Python's XML parser (pyexpat). build.spec leaves them out and this
hook, run before the app, puts a stand-in module in their place. A
stand-in answers any attribute (``from M import X`` and module-level uses
such as dictionary keys keep working) with a placeholder that refuses to be
called with a clear message, so a code path that did reach one fails loudly
instead of giving a wrong answer. ``build.spec``'s ``LEFT_OUT`` is the
list; this file reads it from ``_left_out.txt`` in the bundle.

The frozen tests (tests/test_frozen.py: train, adapt, report, scans, the
window) are the proof that nothing the app runs needs them.
"""

from __future__ import annotations

# Only what Python has already imported when a run-time hook runs (importlib.abc would pull
# in typing and more, before the app starts).
import os
import sys
import types
from importlib.machinery import ModuleSpec


class LeftOutError(RuntimeError):
    """Raised when code reaches a compiled module that the bundle left out."""


class _Placeholder:
    """What any attribute of a left-out module is: usable as a name or a key, never callable."""

    def __init__(self, name: str) -> None:
        self._name = name
        self.__doc__ = f"{name} (left out of this bundle)"  # some SciPy modules rewrite docstrings

    def __getattr__(self, attr: str) -> _Placeholder | str:
        if attr in ("__name__", "__qualname__"):  # SciPy names its wrappers after what they wrap
            return self._name.rpartition(".")[2]
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return _Placeholder(f"{self._name}.{attr}")

    def __call__(self, *args, **kwargs):
        raise LeftOutError(f"{self._name} is not part of the Digitpad bundle (left out by build.spec)")

    def __repr__(self) -> str:
        return f"<left out: {self._name}>"


class _LeftOutModule(types.ModuleType):
    """A left-out module: its public names (as the real module had them) and any other are placeholders."""

    def __getattr__(self, attr: str) -> _Placeholder:
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        return _Placeholder(f"{self.__name__}.{attr}")


class _LeftOutFinder:
    """Finds the left-out module names (and only those) before any other finder, and loads them
    (a meta path finder and loader, as importlib.abc describes them)."""

    def __init__(self, names: dict[str, list[str]]) -> None:
        self.names = names

    def find_spec(self, fullname, path=None, target=None):
        if fullname in self.names:
            return ModuleSpec(fullname, self, is_package=False)
        return None

    def create_module(self, spec):
        return _LeftOutModule(spec.name)

    def exec_module(self, module) -> None:
        public = self.names[module.__name__]
        for attr in public:
            setattr(module, attr, _Placeholder(f"{module.__name__}.{attr}"))
        module.__all__ = list(public)  # so that `from M import *` brings the same names as before


def install(names: dict[str, list[str]]) -> None:
    """Serve stand-ins for the modules named by `names` (module -> its public names) from now on."""
    if names:
        sys.meta_path.insert(0, _LeftOutFinder(dict(names)))


def read_table(path: str) -> dict[str, list[str]]:
    """The table build.spec writes: one module a line, then a tab and its public names, comma-separated."""
    table: dict[str, list[str]] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                module, _, names = line.rstrip("\n").partition("\t")
                table[module] = [n for n in names.split(",") if n]
    return table


def _names_in_bundle() -> dict[str, list[str]]:
    try:
        return read_table(os.path.join(sys._MEIPASS, "_left_out.txt"))
    except (OSError, AttributeError):
        return {}


if getattr(sys, "frozen", False):
    install(_names_in_bundle())
