"""MNIST loading from the real idx files, corrupt copies, and download over loopback HTTP."""

import gzip
import http.server
import shutil
import threading
from functools import partial

import numpy as np
import pytest
from conftest import MNIST, PEN_FILE, run_cli

from model.datasets import mnist
from model.errors import DataError


def test_real_files_counts_dtypes_and_label_histogram(mnist_train, mnist_test):
    assert mnist_train.X.shape == (60000, 784) and mnist_test.X.shape == (10000, 784)
    assert mnist_train.X.dtype == np.float32 and mnist_train.y.dtype == np.uint8
    assert 0.0 == mnist_train.X.min() and mnist_train.X.max() == 1.0
    assert np.bincount(mnist_train.y).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(mnist_test.y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert set(mnist_test.sha256) == {"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}


def _copy_test_split(tmp_path, gunzip=False):
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        if gunzip:
            (tmp_path / name[:-3]).write_bytes(gzip.decompress((MNIST / name).read_bytes()))
        else:
            shutil.copy(MNIST / name, tmp_path / name)
    return tmp_path


def test_plain_uncompressed_idx_files_load(tmp_path, mnist_test):
    split = mnist.load_mnist("test", _copy_test_split(tmp_path, gunzip=True))
    np.testing.assert_array_equal(split.y, mnist_test.y)
    np.testing.assert_array_equal(split.X, mnist_test.X)


def _write_plain(path, raw):
    path.write_bytes(raw)


@pytest.mark.parametrize(
    "case, message",
    [
        ("truncated", "truncated"),
        ("wrong_magic", "wrong magic number"),
        ("wrong_count", "holds 9999 items, expected 10000"),
        ("truncated_gzip", "cannot be read"),
        ("checksum", "does not match"),
        ("missing", "MNIST file missing"),
    ],
)
def test_corrupt_copies_give_clear_errors(tmp_path, case, message):
    folder = _copy_test_split(tmp_path, gunzip=True)
    images = folder / "t10k-images-idx3-ubyte"
    raw = bytearray(images.read_bytes())
    if case == "truncated":
        images.write_bytes(raw[:-100])
    elif case == "wrong_magic":
        raw[3] = 0x01
        images.write_bytes(raw)
    elif case == "wrong_count":
        raw[4:8] = (9999).to_bytes(4, "big")
        images.write_bytes(raw)
    elif case == "truncated_gzip":
        images.unlink()
        gz = gzip.compress(bytes(raw))
        (folder / "t10k-images-idx3-ubyte.gz").write_bytes(gz[: len(gz) // 2])
    elif case == "checksum":
        images.unlink()
        (folder / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(bytes(raw)))
        shutil.copy(MNIST / "SHA256SUMS", folder / "SHA256SUMS")
    elif case == "missing":
        images.unlink()
    with pytest.raises(DataError) as err:
        mnist.load_mnist("test", folder)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert str(folder) in str(err.value)


def test_data_dir_order(monkeypatch, tmp_path):
    monkeypatch.setenv("DIGITPAD_DATA", str(tmp_path / "env"))
    assert mnist.find_data_dir("explicit").name == "explicit"
    assert mnist.find_data_dir(None) == tmp_path / "env"
    monkeypatch.delenv("DIGITPAD_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert mnist.find_data_dir(None) == tmp_path / "cache" / "digitpad" / "mnist"


@pytest.fixture
def mnist_server(tmp_path):
    """A loopback HTTP server serving the real MNIST folder (plus one corrupt mirror)."""
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in mnist.KNOWN_SHA256:
        (bad / name).write_bytes(b"not the real file")
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(MNIST.parent))

    class Quiet(handler.func):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(tmp_path)))
    shutil.copytree(MNIST, tmp_path / "mnist")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_download_verifies_checksums_and_falls_back_to_next_mirror(tmp_path, mnist_server):
    dest = tmp_path / "dl"
    seen = []
    mnist.download(dest, mirrors=(f"{mnist_server}/bad/", f"{mnist_server}/mnist/"),
                  progress=lambda name, done, total: seen.append(name))
    for name, digest in mnist.KNOWN_SHA256.items():
        assert mnist.sha256_of(dest / name) == digest
    assert set(seen) == set(mnist.KNOWN_SHA256)
    assert mnist.load_mnist("test", dest).X.shape == (10000, 784)
    assert not list(dest.glob("*.part"))


def test_download_cli_with_only_a_bad_mirror_fails_cleanly(tmp_path, mnist_server):
    r = run_cli("download", "--dest", str(tmp_path / "dl"), "--mirror", f"{mnist_server}/bad/")
    assert r.returncode == 2
    assert "download failed" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "dl" / "train-images-idx3-ubyte.gz").exists()


def test_download_cli_from_file_url(tmp_path):
    r = run_cli("download", "--dest", str(tmp_path / "dl"), "--mirror", MNIST.as_uri() + "/",
                "--mirror", PEN_FILE.parent.as_uri() + "/")
    assert r.returncode == 0, r.stderr
    assert "MNIST ready" in r.stdout and "Pen digits ready" in r.stdout and "100.0%" in r.stderr
