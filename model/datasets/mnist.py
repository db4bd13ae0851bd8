"""MNIST from the four original idx files (gzipped or not), found and checked.

Where the files are: an explicit folder (``--data DIR``), else the
environment variable ``DIGITPAD_DATA``, else the user's cache folder
(``digitpad download`` fills it). Every file is checked: magic number,
counts, image size, byte length and, when a ``SHA256SUMS`` file sits beside
them (or the file is one of the published originals), its SHA-256.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import sys
import tempfile
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.errors import DataError
from model.fileio import match_umask

ENV_VAR = "DIGITPAD_DATA"

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 60000),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 10000),
}

KNOWN_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

IMAGE_MAGIC = 0x00000803
LABEL_MAGIC = 0x00000801


def user_cache_dir() -> Path:
    """The per-user cache folder for Digitpad (MNIST downloads live here)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "digitpad"


def default_mnist_dir() -> Path:
    """Where `digitpad download` puts MNIST."""
    return user_cache_dir() / "mnist"


def find_data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The MNIST folder: `explicit`, else $DIGITPAD_DATA, else the user cache."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    return default_mnist_dir()


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _read_sums(folder: Path) -> dict[str, str]:
    sums = dict(KNOWN_SHA256)
    sums_file = folder / "SHA256SUMS"
    if sums_file.is_file():
        for line in sums_file.read_text(errors="replace").splitlines():
            parts = line.split()
            if len(parts) == 2:
                sums[parts[1].lstrip("*")] = parts[0].lower()
    return sums


def _locate(folder: Path, stem: str) -> Path:
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    if not folder.is_dir():
        raise DataError(
            f"{folder}: MNIST folder not found (give --data DIR, set {ENV_VAR}, "
            f"or run 'digitpad download')"
        )
    raise DataError(f"{folder / (stem + '.gz')}: MNIST file missing (neither .gz nor plain)")


def _read_bytes(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            head = f.read(2)
        if head == b"\x1f\x8b":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: cannot be read as idx or gzipped idx ({exc})") from None


def read_idx(path: Path, magic: int, count: int | None = None) -> np.ndarray:
    """Read one idx file, checking magic number, dimensions and length."""
    data = _read_bytes(path)
    ndim = 3 if magic == IMAGE_MAGIC else 1
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path}: truncated: {len(data)} bytes, shorter than the idx header")
    (got_magic,) = struct.unpack(">I", data[:4])
    if got_magic != magic:
        raise DataError(f"{path}: wrong magic number 0x{got_magic:08x}, expected 0x{magic:08x}")
    dims = struct.unpack(">" + "I" * ndim, data[4:header])
    if count is not None and dims[0] != count:
        raise DataError(f"{path}: holds {dims[0]} items, expected {count}")
    if ndim == 3 and dims[1:] != (28, 28):
        raise DataError(f"{path}: images are {dims[1]}x{dims[2]}, expected 28x28")
    expected = header + int(np.prod(dims))
    if len(data) != expected:
        raise DataError(f"{path}: truncated or padded: {len(data)} bytes, expected {expected}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def check_sum(path: Path) -> str:
    """SHA-256 of `path`, compared with SHA256SUMS or the published sums when known."""
    digest = sha256_of(path)
    expected = _read_sums(path.parent).get(path.name)
    if expected is not None and expected != digest:
        raise DataError(f"{path}: SHA-256 {digest[:12]}... does not match the expected {expected[:12]}...")
    return digest


@dataclass
class Split:
    """One MNIST split: images as float32 rows in 0..1, labels as uint8."""

    X: np.ndarray
    y: np.ndarray
    sha256: dict[str, str]


def load_mnist(split: str, folder: str | os.PathLike | None = None) -> Split:
    """Load the 'train' or 'test' split, flattened to (n, 784) float32 in 0..1."""
    if split not in FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    root = find_data_dir(folder)
    img_stem, lbl_stem, count = FILES[split]
    img_path, lbl_path = _locate(root, img_stem), _locate(root, lbl_stem)
    images = read_idx(img_path, IMAGE_MAGIC, count)
    labels = read_idx(lbl_path, LABEL_MAGIC, count)
    sums = {img_path.name: check_sum(img_path), lbl_path.name: check_sum(lbl_path)}
    if labels.max() > 9:
        raise DataError(f"{lbl_path}: label {int(labels.max())} out of range 0..9")
    X = images.reshape(count, 784).astype(np.float32)
    X *= np.float32(1.0 / 255.0)
    return Split(X=X, y=labels.copy(), sha256=sums)


def download(
    dest: str | os.PathLike | None = None,
    mirrors: tuple[str, ...] = MIRRORS,
    progress: Callable[[str, int, int], None] | None = None,
    timeout: float = 30.0,
) -> Path:
    """Fetch the four gzipped MNIST files into `dest`, verifying SHA-256.

    Each file is written to a temporary name and renamed into place only
    when its checksum matches; files already present and correct are kept.
    `progress(name, bytes_done, bytes_total)` is called as data arrives.
    """
    folder = Path(dest) if dest else default_mnist_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for name, expected in KNOWN_SHA256.items():
        target = folder / name
        if target.is_file() and sha256_of(target) == expected:
            if progress:
                size = target.stat().st_size
                progress(name, size, size)
            continue
        errors = []
        for base in mirrors:
            url = base.rstrip("/") + "/" + name
            try:
                _fetch(url, target, expected, progress, timeout)
                break
            except (OSError, urllib.error.URLError, DataError) as exc:
                errors.append(f"{url}: {exc}")
        else:
            raise DataError(f"{target}: download failed from every mirror ({'; '.join(errors)})")
    return folder


CA_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Arch
    "/etc/pki/tls/certs/ca-bundle.crt",  # Fedora, RHEL
    "/etc/ssl/ca-bundle.pem",  # openSUSE
    "/etc/ssl/cert.pem",  # macOS, Alpine
)


def _ssl_context():
    """The default TLS context, plus the system's CA bundle inside a frozen build.

    A PyInstaller bundle carries the OpenSSL of the machine that built it, which
    looks for certificates where that machine keeps them; on another
    distribution it would trust nothing. Frozen, without SSL_CERT_FILE, load
    the first CA bundle this machine has.
    """
    import ssl

    context = ssl.create_default_context()
    if getattr(sys, "frozen", False) and not os.environ.get("SSL_CERT_FILE"):
        for bundle in CA_BUNDLES:
            if os.path.isfile(bundle):
                context.load_verify_locations(cafile=bundle)
                break
    return context


def _fetch(url, target: Path, expected: str, progress, timeout: float) -> None:
    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".part", dir=target.parent)
    try:
        match_umask(fd)
        h = hashlib.sha256()
        context = _ssl_context() if url.startswith("https:") else None
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout,
                                                                context=context) as resp:
            total = int(resp.headers.get("Content-Length") or 0)
            done = 0
            while chunk := resp.read(1 << 16):
                out.write(chunk)
                h.update(chunk)
                done += len(chunk)
                if progress:
                    progress(target.name, done, total)
        if h.hexdigest() != expected:
            raise DataError(f"checksum mismatch (got {h.hexdigest()[:12]}...)")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
