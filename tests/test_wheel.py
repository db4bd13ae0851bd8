"""`pip install .` as a user would do it: the wheel carries every shipped weights file and finds them."""

import json
import os
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from conftest import ROOT, WEIGHTS, run_cli


def _see_running_packages(py) -> None:
    """Let the venv at `py` import the packages of the interpreter running the tests.

    `system_site_packages=True` would reach the *base* interpreter's
    site-packages, not those of a venv the tests run in (where a newcomer has
    numpy, scipy and Pillow). A ``.pth`` of plain folder lines appends this
    interpreter's site folders after the venv's own, so the wheel's ``app`` and
    ``model`` still come first and the source tree's editable install (whose
    finder lives in a ``.pth`` of the outer folder, not processed from here) is
    not seen.
    """
    folders = [*site.getsitepackages(), site.getusersitepackages()]
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "_digitpad_test_parent.pth").write_text(
        "".join(f"{f}\n" for f in folders if os.path.isdir(f)), encoding="utf-8")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A venv (reusing the running interpreter's numpy/scipy/pillow) with the project's wheel installed."""
    tmp = tmp_path_factory.mktemp("wheel")
    wheels = tmp / "dist"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                            "-w", str(wheels), str(ROOT)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-2000:]
    env_dir = tmp / "venv"
    venv.create(env_dir, system_site_packages=False, with_pip=True)
    py = env_dir / "bin" / "python"
    _see_running_packages(py)
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
