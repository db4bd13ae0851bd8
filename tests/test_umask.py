"""Files the app writes follow the user's umask, like any file a plain ``open(path, "w")`` makes.

The atomic writes go through `tempfile.mkstemp` (0600) and `mkdtemp` (0700);
without resetting the mode a report copied to a shared folder, a saved
drawing, a taught sample or a retrained weights folder would be private to
their owner. Each case runs under umask 022 (expect 0644 files, 0755
folders) and, for the in-process writes, under 027 too (0640, 0750), so a
fixed mode would not pass.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest
from conftest import MNIST, run_cli

from model.inputs.ink import Ink, load_ink, save_ink
from model.net.weights import load_weights, save_weights
from model.personal.samples import SampleStore

pytestmark = pytest.mark.skipif(os.name != "posix", reason="mode bits are POSIX")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o027])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def _ink() -> Ink:
    stroke = np.array([[10, 10], [40, 80], [70, 10]], dtype=np.float64)
    return Ink(strokes=[stroke], width=100, height=100, pen_width=8.0)


def test_saved_drawing_follows_the_umask(tmp_path, umask):
    path = tmp_path / "drawing.json"
    save_ink(path, _ink())
    assert mode(path) == 0o666 & ~umask
    assert len(load_ink(path).strokes) == 1


def test_taught_sample_follows_the_umask(tmp_path, umask):
    store = SampleStore(tmp_path / "samples")
    sample = store.add(_ink(), "7")
    assert mode(sample.path) == 0o666 & ~umask


def test_weights_folder_follows_the_umask(tmp_path, umask):
    rng = np.random.default_rng(0)
    folder = save_weights(tmp_path / "w", [rng.normal(size=(5, 785)), rng.normal(size=(10, 6))], {})
    assert mode(folder) == 0o777 & ~umask
    for f in folder.iterdir():
        assert mode(f) == 0o666 & ~umask, f.name
    assert load_weights(folder).layout.sizes == (784, 5, 10)


def test_report_files_are_0644_under_umask_022(shipped_report):
    out, _ = shipped_report  # written by `digitpad report` under umask 022 (conftest)
    files = list(out.iterdir())
    assert files
    for f in files:
        assert mode(f) == 0o644, f"{f.name}: {oct(mode(f))}"


def test_retrained_weights_are_0644_under_umask_022(tmp_path):
    old = os.umask(0o022)
    try:
        r = run_cli("train", "--data", str(MNIST), "--limit", "300", "--hidden", "8", "--max-iter", "3",
                    "--out", str(tmp_path / "retrained"), env={"DIGITPAD_HOME": str(tmp_path / "home")})
    finally:
        os.umask(old)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "retrained"
    assert mode(out) == 0o755
    files = [p for p in out.rglob("*")]
    assert any(p.name == "Theta1.txt" for p in files)
    for p in files:
        assert mode(p) == (0o755 if p.is_dir() else 0o644), f"{p}: {oct(mode(p))}"
