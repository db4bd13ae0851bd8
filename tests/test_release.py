"""The release archive (assets/make_release.py) and what the lean bundle leaves out.

The frozen tests here pack the one-folder bundle that tests/test_frozen.py
builds in the same session (or build it, when run alone; or take
``DIGITPAD_FROZEN_DIST``), unpack the archive into a temporary folder as a
user would, and run what is inside: ``--version`` and ``predict`` on an MNIST
digit and a pen-written ink file, compared with the source install, also
through a symbolic link from another folder (as the archive's README
suggests). The stand-in modules of assets/pyi_rth_left_out.py are checked
from source.

Run alone:  python -m pytest -q tests/test_release.py
"""

from __future__ import annotations

import configparser
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import MNIST, PEN_FILE, ROOT, run_cli, write_pen_ink

sys.path.insert(0, str(ROOT / "assets"))
import make_release  # noqa: E402
import pyi_rth_left_out  # noqa: E402

needs_pyinstaller = pytest.mark.skipif(importlib.util.find_spec("PyInstaller") is None,
                                       reason="needs PyInstaller")
RUN_TIMEOUT = 600


# --------------------------------------------------------------------------- the archive


@pytest.fixture(scope="module")
def onedir_bundle(tmp_path_factory) -> Iterator[Path]:
    """The one-folder bundle's folder: the session's build (shared with test_frozen.py)."""
    import test_frozen

    if os.environ.get("DIGITPAD_FROZEN_DIST"):
        folder = Path(os.environ["DIGITPAD_FROZEN_DIST"]) / "digitpad"
        if not (folder / "digitpad").is_file():
            pytest.skip(f"DIGITPAD_FROZEN_DIST has no digitpad/digitpad: {folder}")
        yield folder
        return
    builds = test_frozen.session_builds(tmp_path_factory, ("onedir",))
    yield builds["onedir"].wait().parent


@pytest.fixture(scope="module")
def unpacked(onedir_bundle, tmp_path_factory) -> tuple[Path, Path]:
    """(the archive, the folder it was unpacked into)."""
    out = tmp_path_factory.mktemp("release")
    archive = make_release.make_release(onedir_bundle, out)
    dest = tmp_path_factory.mktemp("unpacked")
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):  # Python 3.10.12+/3.11.4+: refuse links out of `dest`
            tar.extractall(dest, filter="data")
        else:
            tar.extractall(dest)  # noqa: S202 (our own archive)
    return archive, dest


def _inputs(folder: Path) -> list[Path]:
    """An MNIST test digit as PNG and a pen-written digit as an ink file, as far as the data allow."""
    from PIL import Image

    paths = []
    if (MNIST / "t10k-images-idx3-ubyte.gz").is_file() or (MNIST / "t10k-images-idx3-ubyte").is_file():
        from model.datasets.mnist import load_mnist

        test = load_mnist("test", MNIST)
        p = folder / f"mnist-label{int(test.y[0])}.png"
        Image.fromarray((test.X[0].reshape(28, 28) * 255 + 0.5).astype(np.uint8), "L").save(p)
        paths.append(p)
    if PEN_FILE.is_file():
        from model.datasets import pendigits

        s = pendigits.load(PEN_FILE)[7]
        paths.append(write_pen_ink(s, folder / f"pen-label{s.label}.json"))
    if not paths:
        pytest.skip("needs MNIST or the pendigits file to make inputs")
    return paths


def _clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["DIGITPAD_HOME"] = str(home)
    return env


@pytest.mark.frozen
@needs_pyinstaller
def test_archive_holds_the_bundle_desktop_entry_icon_and_readme(unpacked):
    archive, dest = unpacked
    version = make_release.project_version()
    assert archive.name == f"digitpad-{version}-{make_release.platform_tag()}.tar.gz"
    if sys.platform.startswith("linux") and os.uname().machine == "x86_64":
        assert archive.name.endswith("-linux-x86_64.tar.gz")
    top = dest / f"digitpad-{version}"
    assert sorted(p.name for p in dest.iterdir()) == [top.name], "one top folder"
    assert {p.name for p in top.iterdir()} == {"digitpad", "digitpad.desktop", "digitpad.png", "README.txt"}
    exe = top / "digitpad" / "digitpad"
    assert exe.is_file() and os.access(exe, os.X_OK)

    readme = (top / "README.txt").read_text(encoding="utf-8")
    assert f"Digitpad {version}" in readme and "./digitpad/digitpad" in readme and "{" not in readme

    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(top / "digitpad.desktop", encoding="utf-8")
    d = entry["Desktop Entry"]
    assert d["Type"] == "Application" and d["Name"] == "Digitpad" and d["Terminal"] == "false"
    assert d["Exec"].split()[0] == "digitpad" and d["Icon"] == "digitpad"
    assert d["StartupWMClass"] == "Digitpad"  # Tk's class name (tk.Tk(className="Digitpad"))
    if shutil.which("desktop-file-validate"):  # freedesktop's own checker (desktop-file-utils)
        checked = subprocess.run(["desktop-file-validate", str(top / "digitpad.desktop")],
                                 capture_output=True, text=True, timeout=60)
        assert checked.returncode == 0 and not checked.stdout.strip(), checked.stdout + checked.stderr

    from PIL import Image

    with Image.open(top / "digitpad.png") as icon:
        assert icon.format == "PNG" and icon.size == (256, 256)
    assert (top / "digitpad.png").read_bytes() == (ROOT / "assets" / "icon.png").read_bytes()


