"""The user's taught samples: one labelled ink JSON file per sample, kept in a folder.

A sample file is the ink file format (`model.inputs.ink`) plus ``"label"`` — a
string of digits, one per digit in the drawing ("7", or "2026" for a written
number) — and ``"created"`` (ISO 8601 time, UTC), optionally ``"source"``
("teach", "correction", "import", ...). The folder is ``$DIGITPAD_HOME/samples``
(else the user data folder's ``samples/``). Every write is atomic
(`model.fileio`); a damaged, foreign or unlabelled file is skipped with a
one-line warning naming it and never deleted.

`training_arrays` turns samples into network inputs: a one-digit sample is
its whole drawing; a multi-digit sample is split into digits by
`split_digits`, the one place that calls the segmenter, and must give as many
digits as its label has.

Left out: locking between two processes writing the same folder (each file
is written once under a unique name, so they do not overwrite each other),
and any notion of rounds beyond the order samples were created in.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from model.errors import DigitpadError, InputError
from model.fileio import atomic_write_text, read_json, user_data_dir
from model.inputs import ink as inkmod
from model.inputs.ink import Ink

SAMPLES = "samples"
SUFFIX = ".json"
MAX_LABEL = 64
"""Longest label accepted (a drawing is not a 64-digit number)."""


def samples_dir(home: Path | None = None) -> Path:
    """``home/samples``; `home` defaults to the user data folder (``$DIGITPAD_HOME`` if set)."""
    return Path(home if home is not None else user_data_dir()) / SAMPLES


def check_label(label: object) -> str:
    """`label` if it is a non-empty string of digits 0-9, else `InputError` saying what it got."""
    if not isinstance(label, str) or not label or len(label) > MAX_LABEL or not all(
            c in "0123456789" for c in label):
        raise InputError(f"label must be a string of digits like \"7\" or \"2026\"; got {label!r}")
    return label


def now_iso() -> str:
    """The current time as ISO 8601 UTC with milliseconds, e.g. ``2026-11-30T11:22:20.123+00:00``."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass
class Sample:
    """One stored sample: its file, drawing, label and creation time."""

    path: Path
    ink: Ink
    label: str
    created: str
    source: str | None = None
    extra: dict = field(default_factory=dict, repr=False)
    """Other keys found in the file, kept when the sample is relabelled."""

    @property
    def n_digits(self) -> int:
        """How many digits the drawing holds (one per label character)."""
        return len(self.label)

    @property
    def digits(self) -> list[int]:
        """The label as a list of ints."""
        return [int(c) for c in self.label]

    @property
    def key(self) -> str:
        """A fingerprint of label + strokes, the same for a copy of this sample (finds duplicates)."""
        body = json.dumps({"label": self.label, "strokes": self.ink.to_json()["strokes"]},
                          separators=(",", ":"))
        return hashlib.sha256(body.encode()).hexdigest()

    def to_json(self) -> dict:
        """The file's content: the ink format plus label, created (and source)."""
        d = dict(self.extra)
        d.update(self.ink.to_json())
        d["label"] = self.label
        d["created"] = self.created
        if self.source:
            d["source"] = self.source
        return d


def sample_from_json(raw: object, path: Path) -> Sample:
    """A `Sample` from a parsed sample file; `InputError` naming `path` if it is not one."""
    drawing = inkmod.ink_from_json(raw, path)
    assert isinstance(raw, dict)
    if "label" not in raw:
        raise InputError(f"{path}: no \"label\" (an ink file, not a labelled sample)")
    try:
        label = check_label(raw["label"])
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None
    if not drawing.strokes:
        raise InputError(f"{path}: the drawing is empty")
    created = raw.get("created")
    if not isinstance(created, str) or not created:
        try:
            created = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).isoformat(
                timespec="milliseconds")
        except OSError:
            created = ""
    source = raw.get("source") if isinstance(raw.get("source"), str) else None
    known = {"width", "height", "pen_width", "strokes", "label", "created", "source"}
    extra = {k: v for k, v in raw.items() if k not in known}
    return Sample(path=path, ink=drawing, label=label, created=created, source=source, extra=extra)


