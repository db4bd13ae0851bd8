"""`pip install .` as a user would do it: the wheel carries every shipped weights file and finds them."""

import json
import os
import subprocess
import sys
import venv

import pytest
from conftest import ROOT, WEIGHTS, run_cli


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A venv (reusing this interpreter's numpy/scipy/pillow) with the project's wheel installed."""
    tmp = tmp_path_factory.mktemp("wheel")
    wheels = tmp / "dist"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                            "-w", str(wheels), str(ROOT)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-2000:]
    env_dir = tmp / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=True)
    py = env_dir / "bin" / "python"
    wheel = next(wheels.glob("digitpad-*.whl"))
    inst = subprocess.run([str(py), "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)],
                          capture_output=True, text=True, timeout=600)
    assert inst.returncode == 0, inst.stderr[-2000:]
    return env_dir


def test_wheel_ships_every_weights_file(installed):
    share = installed / "share" / "digitpad" / "weights"
    shipped = sorted(p.relative_to(WEIGHTS) for p in WEIGHTS.rglob("*") if p.is_file())
    assert shipped
    for rel in shipped:
        assert (share / rel).is_file(), f"weights/{rel} is missing from the wheel"
        assert (share / rel).read_bytes() == (WEIGHTS / rel).read_bytes()


def test_wheel_install_evaluates_like_the_source(installed, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["DIGITPAD_HOME"] = str(tmp_path / "home")
    got = subprocess.run([str(installed / "bin" / "digitpad"), "evaluate", "--json"], capture_output=True,
                         text=True, cwd=tmp_path, env=env, timeout=600)
    assert got.returncode == 0, got.stderr
    frozen = json.loads(got.stdout)
    assert frozen["weights"].startswith(str(installed))  # not the source tree's weights
    source = run_cli("evaluate", "--json", env={"DIGITPAD_HOME": str(tmp_path / "src-home")})
    want = json.loads(source.stdout)
    assert frozen["accuracy"] == want["accuracy"] and frozen["networks"] == want["networks"]
