"""The replay set: a few thousand training digits shipped with the app, for adapting offline.

Adapting the network to one person's samples (`model.personal.adapt`) mixes them with
this set so that the network keeps reading everybody else's digits. It ships
as ``assets/replay.npz`` (uint8, compressed, ~1 MiB) and holds

- 3,000 MNIST training images, 300 of each digit, drawn with a fixed seed
  from the first 50,000 training images only (the last 10,000 are the
  validation images and stay out of anything the app trains on);
- 1,000 pen-written digits, 100 of each digit, drawn with a fixed seed from
  pendigits writers 1-24 (writers 25-30 are the pen validation writers),
  rendered through the app's own ink pipeline (`model.datasets.pendigits`,
  `model.inputs.ink.normalise`).

The file records where each row came from (source, index, writer) and a
JSON provenance string (source files and their SHA-256, how rows were
chosen, the command). Build it again with::

    python -m model.datasets.replay --build [--data ../shared/data/mnist] [--pen-data DIR]

Left out: the strokes of the pen digits (only their 28x28 renderings ship).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from model.errors import DataError

FILE_NAME = "replay.npz"
SEED = 11
N_MNIST_PER_DIGIT = 300
N_PEN_PER_DIGIT = 100
MNIST_POOL = 50_000
"""Only the first 50,000 MNIST training images are drawn from (the rest are validation)."""
PEN_WRITERS = tuple(range(1, 25))
SOURCES = ("mnist", "pen")


@dataclass
class Replay:
    """The replay rows as float32 in 0..1, their labels, sources and provenance."""

    X: np.ndarray
    y: np.ndarray
    source: np.ndarray  # 0 = MNIST, 1 = pen
    provenance: dict = field(default_factory=dict)
    sha256: str = ""
    path: Path | None = None
    index: np.ndarray | None = None
    """Where these rows are in `whole` (None: this is the whole set, in order)."""
    parent: Replay | None = None
    """The whole set these rows were taken from (None: this is it)."""

    def __len__(self) -> int:
        return len(self.y)

    @property
    def whole(self) -> Replay:
        """The whole set these rows come from (itself unless taken from another)."""
        return self.parent if self.parent is not None else self

    @property
    def rows(self) -> np.ndarray:
        """Row numbers of these rows in `whole`: what stays the same for a row however the set is cut,
        so that what is computed once for the whole set (`model.personal.adapt`'s kept activations)
        can be looked up for any part of it."""
        return self.index if self.index is not None else np.arange(len(self), dtype=np.int64)

    def subset(self, idx: np.ndarray) -> Replay:
        """The rows `idx` (positions or a boolean mask) of this set, still knowing where they came from."""
        idx = np.flatnonzero(idx) if np.asarray(idx).dtype == bool else np.asarray(idx, dtype=np.int64)
        return Replay(X=self.X[idx], y=self.y[idx], source=self.source[idx], provenance=self.provenance,
                      sha256=self.sha256, path=self.path, index=self.rows[idx], parent=self.whole)

    def take(self, n: int | None) -> Replay:
        """`n` rows spread evenly over the set (MNIST and pen rows in their 3:1 share); all when None."""
        if n is None or n >= len(self):
            return self
        return self.subset(np.linspace(0, len(self) - 1, max(n, 0)).round().astype(np.int64))


def replay_path(resource_dir: str | os.PathLike) -> Path:
    """Where the shipped replay set is, given the folder holding ``assets/``.

    The app passes ``app.paths.resource_root()``, which works from a source
    checkout, a wheel install and the frozen bundle alike.
    """
    return Path(resource_dir) / "assets" / FILE_NAME


def load_replay(path: str | os.PathLike) -> Replay:
    """Read a replay set; `DataError` naming the file if it is missing or not one."""
    from model.datasets.mnist import sha256_of

    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            X8, y, src = z["X"], z["y"], z["source"]
            prov_text = str(z["provenance"])
    except FileNotFoundError:
        raise DataError(f"{path}: replay set not found (the app ships it in assets/)") from None
    except (OSError, ValueError, KeyError, EOFError) as exc:
        raise DataError(f"{path}: not a readable replay set ({exc})") from None
    if X8.dtype != np.uint8 or X8.ndim != 2 or X8.shape[1] != 784 or not len(y) == len(X8) == len(src):
        raise DataError(f"{path}: expected uint8 rows of 784 pixels with as many labels; got {X8.shape}")
    if len(y) and int(y.max()) > 9:
        raise DataError(f"{path}: label {int(y.max())} out of range 0..9")
    try:
        prov = json.loads(prov_text)
    except ValueError:
        prov = {}
    X = X8.astype(np.float32)
    X *= np.float32(1.0 / 255.0)
    return Replay(X=X, y=y.astype(np.int64), source=src.astype(np.int64), provenance=prov,
                  sha256=sha256_of(path), path=path)


def _stratified(y: np.ndarray, per_digit: int, rng: np.random.Generator) -> np.ndarray:
    """`per_digit` indices of each label, drawn without replacement, sorted."""
    picks = [rng.choice(np.flatnonzero(y == d), per_digit, replace=False) for d in range(10)]
    return np.sort(np.concatenate(picks))


def build(out: str | os.PathLike, mnist_dir: str | None = None, pen_file: str | None = None,
          seed: int = SEED) -> Path:
    """Draw the replay set from MNIST and pendigits and write it (atomically) to `out`."""
    from model.datasets import pendigits
    from model.datasets.mnist import find_data_dir, load_mnist, sha256_of
    from model.fileio import atomic_write_bytes

    rng = np.random.default_rng(seed)
    train = load_mnist("train", mnist_dir)
    mi = _stratified(train.y[:MNIST_POOL], N_MNIST_PER_DIGIT, rng)
    pen_path = pendigits.find_pen_file(pen_file, mnist_dir)
    samples = pendigits.load(pen_path)
    pool = [i for i, s in enumerate(samples) if s.writer in PEN_WRITERS]
    pi = _stratified(np.array([samples[i].label for i in pool]), N_PEN_PER_DIGIT, rng)
    pen_index = [pool[i] for i in pi]
    chosen = [samples[i] for i in pen_index]
    X_pen, y_pen = pendigits.render_samples(chosen)
    X = np.concatenate([train.X[mi], X_pen])
    X8 = np.clip(np.rint(X * 255.0), 0, 255).astype(np.uint8)
    y = np.concatenate([train.y[mi], y_pen]).astype(np.uint8)
    source = np.concatenate([np.zeros(len(mi), np.uint8), np.ones(len(chosen), np.uint8)])
    index = np.concatenate([mi, pen_index]).astype(np.int32)
    writer = np.concatenate([np.zeros(len(mi), np.int8), [s.writer for s in chosen]]).astype(np.int8)
    provenance = {
        "what": "replay set for adapting to a user's handwriting (model/personal/adapt.py)",
        "mnist": {
            "folder": str(find_data_dir(mnist_dir)),
            "sha256": train.sha256,
            "chosen": f"{N_MNIST_PER_DIGIT} per digit, uniformly without replacement from training "
                      f"images 0..{MNIST_POOL - 1} (the last 10,000 are validation and never used)",
        },
        "pendigits": {
            "file": pen_path.name,
            "sha256": sha256_of(pen_path),
            "chosen": f"{N_PEN_PER_DIGIT} per digit, uniformly without replacement from writers "
                      f"{PEN_WRITERS[0]}-{PEN_WRITERS[-1]} (writers 25-30 are validation), rendered by "
                      "model.datasets.pendigits.render_samples "
                      "(model.inputs.ink.normalise, default thickness)",
        },
        "seed": seed,
        "rows": {"mnist": int(len(mi)), "pen": int(len(chosen))},
        "command": "python -m model.datasets.replay --build",
        "index": "'index' holds the MNIST training index or the pendigits sample number (file order)",
    }
    arrays = {"X": X8, "y": y, "source": source, "index": index, "writer": writer,
              "provenance": np.array(json.dumps(provenance, sort_keys=True))}
    out = Path(out)
    atomic_write_bytes(out, _npz_bytes(arrays))
    os.chmod(out, 0o644)  # a shipped, read-only resource
    return out


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """`np.savez_compressed`, but with fixed time stamps so that a rebuild is byte-identical."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, arr in arrays.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w") as f:
                np.lib.format.write_array(f, np.asarray(arr), allow_pickle=False)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    """``python -m model.datasets.replay --build``: make ``assets/replay.npz`` again."""
    p = argparse.ArgumentParser(prog="python -m model.datasets.replay", description=__doc__.splitlines()[0])
    p.add_argument("--build", action="store_true", help="build the replay set")
    p.add_argument("--data", help="MNIST folder (default: $DIGITPAD_DATA, else the user cache)")
    p.add_argument("--pen-data", help="pendigits folder or file (default: beside the MNIST folder)")
    p.add_argument("--out", default=str(replay_path(Path(__file__).resolve().parent.parent)),
                   help="file to write (default: assets/replay.npz of this checkout)")
    p.add_argument("--seed", type=int, default=SEED)
    args = p.parse_args(argv)
    if not args.build:
        r = load_replay(args.out)
        print(f"{r.path}: {len(r)} rows ({int((r.source == 0).sum())} MNIST, "
              f"{int((r.source == 1).sum())} pen), sha256 {r.sha256}")
        print(json.dumps(r.provenance, indent=2))
        return 0
    out = build(args.out, args.data, args.pen_data, args.seed)
    print(f"wrote {out} ({out.stat().st_size / 2**20:.2f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
