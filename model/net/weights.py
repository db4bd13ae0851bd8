"""Weight folders: ``Theta1.txt``, ``Theta2.txt``, ... plus an optional ``model.json``.

Each Theta file is written by ``np.savetxt`` (space-delimited), shape
``(units_out, units_in + 1)`` with column 0 the bias, so a pair of Theta files
from the classic from-scratch MNIST recipe (784-100-10, bias column first)
loads unchanged. The layout is inferred from the shapes; ``model.json``
(layer sizes, training settings, accuracies, data checksums) is checked
against them when present. Saving is atomic: the folder is written under a
temporary name and renamed into place, so readers never see half of it.

A committee is a folder whose ``model.json`` names member folders inside it
(``"committee": ["member1", "member2"]``), each an ordinary weights folder;
its answer is the average of its members' probabilities. A member's
``model.json`` may say ``"deskew": true``: that network sees every input
slant-normalised first (`model.inputs.deskew`).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from model.errors import WeightsError
from model.fileio import atomic_write_bytes, match_umask, read_json
from model.net.layout import N_CLASSES, N_INPUTS, Layout, layout_from_shapes

META_FILE = "model.json"
PREPROCESSING_VERSION = 1
"""Bumped whenever the ink/image normalisation changes what the network sees."""

_THETA_RE = re.compile(r"^Theta(\d+)\.txt$")


@dataclass
class Model:
    """A loaded network: its Thetas, the layout they imply, and their metadata."""

    thetas: list[np.ndarray]
    layout: Layout
    meta: dict[str, Any] = field(default_factory=dict)
    source: Path | None = None
    members: list[Model] = field(default_factory=list)
    """A committee's networks (then `thetas` and `layout` are the first member's); empty for one network."""

    @property
    def deskew(self) -> bool:
        """Whether this network's inputs are slant-normalised before the forward pass."""
        return bool(self.meta.get("deskew", False))

    @property
    def networks(self) -> list[Model]:
        """The networks whose probabilities are averaged: the members, or this one alone."""
        return self.members or [self]

    def describe(self) -> str:
        """The layout, e.g. "784-500-10", or for a committee "784-500-10 + 784-800-10 (deskewed)"."""
        return " + ".join(f"{n.layout}" + (" (deskewed)" if n.deskew else "") for n in self.networks)


def _theta_files(folder: Path) -> list[Path]:
    found = {}
    for p in folder.iterdir():
        m = _THETA_RE.match(p.name)
        if m:
            found[int(m.group(1))] = p
    if not found:
        raise WeightsError(f"{folder}: no Theta1.txt found (not a weights folder)")
    n = max(found)
    for i in range(1, n + 1):
        if i not in found:
            raise WeightsError(f"{folder / f'Theta{i}.txt'}: missing (Theta{n}.txt exists)")
    return [found[i] for i in range(1, n + 1)]