@pytest.mark.frozen
@needs_pyinstaller
def test_unpacked_archive_runs_version_and_predict(unpacked, tmp_path):
    """The unpacked program answers --version and reads a scan and an ink file as the source does,
    started directly and through a link elsewhere."""
    _, dest = unpacked
    version = make_release.project_version()
    exe = dest / f"digitpad-{version}" / "digitpad" / "digitpad"
    link_dir = tmp_path / "bin"
    link_dir.mkdir()
    (link_dir / "digitpad").symlink_to(exe)
    inputs = _inputs(tmp_path)
    source = run_cli("predict", "--json", *map(str, inputs), env={"DIGITPAD_HOME": str(tmp_path / "src")})
    assert source.returncode == 0, source.stderr
    for program in (exe, link_dir / "digitpad"):
        r = subprocess.run([str(program), "--version"], cwd=tmp_path, env=_clean_env(tmp_path / "home"),
                           capture_output=True, text=True, timeout=RUN_TIMEOUT)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == f"digitpad {version}"
        r = subprocess.run([str(program), "predict", "--json", *map(str, inputs)], cwd=tmp_path,
                           env=_clean_env(tmp_path / "home"), capture_output=True, text=True,
                           timeout=RUN_TIMEOUT)
        assert r.returncode == 0, r.stderr
        got = [json.loads(line) for line in r.stdout.splitlines()]
        want = [json.loads(line) for line in source.stdout.splitlines()]
        assert [g["digits"] for g in got] == [w["digits"] for w in want]
        assert [g["confidence"] for g in got] == pytest.approx([w["confidence"] for w in want], abs=1e-5)
        labels = [p.stem.split("label")[1] for p in inputs]
        assert sum(g["digits"] == lab for g, lab in zip(got, labels, strict=True)) >= len(labels) - 1


@pytest.mark.frozen
@needs_pyinstaller
def test_make_release_refuses_a_bundle_of_another_version(onedir_bundle, tmp_path):
    """A stale dist folder is not packed under the new version's name."""
    with pytest.raises(SystemExit, match="expected 'digitpad 9.9.9'"):
        make_release.make_release(onedir_bundle, tmp_path, version="9.9.9")
    assert not list(tmp_path.iterdir()), "nothing is left behind"


