"""Shared fixtures: where the data sets are, the shipped weights, a small MNIST slice."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DIGITPAD_SHARED", ROOT.parent / "shared" / "data"))
os.environ.setdefault("DIGITPAD_DATA", str(SHARED / "mnist"))
MNIST = Path(os.environ["DIGITPAD_DATA"])
PEN_FILE = Path(os.environ.get("DIGITPAD_PEN_DATA", SHARED / "pendigits-train")) / "pendigits-orig.tra"
USPS_FILE = Path(os.environ.get("DIGITPAD_USPS_DATA", SHARED / "usps-train")) / "usps-train.npz"
WEIGHTS = ROOT / "weights"


@pytest.fixture(scope="session")
def mnist_test():
    """The 10,000 MNIST test images (float32 rows) and labels."""
    from model.datasets.mnist import load_mnist

    return load_mnist("test", MNIST)


@pytest.fixture(scope="session")
def mnist_train():
    """The 60,000 MNIST training images and labels."""
    from model.datasets.mnist import load_mnist

    return load_mnist("train", MNIST)


@pytest.fixture(scope="session")
def shipped():
    """The shipped model."""
    from model.net.weights import load_weights

    return load_weights(WEIGHTS)


@pytest.fixture(scope="session")
def recogniser(shipped):
    """The shipped model as the app and `digitpad predict` read with it. Its cache of ink candidates
    is keyed by their exact points, so sharing one across the session changes no reading."""
    from model.recognise import Recogniser
    from model.verifier import load_verifier

    return Recogniser(shipped, load_verifier(ROOT / "assets"))


@pytest.fixture(scope="session")
def shipped_report(tmp_path_factory) -> tuple[Path, dict]:
    """`digitpad report` on the shipped weights from source, written once per session into
    TMP/out with an empty user cache in TMP/cache (test_report checks it; test_frozen
    compares the bundle's report with it)."""
    import json

    tmp = tmp_path_factory.mktemp("shipped-report")
    out = tmp / "out"
    old_mask = os.umask(0o022)  # a user's usual umask: test_umask checks the files' modes follow it
    try:
        r = run_cli("report", "--weights", str(WEIGHTS), "--out", str(out),
                    env={"XDG_CACHE_HOME": str(tmp / "cache")})
    finally:
        os.umask(old_mask)
    assert r.returncode == 0, r.stderr
    return out, json.loads((out / "report.json").read_text())


@pytest.fixture(scope="module")
def held_out(pen_samples):
    """The pen digits of the validation writers, kept out of the shipped model's training."""
    return [s for s in pen_samples if s.writer in bench_numbers().HOLDOUT_WRITERS]


@pytest.fixture(scope="session")
def pen_samples():
    """All 7,494 pendigits samples, in canvas coordinates."""
    from model.datasets import pendigits

    return pendigits.load(PEN_FILE)


def bench_numbers():
    """benchmarks/bench_numbers.py (the number and scan generators the tests share), imported by path."""
    if "bench_numbers" not in sys.modules:
        path = ROOT / "benchmarks" / "bench_numbers.py"
        spec = importlib.util.spec_from_file_location("bench_numbers", path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules["bench_numbers"] = mod
        spec.loader.exec_module(mod)
    return sys.modules["bench_numbers"]


def write_pen_ink(sample, path: Path) -> Path:
    """A pendigits sample as an ink JSON file on a 560x320 pad (coordinates to 0.01 px), for
    tests that feed ink files to the command line or the bundle."""
    import json

    import numpy as np

    path.write_text(json.dumps({"width": 560, "height": 320,
                                "strokes": [np.round(st, 2).tolist() for st in sample.strokes]}))
    return path


def run_cli(*args: str, env: dict | None = None, cwd: str | Path | None = None, timeout: float = 600):
    """Run `python -m app ARGS` as a user would run `digitpad ARGS`."""
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = str(ROOT) + os.pathsep + full_env.get("PYTHONPATH", "")
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or ROOT,
        timeout=timeout,
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI (CI=true) a skipped test is a failure: every tool and data set must be there."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI", "").lower() in ("1", "true", "yes") and report.skipped \
            and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which must run everything: {report.longrepr}"