def load_sample(path: str | os.PathLike) -> Sample:
    """Read one sample file (`InputError` with one line naming it when it is not a usable sample)."""
    path = Path(path)
    return sample_from_json(read_json(path, InputError), path)


def _sort_key(s: Sample) -> tuple[str, str]:
    return (s.created, s.path.name)


def load_samples(paths: Sequence[str | os.PathLike]) -> tuple[list[Sample], list[str]]:
    """Samples from files and folders of files (``*.json``, not recursive); warnings for the rest.

    A bad file (damaged, foreign, unlabelled, empty) gives one warning line
    naming it and is skipped; nothing raises for a bad file.
    """
    samples: list[Sample] = []
    warnings: list[str] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            try:
                files = sorted(f for f in p.iterdir()
                               if f.suffix.lower() == SUFFIX and not f.name.startswith("."))
            except OSError as exc:
                warnings.append(f"{p}: cannot be read ({exc.strerror or exc})")
                continue
        else:
            files = [p]
        for f in files:
            try:
                samples.append(load_sample(f))
            except DigitpadError as exc:
                warnings.append(str(exc))
    samples.sort(key=_sort_key)
    return samples, warnings


def _file_name(label: str) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    return f"{stamp}-{label[:16]}-{uuid.uuid4().hex[:8]}{SUFFIX}"


class SampleStore:
    """The samples in one folder: load, add, delete, relabel, clear, export and import.

    Every method that writes raises `InputError` with one line naming the
    folder or file when the disk refuses (read-only folder, a file where the
    folder should be, disk full); the files already there are never touched
    by a failed write.
    """

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)

    def load(self) -> tuple[list[Sample], list[str]]:
        """(samples sorted by creation time, one warning line per file skipped)."""
        if not self.folder.exists():
            return [], []
        if not self.folder.is_dir():
            return [], [f"{self.folder}: not a folder, so no samples are read from it"]
        try:
            return load_samples([self.folder])
        except OSError as exc:
            return [], [f"{self.folder}: cannot be read ({exc.strerror or exc})"]

    def _write(self, sample: Sample) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            atomic_write_text(sample.path, json.dumps(sample.to_json()) + "\n")
        except OSError as exc:
            raise InputError(
                f"{sample.path}: cannot save the sample ({exc.strerror or exc}); nothing was changed"
            ) from None

    def add(self, ink: Ink, label: str, count_digits: Callable[[Ink], int] | None = None,
            source: str | None = None) -> Sample:
        """Store `ink` labelled `label` in a new file and return it.

        `count_digits` (e.g. `count_digits` below, or the recogniser's own
        segmentation) says how many digits the drawing holds; a label of
        another length is refused with `InputError`.
        """
        label = check_label(label)
        strokes = inkmod.as_strokes(ink.strokes)
        if not strokes:
            raise InputError("nothing to keep: the drawing is empty")
        ink = Ink(strokes=strokes, width=ink.width, height=ink.height, pen_width=ink.pen_width)
        if count_digits is not None:
            n = count_digits(ink)
            if n != len(label):
                raise InputError(
                    f"label \"{label}\" has {len(label)} digit{'s' * (len(label) != 1)} "
                    f"but the drawing has {n}"
                )
        sample = Sample(path=self.folder / _file_name(label), ink=ink, label=label,
                        created=now_iso(), source=source)
        self._write(sample)
        return sample

    def delete(self, sample: Sample) -> None:
        """Remove the sample's file (already gone is fine)."""
        try:
            sample.path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise InputError(f"{sample.path}: cannot delete the sample ({exc.strerror or exc})") from None

    def relabel(self, sample: Sample, label: str,
                count_digits: Callable[[Ink], int] | None = None) -> Sample:
        """Rewrite the sample's file with a new label (atomically, same file and creation time)."""
        label = check_label(label)
        if count_digits is not None and count_digits(sample.ink) != len(label):
            raise InputError(
                f"label \"{label}\" has {len(label)} digit{'s' * (len(label) != 1)} "
                f"but the drawing has {count_digits(sample.ink)}"
            )
        new = Sample(path=sample.path, ink=sample.ink, label=label, created=sample.created,
                     source=sample.source, extra=dict(sample.extra))
        self._write(new)
        return new

    def clear(self) -> int:
        """Delete every readable sample file (foreign or damaged files are left); returns how many."""
        samples, _ = self.load()
        for s in samples:
            self.delete(s)
        return len(samples)

    def export_to(self, folder: str | os.PathLike) -> int:
        """Copy every sample file into `folder` (created if needed); returns how many were copied."""
        folder = Path(folder)
        samples, _ = self.load()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for s in samples:
                target = folder / s.path.name
                tmp = folder / f".{s.path.name}.tmp"
                shutil.copyfile(s.path, tmp)
                os.replace(tmp, target)
        except OSError as exc:
            raise InputError(f"{folder}: cannot export the samples ({exc.strerror or exc})") from None
        return len(samples)

    def import_from(self, folder: str | os.PathLike) -> tuple[int, list[str]]:
        """Add the samples found in `folder` (files or a folder); (how many added, warnings).

        Samples already in the store (same label and strokes) are skipped
        with a warning, and so are files that are not usable samples.
        """
        found, warnings = load_samples([folder])
        mine, _ = self.load()
        keys = {s.key for s in mine}
        added = 0
        for s in found:
            if s.key in keys:
                warnings.append(f"{s.path}: already among your samples (skipped)")
                continue
            new = Sample(path=self.folder / _file_name(s.label), ink=s.ink, label=s.label,
                         created=s.created, source=s.source or "import", extra=dict(s.extra))
            self._write(new)
            keys.add(s.key)
            added += 1
        return added, warnings