@pytest.mark.frozen
@needs_pyinstaller
def test_bundle_leaves_out_what_it_says(onedir_bundle):
    """HiGHS, the sparse kernels, AVIF and WebP, Python's CJK codecs and XML parser, Tcl's unused
    packages and (on Linux) the system's X11 and font libraries are not in the bundle; the stand-ins'
    table is."""
    internal = onedir_bundle / "_internal"
    files = {p.relative_to(internal).as_posix() for p in internal.rglob("*")}
    assert not [f for f in files if "_highspy/_core" in f or "_sparsetools" in f or "_qhull" in f]
    assert not [f for f in files if "libavif" in f or "libwebp" in f or "PIL/_avif" in f]
    assert any(f.startswith("scipy/optimize/_lbfgsb") for f in files), "L-BFGS-B ships"
    table = pyi_rth_left_out.read_table(str(internal / "_left_out.txt"))
    assert "scipy.optimize._highspy._core" in table and "HighsModelStatus" in \
        table["scipy.optimize._highspy._core"]
    assert "numpy.fft._pocketfft_umath" in table and not [f for f in files if "_pocketfft_umath" in f]
    # Python's East Asian codecs and XML parser are left out (pyexpat has a stand-in); the
    # Unicode database stays: https downloads encode the host name with the IDNA codec, which needs it
    dynload = {Path(f).name.split(".")[0] for f in files if "lib-dynload/" in f}
    assert not dynload & {"_codecs_jp", "_codecs_cn", "_codecs_kr", "_codecs_hk", "_codecs_tw",
                          "_codecs_iso2022", "_multibytecodec", "pyexpat", "_elementtree"}
    assert {"unicodedata", "_ssl", "_socket"} <= dynload
    assert "pyexpat" in table and "ParserCreate" in table["pyexpat"]
    # Tcl's test harness, HTTP client and friends are gone; Tk's message catalogs' package stays
    assert not [f for f in files if "tcltest" in f or "/http" in f or f.endswith("AppInit.c")]
    assert any(f.startswith("_tcl_data/tcl8/msgcat") for f in files)
    # NumPy's and SciPy's identical libgfortran is kept once, the other is a link to it
    links = [p for p in internal.rglob("libgfortran*") if p.is_symlink()]
    assert all(p.resolve().is_file() for p in links)
    if sys.platform.startswith("linux"):
        # The C++/GCC runtimes and core X11 libraries come from the system, as for the wheels
        assert not files & {"libstdc++.so.6", "libgcc_s.so.1", "libX11.so.6", "libXext.so.6"}
        # and so does the X11 and font stack below Tk, but not libXft and libXss, which only Tk needs
        assert not files & {"libfontconfig.so.1", "libfreetype.so.6", "libpng16.so.16", "libexpat.so.1",
                            "libbrotlidec.so.1", "libXau.so.6", "libXdmcp.so.6", "libbsd.so.0"}
        assert {"libXft.so.2", "libXss.so.1", "libtk8.6.so", "libffi.so.8"} <= files
        # Pillow's libXau without patchelf's 2 MiB of padding, and still a library that loads
        import ctypes

        import PIL

        shipped = next(internal.glob("pillow.libs/libXau-*.so*"))
        wheel = Path(PIL.__file__).parent.parent / "pillow.libs" / shipped.name
        if wheel.is_file():
            assert shipped.stat().st_size < wheel.stat().st_size / 10
        xau = ctypes.CDLL(str(shipped))
        xau.XauFileName.restype = ctypes.c_char_p
        assert xau.XauFileName()  # the path of the X authority file
        # Shared libraries are stripped where that keeps them loadable: no symbol table left in
        # libpython or Pillow's core (the loadability itself is proven by every frozen test)
        for lib in ("libpython3*.so*", "PIL/_imaging.*.so"):
            path = next(internal.glob(lib))
            assert b".symtab" not in _section_names(path), path


def _section_names(path: Path) -> bytes:
    """The section-name string table of a 64-bit little-endian ELF file."""
    import struct

    data = path.read_bytes()
    shoff, = struct.unpack_from("<Q", data, 40)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 58)
    _, _, _, _, offset, size = struct.unpack_from("<IIQQQQ", data, shoff + shstrndx * shentsize)
    return data[offset:offset + size]


# --------------------------------------------------------------------------- the stand-ins


def test_stand_in_modules_answer_names_and_refuse_calls(monkeypatch):
    """A left-out module imports, gives its public names to `from M import *` and any other
    name too, and refuses every call with a message naming what was left out."""
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    name = "digitpad_test_left_out_module"
    pyi_rth_left_out.install({name: ["solve", "Status"]})
    try:
        mod = importlib.import_module(name)
        namespace: dict = {}
        exec(f"from {name} import *", namespace)
        assert {"solve", "Status"} <= set(namespace)
        from_import = importlib.import_module(name).Status.kOptimal  # attributes of attributes
        assert {from_import: 1}[from_import] == 1, "placeholders serve as dictionary keys"
        assert mod.solve.__name__ == "solve"
        with pytest.raises(pyi_rth_left_out.LeftOutError, match=f"{name}.solve is not part of"):
            mod.solve([1, 2])
        with pytest.raises(AttributeError):
            _ = mod.__path__  # not a package: its submodules are not found by accident
    finally:
        sys.modules.pop(name, None)


def test_release_readme_and_desktop_templates_fill_in():
    """The README template takes the version and C library; the desktop entry is the spec's."""
    text = make_release.readme_text("1.2.3", "linux-x86_64")
    assert text.startswith("Digitpad 1.2.3 for linux-x86_64\n===============================\n")
    assert "{" not in text
    assert make_release.archive_name("1.2.3", "linux-x86_64") == "digitpad-1.2.3-linux-x86_64.tar.gz"
    assert make_release.archive_name("1.2.3", "windows-AMD64") == "digitpad-1.2.3-windows-AMD64.zip"
