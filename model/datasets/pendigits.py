"""The UCI pen-based digits (UNIPEN text): real strokes by 30 writers.

Parsed into `PenSample`s with y flipped to screen orientation (y down) and
scaled into the app's default canvas, so they can be replayed through the
very ink pipeline the pad uses (`model.inputs.ink.normalise`), for validation (by
writer) and as extra training data. `download` fetches the file as UCI serves
it (LZW-compressed, decoded by `model.datasets.lzw`) into the user cache, beside MNIST.
"""

from __future__ import annotations

import http.client
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.errors import DataError
from model.inputs import ink

FILE_NAME = "pendigits-orig.tra"
TABLET = 500.0
ENV_VAR = "DIGITPAD_PEN_DATA"
DEFAULT_HOLDOUT = (25, 26, 27, 28, 29, 30)
"""Writers kept out of the shipped model's training: its pen accuracy is on them."""

CANVAS = (560, 320)
"""The app's default pad size (width, height) in pixels."""
DIGIT_HEIGHT = 200.0
"""Height, in canvas pixels, that a 500-unit tablet box is scaled to on replay."""


@dataclass
class PenSample:
    """One pen-written digit: its label, writer id and strokes in canvas pixels (y down)."""

    label: int
    writer: int
    strokes: list[np.ndarray]


def find_pen_file(pen_dir: str | None = None, mnist_dir: str | None = None) -> Path:
    """`pen_dir`, else $DIGITPAD_PEN_DATA, else ``pendigits-train`` beside the MNIST folder."""
    from model.datasets.mnist import find_data_dir

    if pen_dir:
        folder = Path(pen_dir)
    elif os.environ.get(ENV_VAR):
        folder = Path(os.environ[ENV_VAR])
    else:
        folder = find_data_dir(mnist_dir).resolve().parent / "pendigits-train"
    path = folder / FILE_NAME if folder.is_dir() or not folder.suffix else folder
    if not path.is_file():
        raise DataError(f"{path}: pendigits file not found (give --pen-data DIR or set {ENV_VAR})")
    return path


DOWNLOAD_NAME = FILE_NAME + ".Z"
"""The name UCI serves the trajectories under: Unix-compressed (LZW)."""
SHA256 = "a66225d68d7d68591e62944df1ad33b3f5aa608e2df2505844b41f5568a80da4"
"""SHA-256 of the decompressed ``pendigits-orig.tra`` (the compressed bytes may differ by mirror)."""
MIRRORS = ("https://archive.ics.uci.edu/ml/machine-learning-databases/pendigits/",)
MAX_DOWNLOAD = 64 << 20
"""Refuse a .Z larger than this (the real one is about 1 MiB)."""


def default_pen_dir(mnist_dir: str | os.PathLike | None = None) -> Path:
    """Where `download` puts the pen digits: ``pendigits-train`` beside the MNIST download folder.

    That is where `find_pen_file` looks when neither ``--pen-data`` nor $DIGITPAD_PEN_DATA is
    given and MNIST is in the same place (by default both are in the user cache).
    """
    from model.datasets.mnist import default_mnist_dir

    return Path(mnist_dir or default_mnist_dir()).resolve().parent / "pendigits-train"


def download(
    dest: str | os.PathLike | None = None,
    mirrors: tuple[str, ...] = MIRRORS,
    progress: Callable[[str, int, int], None] | None = None,
    timeout: float = 60.0,
) -> Path:
    """Fetch ``pendigits-orig.tra.Z`` from the first mirror that serves it, decompress, verify.

    `dest` is the folder to write ``pendigits-orig.tra`` into (default: `default_pen_dir()`).
    The decompressed file must have the pinned SHA-256; it is written atomically, and an
    existing correct file is kept. `progress(name, bytes_done, bytes_total)` follows the
    compressed download. Returns the path of the decompressed file.
    """
    from model.datasets.mnist import sha256_of
    from model.fileio import atomic_write_bytes

    folder = Path(dest) if dest else default_pen_dir()
    target = folder / FILE_NAME
    if target.is_file() and sha256_of(target) == SHA256:
        if progress:
            size = target.stat().st_size
            progress(DOWNLOAD_NAME, size, size)
        return target
    errors = []
    for base in mirrors:
        url = base.rstrip("/") + "/" + DOWNLOAD_NAME
        try:
            text = _fetch_z(url, progress, timeout)
        except (OSError, ValueError, http.client.HTTPException, DataError) as exc:
            errors.append(f"{url}: {exc}")
            continue
        try:
            atomic_write_bytes(target, text)
        except OSError as exc:
            raise DataError(f"{target}: cannot be written ({exc.strerror or exc})") from None
        return target
    raise DataError(f"{target}: download failed from every mirror ({'; '.join(errors)})")