# --------------------------------------------------------------------------- to network inputs


def split_digits(strokes: Sequence[np.ndarray]) -> list[list[np.ndarray]]:
    """Group strokes into digits, left to right.

    The one place samples call the segmenter (being rewritten in issue 10),
    so that swapping it is one edit.
    """
    from model.numbers import segment

    return segment.split_strokes(strokes)


def count_digits(drawing: Ink) -> int:
    """How many digits the segmenter finds in a drawing (for `SampleStore.add`)."""
    return len(split_digits(inkmod.as_strokes(drawing.strokes)))


def digit_images(drawing: Ink, n: int) -> list[np.ndarray]:
    """The `n` digits of a drawing as 28x28 float32 images, left to right.

    One digit: the whole drawing (no segmentation: the user said it is one
    digit). More: the segmenter must find exactly `n`, else `InputError`.
    """
    strokes = inkmod.as_strokes(drawing.strokes)
    if not strokes:
        raise InputError("the drawing is empty")
    if n == 1:
        return [inkmod.normalise(strokes)]
    groups = split_digits(strokes)
    if len(groups) != n:
        raise InputError(f"label has {n} digits but the drawing has {len(groups)}")
    return [inkmod.normalise(g) for g in groups]


def training_arrays(
    samples: Sequence[Sample],
    digits_of: Callable[[Ink, int], list[np.ndarray]] = digit_images,
    warnings: list[str] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X float32 (n, 784), y int64 (n,), group int64 (n,)) from samples.

    A sample labelled "2026" gives four rows. ``group`` is the round a
    sample belongs to: the k-th sample (in the order given, normally by
    creation time) with a given label is in round k, so a teaching session of
    3 rounds gives groups 0, 1, 2 and leave-one-group-out is
    leave-one-round-out; all digits of one sample share its group. Samples
    whose drawing does not split into as many digits as their label has are
    left out, with a line appended to `warnings` when given.
    """
    rows: list[np.ndarray] = []
    labels: list[int] = []
    groups: list[int] = []
    seen: dict[str, int] = {}
    for s in samples:
        try:
            imgs = digits_of(s.ink, len(s.label))
        except DigitpadError as exc:
            if warnings is not None:
                warnings.append(f"{s.path}: {exc}")
            continue
        g = seen.get(s.label, 0)
        seen[s.label] = g + 1
        for img, d in zip(imgs, s.digits, strict=True):
            rows.append(np.asarray(img, dtype=np.float32).reshape(784))
            labels.append(d)
            groups.append(g)
    if not rows:
        return np.zeros((0, 784), np.float32), np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.stack(rows), np.array(labels, dtype=np.int64), np.array(groups, dtype=np.int64)
