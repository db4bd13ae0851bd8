"""`digitpad download` fetches the UCI pen digits as UCI serves them (.Z), over loopback HTTP."""

import http.server
import threading
from functools import partial

import pytest
from conftest import MNIST, PEN_FILE, run_cli

from model.datasets import mnist, pendigits
from model.errors import DataError

Z_FILE = PEN_FILE.parent / "pendigits-orig.tra.Z"


@pytest.fixture
def mirror(tmp_path):
    """A loopback server: /good/ serves the real .Z, /bad/ a corrupt one, /mnist/ the MNIST files."""
    root = tmp_path / "www"
    (root / "good").mkdir(parents=True)
    (root / "good" / Z_FILE.name).symlink_to(Z_FILE)
    (root / "bad").mkdir()
    raw = Z_FILE.read_bytes()
    (root / "bad" / Z_FILE.name).write_bytes(raw[: len(raw) // 2])  # a valid stream, cut short
    (root / "mnist").mkdir()
    for name in mnist.KNOWN_SHA256:
        (root / "mnist" / name).symlink_to(MNIST / name)
    (root / "both").mkdir()
    for f in [*(root / "mnist").iterdir(), root / "good" / Z_FILE.name]:
        (root / "both" / f.name).symlink_to(f.resolve())

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_download_decompresses_checks_and_falls_back(tmp_path, mirror):
    seen = []
    path = pendigits.download(tmp_path / "pen", mirrors=(f"{mirror}/bad/", f"{mirror}/missing/",
                                                          f"{mirror}/good/"),
                              progress=lambda name, done, total: seen.append((name, done, total)))
    assert path == tmp_path / "pen" / "pendigits-orig.tra"
    assert path.read_bytes() == PEN_FILE.read_bytes()
    assert seen[-1] == ("pendigits-orig.tra.Z", Z_FILE.stat().st_size, Z_FILE.stat().st_size)
    assert [p.name for p in path.parent.iterdir()] == ["pendigits-orig.tra"]  # no temporary files left
    assert len(pendigits.load(path)) == 7494


def test_a_correct_file_is_kept_and_a_wrong_one_replaced(tmp_path, mirror):
    folder = tmp_path / "pen"
    folder.mkdir()
    target = folder / "pendigits-orig.tra"
    target.write_bytes(PEN_FILE.read_bytes()[:-10])  # damaged: fetched again
    pendigits.download(folder, mirrors=(f"{mirror}/good/",))
    assert mnist.sha256_of(target) == pendigits.SHA256
    before = target.stat().st_mtime_ns
    pendigits.download(folder, mirrors=(f"{mirror}/bad/",))  # correct already: no fetch at all
    assert target.stat().st_mtime_ns == before


def test_only_bad_mirrors_name_the_file_and_write_nothing(tmp_path, mirror):
    with pytest.raises(DataError) as err:
        pendigits.download(tmp_path / "pen", mirrors=(f"{mirror}/bad/", f"{mirror}/mnist/", "nonsense"))
    msg = str(err.value)
    assert "pendigits-orig.tra: download failed from every mirror" in msg and "\n" not in msg
    assert "checksum mismatch" in msg and "404" in msg
    assert not (tmp_path / "pen" / "pendigits-orig.tra").exists()


def test_default_place_is_where_full_retrain_looks(tmp_path, mirror, monkeypatch):
    """No --pen-data, no environment: the downloaded file is the one `find_pen_file` finds."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("DIGITPAD_DATA", raising=False)
    monkeypatch.delenv("DIGITPAD_PEN_DATA", raising=False)
    path = pendigits.download(mirrors=(f"{mirror}/good/",))
    assert path == tmp_path / "cache" / "digitpad" / "pendigits-train" / "pendigits-orig.tra"
    assert pendigits.find_pen_file() == path


def test_cli_downloads_both_beside_each_other(tmp_path, mirror):
    dest = tmp_path / "dl" / "mnist"
    r = run_cli("download", "--dest", str(dest), "--mirror", f"{mirror}/both/")
    assert r.returncode == 0, r.stderr
    assert "MNIST ready" in r.stdout and "Pen digits ready" in r.stdout
    pen = tmp_path / "dl" / "pendigits-train" / "pendigits-orig.tra"
    assert mnist.sha256_of(pen) == pendigits.SHA256
    assert pendigits.find_pen_file(None, str(dest)) == pen


def test_cli_pen_failure_is_one_line_and_keeps_mnist(tmp_path, mirror):
    dest = tmp_path / "dl" / "mnist"
    r = run_cli("download", "--dest", str(dest), "--mirror", f"{mirror}/mnist/", "--mirror", f"{mirror}/bad/")
    assert r.returncode == 2
    assert "MNIST ready" in r.stdout and "Traceback" not in r.stderr
    errors = [line for line in r.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and "pendigits-orig.tra: download failed" in errors[0]
    assert (dest / "t10k-images-idx3-ubyte.gz").is_file()
    assert not (tmp_path / "dl" / "pendigits-train" / "pendigits-orig.tra").exists()