def _fetch_z(url: str, progress, timeout: float) -> bytes:
    """The decompressed bytes of the .Z at `url`, checked against `SHA256`."""
    import hashlib
    import urllib.request

    from model.datasets import lzw
    from model.datasets.mnist import _ssl_context

    context = _ssl_context() if url.startswith("https:") else None
    chunks, done = [], 0
    with urllib.request.urlopen(url, timeout=timeout, context=context) as resp:
        total = int(resp.headers.get("Content-Length") or 0)
        while chunk := resp.read(1 << 16):
            chunks.append(chunk)
            done += len(chunk)
            if done > MAX_DOWNLOAD:
                raise DataError(f"more than {MAX_DOWNLOAD >> 20} MiB: not the pen-digits file")
            if progress:
                progress(DOWNLOAD_NAME, done, total)
    try:
        text = lzw.decompress(b"".join(chunks))
    except lzw.LZWError as exc:
        raise DataError(str(exc)) from None
    digest = hashlib.sha256(text).hexdigest()
    if digest != SHA256:
        raise DataError(f"checksum mismatch after decompressing (got {digest[:12]}...)")
    return text


def load(path: str | os.PathLike, scale: float = DIGIT_HEIGHT / TABLET) -> list[PenSample]:
    """Parse a UNIPEN pendigits file into samples, y flipped and scaled into the canvas."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="ascii", errors="replace").splitlines()
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc})") from None
    samples: list[PenSample] = []
    label = writer = None
    strokes: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] | None = None
    off_x = (CANVAS[0] - TABLET * scale) / 2.0
    off_y = (CANVAS[1] - TABLET * scale) / 2.0

    def finish() -> None:
        if label is not None and strokes:
            arrs = [np.column_stack((np.array([p[0] for p in s]) * scale + off_x,
                                     (TABLET - np.array([p[1] for p in s])) * scale + off_y))
                    for s in strokes if s]
            samples.append(PenSample(label=label, writer=writer, strokes=arrs))

    for n, line in enumerate(lines, start=1):
        t = line.strip()
        if not t:
            continue
        if t.startswith(".SEGMENT"):
            finish()
            label, writer, strokes, current = None, None, [], None
            try:
                label = int(t.split('"')[1])
            except (IndexError, ValueError):
                raise DataError(f"{path}:{n}: malformed .SEGMENT line") from None
        elif t.startswith(".COMMENT"):
            parts = t.split()
            if len(parts) >= 3 and parts[2].isdigit():
                writer = int(parts[2])
        elif t.startswith(".PEN_DOWN"):
            current = []
            strokes.append(current)
        elif t.startswith(".PEN_UP"):
            current = None
        elif t.startswith("."):
            continue
        elif current is not None:
            xy = t.split()
            try:
                current.append((float(xy[0]), float(xy[1])))
            except (IndexError, ValueError):
                raise DataError(f"{path}:{n}: expected 'x y', got {t!r}") from None
    finish()
    if not samples:
        raise DataError(f"{path}: no digits found (not a UNIPEN pendigits file?)")
    return samples


def parse_holdout(text: str | None) -> list[int]:
    """Writer ids to hold out: "default", "none", or a comma list like "25,26"."""
    if text in (None, "", "default"):
        return list(DEFAULT_HOLDOUT)
    if text == "none":
        return []
    try:
        return sorted({int(v) for v in text.split(",") if v.strip()})
    except ValueError:
        raise ValueError(f"--pen-holdout expects writer ids like 25,26 or 'none'; got {text!r}") from None


def render_samples(samples: list[PenSample], thickness: float = ink.DEFAULT_THICKNESS):
    """(X, y): every sample through the app's ink pipeline, as (n, 784) rows."""
    X = np.stack([ink.normalise(s.strokes, thickness).ravel() for s in samples]).astype(np.float32)
    y = np.array([s.label for s in samples], dtype=np.uint8)
    return X, y


TRAIN_THICKNESSES = (2.3, 1.7, 2.9)


def jitter_strokes(strokes: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """A small random rotation, shear and aspect change of the vector strokes."""
    angle = rng.uniform(-0.15, 0.15)
    shear = rng.uniform(-0.2, 0.2)
    sx, sy = np.exp(rng.uniform(-0.15, 0.15, size=2))
    c, s = np.cos(angle), np.sin(angle)
    m = np.array([[c, -s], [s, c]]) @ np.array([[1.0, shear], [0.0, 1.0]]) @ np.diag([sx, sy])
    return [st @ m.T for st in strokes]


def render_training_set(samples: list[PenSample], seed: int = 0,
                        thicknesses: tuple[float, ...] = TRAIN_THICKNESSES, copies: int | None = None):
    """Each sample `copies` times (default: once per thickness), all but the first jittered.

    Copy k is drawn at ``thicknesses[k % len(thicknesses)]``. The renderings go
    through `model.inputs.ink.normalise`, the function the pad uses.
    """
    rng = np.random.default_rng([seed, 7])
    n_copies = len(thicknesses) if copies is None else int(copies)
    if n_copies < 1:
        raise ValueError(f"pen copies must be at least 1, got {n_copies}")
    rows, labels = [], []
    for s in samples:
        for k in range(n_copies):
            t = thicknesses[k % len(thicknesses)]
            strokes = s.strokes if k == 0 else jitter_strokes(s.strokes, rng)
            rows.append(ink.normalise(strokes, t).ravel())
            labels.append(s.label)
    return np.stack(rows).astype(np.float32), np.array(labels, dtype=np.uint8)
