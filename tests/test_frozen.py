"""The stand-alone executable (PyInstaller, build.spec) does what the installed command does.

The bundle is built once per test session, into a temporary folder, with
``pyinstaller --noconfirm --distpath TMP/dist --workpath TMP/build build.spec``
run from the repository root: the one-folder build (``dist/digitpad/digitpad``)
and, for the tests parametrised over both, the one-file build
(``DIGITPAD_ONEFILE=1``, ``dist/onefile/digitpad``). The two builds start
together, when the first frozen test needs either, and run side by side (a
build not needed by the selected tests is stopped at the end). Every frozen
run gets an environment without PYTHONPATH/PYTHONHOME and a throw-away user
data folder; answers are compared with the source install (``python -m app``
through conftest's `run_cli`), never with hard-coded numbers, and no time is
asserted.
(So the working tree, the shipped weights above all, must not change while
the session runs: the bundle is a snapshot of it taken at the start.)

Run alone:  python -m pytest -q -m frozen tests/test_frozen.py
To reuse a bundle built beforehand, set DIGITPAD_FROZEN_DIST to its dist folder.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import MNIST, PEN_FILE, ROOT, WEIGHTS, run_cli, write_pen_ink

pytestmark = [
    pytest.mark.frozen,
    pytest.mark.skipif(importlib.util.find_spec("PyInstaller") is None, reason="needs PyInstaller"),
]

SPEC = ROOT / "build.spec"
BUILD_TIMEOUT = 3600  # minutes on a loaded 2-core machine; generous on purpose
RUN_TIMEOUT = 600
MNIST_FOUND = (MNIST / "t10k-images-idx3-ubyte.gz").is_file() or (MNIST / "t10k-images-idx3-ubyte").is_file()
needs_mnist = pytest.mark.skipif(not MNIST_FOUND, reason=f"needs MNIST in {MNIST}")
needs_pen = pytest.mark.skipif(not PEN_FILE.is_file(), reason=f"needs the pendigits file {PEN_FILE}")


def project_version() -> str:
    """[project] version from pyproject.toml."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["version"]


# --------------------------------------------------------------------------- building