def load_theta(path: Path) -> np.ndarray:
    """One Theta file as a float64 matrix; `WeightsError` naming the file if it is missing, unreadable,
    not numbers, empty or not finite."""
    try:
        with open(path, encoding="utf-8") as f, warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data": handled below
            arr = np.loadtxt(f, dtype=np.float64, ndmin=2)
    except ValueError as exc:
        msg = str(exc).splitlines()[0] if str(exc) else "malformed"
        raise WeightsError(f"{path}: not a numeric matrix ({msg})") from None
    except FileNotFoundError:
        raise WeightsError(f"{path}: missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise WeightsError(f"{path}: cannot be read ({exc})") from None
    if arr.size == 0:
        raise WeightsError(f"{path}: empty (truncated?)")
    if not np.all(np.isfinite(arr)):
        raise WeightsError(f"{path}: contains NaN or infinite values")
    return arr


def _cache_path(paths: list[Path]) -> Path | None:
    """Where a parsed binary copy of these Theta files is cached (keyed by path, size, mtime)."""
    from model.datasets.mnist import user_cache_dir

    try:
        key = "|".join(f"{p.resolve()}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in paths)
    except OSError:
        return None
    return user_cache_dir() / "weights" / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".npz")


def _load_thetas(paths: list[Path], use_cache: bool) -> list[np.ndarray]:
    """Parse the Theta text files, or reuse the binary copy made the last time they were parsed.

    Parsing ~400k numbers of text takes a good part of a second; the cache makes
    the app start fast. The text files stay the truth: any change to them
    (size or modification time) misses the cache.
    """
    cache = _cache_path(paths) if use_cache else None
    if cache is not None and cache.is_file():
        try:
            with np.load(cache) as z:
                thetas = [z[f"t{i}"] for i in range(len(paths))]
            if all(np.all(np.isfinite(t)) for t in thetas):
                return thetas
        except (OSError, ValueError, KeyError):
            pass
    thetas = [load_theta(p) for p in paths]
    if cache is not None:
        buffer = io.BytesIO()
        np.savez(buffer, **{f"t{i}": t for i, t in enumerate(thetas)})
        try:
            atomic_write_bytes(cache, buffer.getvalue())
        except OSError:
            pass  # a read-only or full disk only costs speed
    return thetas


def _read_meta(meta_path: Path) -> dict[str, Any]:
    if not meta_path.is_file():
        return {}
    meta = read_json(meta_path, WeightsError)
    if not isinstance(meta, dict):
        raise WeightsError(f"{meta_path}: expected a JSON object")
    return meta


def committee_members(meta: dict[str, Any], meta_path: Path) -> list[str]:
    """The member folder names a committee's model.json lists ([] for a single network)."""
    names = meta.get("committee")
    if names is None:
        return []
    if (not isinstance(names, list) or not names
            or not all(isinstance(n, str) and n and "/" not in n and "\\" not in n and n not in (".", "..")
                       for n in names)):
        raise WeightsError(f"{meta_path}: \"committee\" must list member folder names, got {names!r}")
    return names


def is_weights_folder(folder: str | os.PathLike) -> bool:
    """True when `folder` holds a network (Theta1.txt) or a committee (model.json naming members)."""
    folder = Path(folder)
    if (folder / "Theta1.txt").is_file():
        return True
    try:
        return bool(committee_members(_read_meta(folder / META_FILE), folder / META_FILE))
    except WeightsError:
        return False


def load_weights(folder: str | os.PathLike, use_cache: bool = True) -> Model:
    """Load a weights folder (one network or a committee), inferring and checking the layout."""
    folder = Path(folder)
    if not folder.is_dir():
        raise WeightsError(f"{folder}: weights folder not found")
    meta_path = folder / META_FILE
    top_meta = _read_meta(meta_path)
    names = committee_members(top_meta, meta_path)
    if names:
        members = []
        for name in names:
            if not (folder / name).is_dir():
                raise WeightsError(f"{folder / name}: committee member folder not found "
                                   f"(named in {meta_path})")
            member = load_weights(folder / name, use_cache)
            if member.members:
                raise WeightsError(f"{folder / name}: a committee member cannot itself be a committee")
            members.append(member)
        first = members[0]
        return Model(thetas=first.thetas, layout=first.layout, meta=top_meta, source=folder, members=members)
    paths = _theta_files(folder)
    thetas = _load_thetas(paths, use_cache)
    for i in range(1, len(thetas)):
        want = thetas[i - 1].shape[0] + 1
        if thetas[i].shape[1] != want:
            raise WeightsError(
                f"{paths[i]}: shape {thetas[i].shape[0]}x{thetas[i].shape[1]}, expected {want} "
                f"columns (bias + the {want - 1} units of {paths[i - 1].name}); truncated or mismatched?"
            )
    layout = layout_from_shapes([t.shape for t in thetas])
    if layout.sizes[0] != N_INPUTS or layout.sizes[-1] != N_CLASSES:
        raise WeightsError(
            f"{paths[0] if layout.sizes[0] != N_INPUTS else paths[-1]}: layout {layout} "
            f"does not map {N_INPUTS} pixels to {N_CLASSES} digits"
        )
    meta = top_meta
    sizes = meta.get("layer_sizes")
    if sizes is not None and (not isinstance(sizes, list) or list(sizes) != list(layout.sizes)):
        raise WeightsError(
            f"{meta_path}: layer_sizes {sizes!r} disagree with the Theta files ({layout})"
        )
    return Model(thetas=thetas, layout=layout, meta=meta, source=folder)


def _write_network(folder: Path, thetas, meta: dict[str, Any] | None) -> None:
    layout = layout_from_shapes([np.shape(t) for t in thetas])
    meta = dict(meta or {})
    meta["layer_sizes"] = list(layout.sizes)
    meta.setdefault("preprocessing_version", PREPROCESSING_VERSION)
    folder.mkdir(exist_ok=True)
    for i, t in enumerate(thetas, start=1):
        # 9 significant digits round-trip every float32 exactly.
        np.savetxt(folder / f"Theta{i}.txt", np.asarray(t, dtype=np.float64), fmt="%.9g")
    (folder / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def _replace_folder(folder: Path, write: Callable[[Path], None]) -> Path:
    """Build a folder's new contents under a temporary name, then swap it into place."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    try:
        match_umask(tmp, directory=True)  # mkdtemp's 0700 would make the folder private
        write(tmp)
        old = None
        if folder.exists():
            old = folder.parent / f".{folder.name}.old-{os.getpid()}"
            if old.exists():
                shutil.rmtree(old)
            os.replace(folder, old)
        os.replace(tmp, folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return folder


def save_weights(folder: str | os.PathLike, thetas, meta: dict[str, Any] | None = None) -> Path:
    """Write Theta files and model.json atomically into `folder` (replacing it)."""
    return _replace_folder(Path(folder), lambda tmp: _write_network(tmp, thetas, meta))


def save_committee(folder: str | os.PathLike, members: Sequence[tuple[str, Sequence[np.ndarray], dict]],
                   meta: dict[str, Any] | None = None) -> Path:
    """Write a committee atomically: one subfolder per (name, thetas, meta) member, plus model.json."""
    names = [name for name, _, _ in members]
    top = dict(meta or {})
    top["committee"] = names
    top.pop("layer_sizes", None)
    committee_members(top, Path(folder) / META_FILE)  # the names must be plain folder names

    def write(tmp: Path) -> None:
        for name, thetas, member_meta in members:
            _write_network(tmp / name, thetas, member_meta)
        (tmp / META_FILE).write_text(json.dumps(top, indent=2) + "\n", encoding="utf-8")

    return _replace_folder(Path(folder), write)