class _Build:
    """One PyInstaller run in the background, with its own folders (and its own cache, so two
    builds can run at once on the two cores without sharing PyInstaller's binary cache)."""

    def __init__(self, tmp: Path, onefile: bool):
        env = dict(os.environ)
        env.pop("DIGITPAD_ONEFILE", None)
        if onefile:
            env["DIGITPAD_ONEFILE"] = "1"
        env["PYINSTALLER_CONFIG_DIR"] = str(tmp / "config")
        self.exe = tmp / "dist" / ("onefile" if onefile else "digitpad") / "digitpad"
        self.log = open(tmp / "pyinstaller.log", "w+")  # noqa: SIM115 (closed in wait)
        cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
               "--distpath", str(tmp / "dist"), "--workpath", str(tmp / "build"), str(SPEC)]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait(self) -> Path:
        """The executable, once the build has finished (asserts it succeeded; may be called again)."""
        if not self.log.closed:
            try:
                code = self.proc.wait(timeout=BUILD_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                raise
            self.log.seek(0)
            self.output = self.log.read()
            self.log.close()
        code = self.proc.returncode
        assert code == 0, f"pyinstaller failed ({code}):\n{self.output[-6000:]}"
        assert self.exe.is_file() and os.access(self.exe, os.X_OK), f"no executable at {self.exe}"
        return self.exe


SESSION_BUILDS: dict[str, _Build] = {}
"""The builds this test session started, by kind ("onedir", "onefile"): tests/test_release.py
packs the same one-folder build instead of making its own."""


def session_builds(tmp_path_factory, kinds: tuple[str, ...]) -> dict[str, _Build]:
    """Start the builds of `kinds` not started yet this session (they run side by side)."""
    for kind in kinds:
        if kind not in SESSION_BUILDS:
            SESSION_BUILDS[kind] = _Build(tmp_path_factory.mktemp(kind), onefile=kind == "onefile")
    return SESSION_BUILDS


def stop_session_builds() -> None:
    """Stop the builds still running (not needed by the selected tests)."""
    for b in SESSION_BUILDS.values():
        if b.proc.poll() is None:
            b.proc.kill()
            b.proc.wait()


@pytest.fixture(scope="session")
def _builds(tmp_path_factory) -> Iterator[dict[str, _Build] | None]:
    """Both builds, started together on first use (None when DIGITPAD_FROZEN_DIST gives them)."""
    if os.environ.get("DIGITPAD_FROZEN_DIST"):
        yield None
        return
    yield session_builds(tmp_path_factory, ("onedir", "onefile"))
    stop_session_builds()


def _bundle(builds: dict[str, _Build] | None, onefile: bool) -> Path:
    """Path of the frozen executable, waited for (or taken from DIGITPAD_FROZEN_DIST)."""
    if builds is None:
        rel = Path("onefile", "digitpad") if onefile else Path("digitpad", "digitpad")
        exe = Path(os.environ["DIGITPAD_FROZEN_DIST"]) / rel
        if not exe.is_file():
            pytest.skip(f"DIGITPAD_FROZEN_DIST={os.environ['DIGITPAD_FROZEN_DIST']} has no {rel}")
        return exe
    return builds["onefile" if onefile else "onedir"].wait()


@pytest.fixture(scope="session")
def onedir_exe(_builds) -> Path:
    """The one-folder build's executable (dist/digitpad/digitpad)."""
    return _bundle(_builds, onefile=False)


@pytest.fixture(scope="session")
def onefile_exe(_builds) -> Path:
    """The one-file build's executable (dist/onefile/digitpad)."""
    return _bundle(_builds, onefile=True)


@pytest.fixture(scope="session", params=["onedir", "onefile"])
def exe(request) -> Path:
    """Each build in turn."""
    return request.getfixturevalue(f"{request.param}_exe")


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """os.environ without PYTHONPATH/PYTHONHOME, with its own user data folder."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["DIGITPAD_HOME"] = str(home)
    env["DIGITPAD_DATA"] = str(MNIST)
    env.update(extra)
    return env


def run_frozen(exe: Path, *args: str, cwd: Path, env: dict[str, str] | None = None,
               timeout: float = RUN_TIMEOUT) -> subprocess.CompletedProcess:
    """Run the frozen executable from `cwd` (not the repository) in a clean environment."""
    return subprocess.run([str(exe), *args], cwd=cwd, env=env or clean_env(cwd / "home"),
                          capture_output=True, text=True, timeout=timeout)


def bundle_listing(exe: Path) -> set[str]:
    """Every file of a one-folder bundle (to check nothing is written into it)."""
    root = exe.parent
    return {str(p.relative_to(root)) for p in root.rglob("*")}


# --------------------------------------------------------------------------- inputs


@pytest.fixture(scope="session")
def inputs(tmp_path_factory) -> list[Path]:
    """MNIST test digits as PNG (one also as JPEG) and pen-written digits as ink JSON files."""
    from PIL import Image

    from model.datasets import pendigits
    from model.datasets.mnist import load_mnist

    folder = tmp_path_factory.mktemp("inputs")
    paths: list[Path] = []
    if MNIST_FOUND:
        test = load_mnist("test", MNIST)
        for i in range(12):
            img = Image.fromarray((test.X[i].reshape(28, 28) * 255 + 0.5).astype(np.uint8), "L")
            p = folder / f"mnist-{i}-label{int(test.y[i])}.png"
            img.save(p)
            paths.append(p)
        # a dark-on-light, larger JPEG as well: exercises another Pillow plugin in the bundle
        dark_on_light = 255 - (test.X[12].reshape(28, 28) * 255).astype(np.uint8)
        big = Image.fromarray(dark_on_light, "L").resize((112, 112))
        p = folder / f"mnist-12-label{int(test.y[12])}.jpg"
        big.save(p, quality=95)
        paths.append(p)
    if PEN_FILE.is_file():
        samples = pendigits.load(PEN_FILE)
        for i in range(0, 400, 40):
            s = samples[i]
            paths.append(write_pen_ink(s, folder / f"pen-{i}-label{s.label}.json"))
    if not paths:
        pytest.skip("needs MNIST or the pendigits file to make inputs")
    return paths


def _predictions(stdout: str) -> dict[str, dict]:
    out = {}
    for line in stdout.splitlines():
        d = json.loads(line)
        out[Path(d.pop("path")).name] = d
    return out


# --------------------------------------------------------------------------- the command line


def test_version_matches_pyproject(exe, tmp_path):
    r = run_frozen(exe, "--version", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"digitpad {project_version()}"


def test_resources_ship_at_their_source_paths(onedir_exe):
    """weights/, the app's icons and the verifier (`model.verifier`) sit in the bundle as in the source
    tree, byte for byte."""
    internal = onedir_exe.parent / "_internal"
    shipped = sorted(p.relative_to(ROOT) for p in (ROOT / "weights").iterdir() if p.is_file())
    shipped += [Path("assets", name) for name in ("icon.png", "icon.ico", "verifier_Theta1.txt",
                                                  "verifier_Theta2.txt", "verifier.json")]
    assert any(str(p).startswith("weights") for p in shipped)
    for rel in shipped:
        assert (internal / rel).is_file(), f"{rel} is missing from the bundle"
        assert (internal / rel).read_bytes() == (ROOT / rel).read_bytes(), rel
    assert not list((internal / "assets").glob("*.py")), "development files do not ship"
    assert not (internal / "assets" / "release").exists(), "the release archive's files stay outside"


def test_predict_matches_source_install(exe, inputs, tmp_path):
    """Same digits and confidences for images and ink files as `python -m app predict`."""
    args = ["predict", "--json", *map(str, inputs)]
    frozen = run_frozen(exe, *args, cwd=tmp_path)
    assert frozen.returncode == 0, frozen.stderr
    source = run_cli(*args, env={"DIGITPAD_HOME": str(tmp_path / "src-home")})
    assert source.returncode == 0, source.stderr
    got, want = _predictions(frozen.stdout), _predictions(source.stdout)
    assert set(got) == {p.name for p in inputs}
    for name, w in want.items():
        g = got[name]
        assert g["digits"] == w["digits"], name
        assert g["confidence"] == pytest.approx(w["confidence"], abs=1e-5), name
        boxes = [v for d in g["per_digit"] for v in d["box"]]
        assert boxes == pytest.approx([v for d in w["per_digit"] for v in d["box"]], abs=0.05), name
    # and the answers are real readings, not errors: most carry their true label
    right = sum(v["digits"] == name.split("label")[1].split(".")[0] for name, v in got.items())
    assert right >= 0.8 * len(got)


def test_predict_plain_output_and_errors(onedir_exe, inputs, tmp_path):
    """The tab-separated output and the one-line error for a bad file, as from source."""
    bad = tmp_path / "not-an-image.png"
    bad.write_text("hello")
    args = ["predict", str(inputs[0]), str(bad)]
    frozen = run_frozen(onedir_exe, *args, cwd=tmp_path)
    source = run_cli(*args, env={"DIGITPAD_HOME": str(tmp_path / "src-home")})
    assert frozen.returncode == source.returncode == 2
    assert frozen.stdout == source.stdout
    assert frozen.stderr == source.stderr
    assert "Traceback" not in frozen.stderr


@needs_mnist
def test_evaluate_matches_source_install(exe, tmp_path):
    frozen = run_frozen(exe, "evaluate", "--json", cwd=tmp_path)
    assert frozen.returncode == 0, frozen.stderr
    source = run_cli("evaluate", "--json", env={"DIGITPAD_HOME": str(tmp_path / "src-home")})
    assert source.returncode == 0, source.stderr
    got, want = json.loads(frozen.stdout), json.loads(source.stdout)
    assert got["accuracy"] == want["accuracy"]
    assert got["confusion"] == want["confusion"]
    assert got["layer_sizes"] == want["layer_sizes"]
    # the shipped weights came from inside the bundle, not from the source tree
    meipass = exe.parent / "_internal" if exe.parent.name == "digitpad" else None
    assert Path(got["weights"]).name == "weights"
    assert Path(got["weights"]).resolve() != WEIGHTS.resolve()
    if meipass is not None:
        assert Path(got["weights"]).resolve() == (meipass / "weights").resolve()


def few_writers_pen_file(path: Path, writers: set[int]) -> Path:
    """The pendigits file cut down to the digits of `writers` (header kept), written to `path`:
    `--limit` caps MNIST images only, and rendering all 10,992 pen digits twice would make
    the short training comparison below mostly rendering."""
    head, *segments = PEN_FILE.read_text(encoding="ascii").split("\n.SEGMENT")

    def writer(segment: str) -> int:
        comment = next(line for line in segment.splitlines() if line.startswith(".COMMENT"))
        return int(comment.split()[2])

    kept = [s for s in segments if writer(s) in writers]
    assert kept, f"no digits by writers {sorted(writers)} in {PEN_FILE}"
    path.write_text("\n.SEGMENT".join([head, *kept]), encoding="ascii")
    return path


@needs_mnist
@needs_pen
def test_train_matches_source_install(onedir_exe, tmp_path):
    """A short training run (L-BFGS-B, pen data, distortions) works frozen and writes outside the bundle."""
    before = bundle_listing(onedir_exe)
    pen = few_writers_pen_file(tmp_path / "pen.tra", writers={1, 2, 25})
    common = ["train", "--limit", "300", "--max-iter", "4", "--stages", "2", "--hidden", "20", "--pen",
              "--pen-data", str(pen), "--augment", "1", "--validation", "100", "--seed", "3"]
    frozen = run_frozen(onedir_exe, *common, "--out", "w-frozen", "--save-stages", "st", cwd=tmp_path)
    assert frozen.returncode == 0, frozen.stderr
    assert (tmp_path / "w-frozen" / "Theta1.txt").is_file()
    assert (tmp_path / "st" / "network-stage2" / "Theta1.txt").read_bytes() == \
        (tmp_path / "w-frozen" / "Theta1.txt").read_bytes()
    source = run_cli(*common, "--out", str(tmp_path / "w-source"),
                     env={"DIGITPAD_HOME": str(tmp_path / "src-home")})
    assert source.returncode == 0, source.stderr

    def accuracies(out: str) -> list[str]:
        return [line for line in out.splitlines() if "accuracy" in line]

    assert accuracies(frozen.stdout) and accuracies(frozen.stdout) == accuracies(source.stdout)
    ev = run_frozen(onedir_exe, "evaluate", "--json", "--weights", "w-frozen", cwd=tmp_path)
    assert ev.returncode == 0, ev.stderr
    assert json.loads(ev.stdout)["layer_sizes"] == [784, 20, 10]
    assert bundle_listing(onedir_exe) == before, "nothing may be written into the bundle"


@needs_mnist
def test_report_matches_source_install(onedir_exe, shipped_report, tmp_path):
    """`digitpad report` works frozen: the same files, numbers and pictures (fonts too) as from source."""
    from PIL import Image

    before = bundle_listing(onedir_exe)
    frozen = run_frozen(onedir_exe, "report", "--out", "rep-frozen", cwd=tmp_path,
                        env=clean_env(tmp_path / "home", XDG_CACHE_HOME=str(tmp_path / "cache-frozen")))
    assert frozen.returncode == 0, frozen.stderr
    source_out, want = shipped_report  # the source install's report on the shipped weights
    got = json.loads((tmp_path / "rep-frozen" / "report.json").read_text())
    assert got["files"] == want["files"]
    for key in ("accuracy", "per_class", "confusion", "robustness"):
        assert got[key] == want[key], key
    for name in got["files"]:
        if name.endswith(".png"):
            with Image.open(tmp_path / "rep-frozen" / name) as a, \
                    Image.open(source_out / name) as b:
                assert a.size == b.size and np.array_equal(np.asarray(a), np.asarray(b)), name
    assert bundle_listing(onedir_exe) == before, "nothing may be written into the bundle"


def _mirror_server(tmp_path: Path, tls: bool):
    """A loopback HTTP(S) server holding MNIST's .gz files and the pen digits' .Z side by side, as
    one mirror; for TLS, with a self-signed certificate for "localhost" made by openssl (returned
    as the file to trust)."""
    import functools
    import http.server
    import ssl

    served = tmp_path / "mirror"
    served.mkdir()
    for f in [*MNIST.glob("*.gz"), PEN_FILE.parent / "pendigits-orig.tra.Z"]:
        (served / f.name).symlink_to(f)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    cert = None
    if tls:
        if shutil.which("openssl") is None:
            server.server_close()
            pytest.skip("needs the openssl command to make a certificate")
        cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                        "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=120)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    return server, cert


@needs_mnist
@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_download_from_a_local_mirror(onedir_exe, tmp_path, tls):
    """`digitpad download` (urllib, gzip, SHA-256 checks) works frozen, from a server on loopback;
    over https too (OpenSSL, and the IDNA codec with the Unicode database it needs for the host
    name), trusting the server's certificate through SSL_CERT_FILE."""
    import threading

    if not (MNIST / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip("needs the gzipped MNIST files to serve")
    server, cert = _mirror_server(tmp_path, tls)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    env = clean_env(tmp_path / "home", **({"SSL_CERT_FILE": str(cert)} if tls else {}))
    try:
        mirror = f"https://localhost:{server.server_address[1]}/" if tls else \
            f"http://127.0.0.1:{server.server_address[1]}/"
        r = run_frozen(onedir_exe, "download", "--dest", "got", "--mirror", mirror, cwd=tmp_path, env=env)
    finally:
        server.shutdown()
        server.server_close()
    assert r.returncode == 0, r.stderr
    assert "MNIST ready" in r.stdout and "Pen digits ready" in r.stdout
    for name in ("t10k-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        assert (tmp_path / "got" / name).read_bytes() == (MNIST / name).read_bytes()
    assert (tmp_path / "pendigits-train" / "pendigits-orig.tra").read_bytes() == PEN_FILE.read_bytes()


def test_clean_environment_and_other_cwd(exe, inputs, tmp_path):
    """No PYTHONPATH/PYTHONHOME, another working folder; and a stray PYTHONPATH cannot hijack it."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = clean_env(tmp_path / "home")
    assert "PYTHONPATH" not in env and "PYTHONHOME" not in env
    r = run_frozen(exe, "--version", cwd=elsewhere, env=env)
    assert r.returncode == 0 and r.stdout.strip() == f"digitpad {project_version()}", r.stderr
    r = run_frozen(exe, "predict", str(inputs[0]), str(inputs[-1]), cwd=elsewhere, env=env)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == 2

    # a fake `app` package on PYTHONPATH and a bogus PYTHONHOME change nothing
    fake = tmp_path / "fake" / "app"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise SystemExit('the source tree was imported')\n")
    r2 = run_frozen(exe, "predict", str(inputs[0]), str(inputs[-1]), cwd=elsewhere,
                    env={**env, "PYTHONPATH": str(fake.parent), "PYTHONHOME": str(tmp_path / "nowhere")})
    assert r2.returncode == 0, r2.stderr
    assert r2.stdout == r.stdout
    assert not any(elsewhere.iterdir()), "the frozen command wrote into its working folder"


def _legacy_locale(folder: Path) -> dict[str, str]:
    """Environment variables selecting a Japanese EUC-JP locale compiled into `folder` with
    localedef (glibc reads it through LOCPATH); the test is skipped where that cannot be made."""
    if not sys.platform.startswith("linux") or shutil.which("localedef") is None:
        pytest.skip("needs glibc's localedef")
    made = subprocess.run(["localedef", "-i", "ja_JP", "-f", "EUC-JP", str(folder / "ja_JP.EUC-JP")],
                          capture_output=True, text=True, timeout=120)
    if not (folder / "ja_JP.EUC-JP").is_dir():
        pytest.skip(f"localedef could not make ja_JP.EUC-JP: {made.stderr.strip()[:200]}")
    return {"LOCPATH": str(folder), "LC_ALL": "ja_JP.EUC-JP", "LANG": "ja_JP.EUC-JP"}


def test_starts_under_a_legacy_cjk_locale(exe, inputs, tmp_path):
    """The bundle has no East Asian codecs (build.spec) and runs Python in UTF-8 mode, so an
    EUC-JP locale neither stops start-up (without UTF-8 mode Python looks for the locale's codec
    and exits with "unknown encoding: EUC-JP") nor changes an answer; a file name in EUC-JP
    bytes is opened as given."""
    locales = tmp_path / "locales"
    locales.mkdir()
    env = clean_env(tmp_path / "home", **_legacy_locale(locales))
    r = run_frozen(exe, "--version", cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"digitpad {project_version()}"

    odd = os.fsencode(tmp_path) + b"/" + "数字-七.png".encode("euc_jp")  # not valid UTF-8
    with open(odd, "wb") as f:
        f.write(inputs[0].read_bytes())
    got = subprocess.run([os.fsencode(exe), b"predict", b"--json", odd], cwd=tmp_path, env=env,
                         capture_output=True, timeout=RUN_TIMEOUT)
    want = run_frozen(exe, "predict", "--json", str(inputs[0]), cwd=tmp_path)
    assert got.returncode == 0 and want.returncode == 0, got.stderr.decode(errors="replace")
    (g,), (w,) = _predictions(got.stdout.decode("utf-8", "surrogateescape")).values(), \
        _predictions(want.stdout).values()
    assert g == w


# --------------------------------------------------------------------------- the app


def _x_tools_missing() -> list[str]:
    return [t for t in ("Xvfb", "xdotool", "xclip") if shutil.which(t) is None]


@pytest.fixture(scope="module")
def xvfb():
    from gui_driver import Xvfb

    if _x_tools_missing():
        pytest.skip(f"needs X tools: {', '.join(_x_tools_missing())}")
    server = Xvfb(1280, 1024)
    yield server
    server.stop()


def start_frozen_app(exe: Path, xvfb, home: Path):
    """A gui_driver.App whose process is the frozen executable (no arguments), in a clean env."""
    from gui_driver import App

    home.mkdir(parents=True, exist_ok=True)
    app = App.__new__(App)
    app.xvfb = xvfb
    app.home = home
    app.state_file = home / "gui-state.json"
    app.env = {k: v for k, v in xvfb.env(DIGITPAD_HOME=str(home), DIGITPAD_DEBUG_STATE=str(app.state_file),
                                         DIGITPAD_DATA=str(MNIST)).items()
               if k not in ("PYTHONPATH", "PYTHONHOME")}
    app.log = open(home / "app-stderr.log", "ab")  # noqa: SIM115 (closed by App.close)
    app.started = time.monotonic()
    app.proc = subprocess.Popen([str(exe)], env=app.env, cwd=home, stdout=subprocess.DEVNULL, stderr=app.log)
    app.wid = None
    return app


DRAW_STEP = 3
"""Every third point of a pen stroke is dragged, with a pause after each move, so that a busy
machine does not make Tk collapse the motion events into a different stroke."""


def _steady_sample(recogniser, pen_samples):
    """A pen digit read right and confidently from every 3rd and every 6th point alike."""
    from gui_driver import as_drawn

    for s in pen_samples[:400]:
        readings = [recogniser.read_strokes(as_drawn(s.strokes, step)) for step in (DRAW_STEP, 2 * DRAW_STEP)]
        if all(r.text == str(s.label) and r.confidence >= 0.95 for r in readings):
            return s, readings[0].text
    pytest.fail("the shipped model should read some pen digit confidently")


@needs_pen
def test_frozen_app_recognises_a_drawn_digit(exe, xvfb, tmp_path, pen_samples):
    """The window opens, a pen digit dragged with xdotool is read as from source, Ctrl+Q exits 0."""
    from model.net.weights import load_weights
    from model.recognise import Recogniser

    app = start_frozen_app(exe, xvfb, tmp_path / "home")
    try:
        st = app.wait_ready(timeout=180)  # raises with the app's stderr if it exits instead
        found = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--name", "^Digitpad$"],
                               env=xvfb.env(), capture_output=True, text=True, timeout=120)
        assert found.returncode == 0 and app.wid in found.stdout.split(), found
        # The app uses the weights inside the bundle (in the one-file build, unpacked while it
        # runs); the source code with those same weights says what the drawing should read as.
        bundled = Path(st["weights"])
        assert bundled.resolve() != WEIGHTS.resolve(), "the app must use the bundled weights"
        sample, expected = _steady_sample(Recogniser(load_weights(bundled)), pen_samples)
        app.draw([np.asarray(s).tolist() for s in sample.strokes], step=DRAW_STEP, pause=0.02)
        n = len(sample.strokes)
        app.wait_state(lambda s: s["strokes"] == n and not s["drawing"], timeout=120, what=f"{n} strokes")
        app.wait_state(lambda s: s["text"] == expected, timeout=120, what=f"the reading {expected!r}")
        assert app.copy_result(expected, timeout=30) == expected
    finally:
        status = app.close(timeout=60)
    assert status == 0, app.stderr()
    assert "Traceback" not in app.stderr()


@needs_mnist
def test_frozen_inside_window(onedir_exe, xvfb, tmp_path):
    """Model → Inside the network… opens in the bundle and computes its confusion matrix in the background."""
    app = start_frozen_app(onedir_exe, xvfb, tmp_path / "home")
    try:
        app.wait_ready(timeout=180)
        app.key("ctrl+shift+i")
        wid = app.find_window("^Inside the network", timeout=120)
        app.wait_state(lambda s: s.get("inside", {}).get("tab") == "units", timeout=120, what="the window")
        app.key("alt+c", wid=wid)
        st = app.wait_state(lambda s: s["inside"]["confusion"]["status"] == "done", timeout=300,
                            what="the confusion matrix")
        assert st["inside"]["confusion"]["matrix_sum"] == 10000
        app.key("Escape", wid=wid)
    finally:
        status = app.close(timeout=60)
    assert status == 0, app.stderr()
    assert "Traceback" not in app.stderr()


@needs_pen
def test_adapt_with_the_shipped_replay_set_and_no_data_folder(onedir_exe, tmp_path):
    """`digitpad adapt` in the bundle: the replay set ships inside it, no data set is needed."""
    from model.datasets import pendigits
    from model.datasets.replay import load_replay, replay_path
    from model.inputs.ink import Ink
    from model.personal.samples import SampleStore

    store = SampleStore(tmp_path / "taught")
    seen: dict[int, int] = {}
    for s in pendigits.load(PEN_FILE):
        if s.writer == 26 and seen.get(s.label, 0) < 2:
            seen[s.label] = seen.get(s.label, 0) + 1
            store.add(Ink(s.strokes, *pendigits.CANVAS, 12), str(s.label))
    home = tmp_path / "home"
    env = clean_env(home, DIGITPAD_DATA=str(tmp_path / "no-data"))
    before = bundle_listing(onedir_exe)
    r = run_frozen(onedir_exe, "adapt", str(tmp_path / "taught"), cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    assert "MNIST test: not measured" in r.stdout and "Traceback" not in r.stderr
    meta = json.loads((home / "weights" / "model.json").read_text())
    assert meta["adapt"]["n_samples"] == 20
    assert meta["replay"]["sha256"] == load_replay(replay_path(ROOT)).sha256
    assert bundle_listing(onedir_exe) == before


@needs_mnist
@needs_pen
def test_train_recipe_standard_in_the_bundle(onedir_exe, tmp_path):
    """`train --recipe standard --limit N` works frozen: the recipe's settings (from app.recipes, the
    Retrain dialog's) with the options given over them, recorded in model.json, read as from source."""
    from app import recipes

    pen = few_writers_pen_file(tmp_path / "pen.tra", writers={1, 2, 25})
    common = ["train", "--recipe", "standard", "--limit", "300", "--max-iter", "6", "--stages", "2",
              "--hidden", "20", "--pen-data", str(pen)]
    frozen = run_frozen(onedir_exe, *common, "--out", "w-frozen", cwd=tmp_path)
    assert frozen.returncode == 0, frozen.stderr
    settings = json.loads((tmp_path / "w-frozen" / "model.json").read_text())["settings"]
    standard = recipes.recipe("standard").config
    assert settings["recipe"] == "standard" and settings["hidden"] == [20] and settings["limit"] == 300
    assert (settings["grow"], settings["deskew"], settings["lam"]) == (standard.grow, True, standard.lam)
    source = run_cli(*common, "--out", str(tmp_path / "w-source"), env={"DIGITPAD_HOME": str(tmp_path / "h")})
    assert source.returncode == 0, source.stderr
    lines = [line for line in frozen.stdout.splitlines() if "accuracy" in line]
    assert lines and lines == [line for line in source.stdout.splitlines() if "accuracy" in line]
