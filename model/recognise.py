"""From an input (drawing, ink file, image file) to digits with probabilities.

One `Recogniser` holds a loaded network and serves the pad, `digitpad
predict` and the tests alike: inputs are split into digits (`model.numbers.segment`),
each digit is normalised like MNIST (`model.inputs.ink` / `model.inputs.images`) and all of
them go through one forward pass together.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from model.errors import NothingToRecognise
from model.inputs import images, ink
from model.net import mlp
from model.net.blas import one_thread
from model.net.ensemble import committee_proba
from model.net.weights import Model
from model.numbers import segment, segment_image, segment_ink
from model.numbers.lattice import Alternative, Found, Verify
from model.verifier import Verifier

CLOSE_CALL = 0.3
"""A runner-up reading scored within this many nats of the best (at least e^-0.3, 74%, as
likely) is a close call: the app shows it under the result. Chosen on one-writer numbers of
the held-out writers 25-30 as the widest margin that flags at most 5% of right readings."""

DEFAULT_UNSURE_BELOW = 0.80
"""Default confidence under which an answer is flagged "not sure"; a model's
``model.json`` may carry its own ``unsure_threshold`` chosen on validation data."""

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in input coordinates


@dataclass
class DigitResult:
    """One recognised digit."""

    digit: int
    probs: np.ndarray
    box: Box
    image: np.ndarray  # the 28x28 the network saw

    @property
    def confidence(self) -> float:
        """Probability of the chosen digit."""
        return float(self.probs[self.digit])


@dataclass
class Reading:
    """All digits of one input, left to right."""

    digits: list[DigitResult] = field(default_factory=list)
    unsure_below: float = DEFAULT_UNSURE_BELOW
    score: float | None = None
    """Log-likelihood of the reading (0 = certain), when it came from a search over segmentations."""
    alternative: Alternative | None = None
    """The best reading with a different text, with its score and the digits it doubts."""

    @property
    def close_call(self) -> bool:
        """True when the runner-up reading is nearly as likely as this one (`CLOSE_CALL`)."""
        return (self.alternative is not None and self.score is not None
                and self.score - self.alternative.score < CLOSE_CALL)

    @property
    def text(self) -> str:
        """The digits as a string, e.g. "2026"."""
        return "".join(str(d.digit) for d in self.digits)

    @property
    def confidence(self) -> float:
        """The lowest per-digit confidence (0 when there are no digits)."""
        return min((d.confidence for d in self.digits), default=0.0)

    @property
    def unsure(self) -> bool:
        """True when some digit's confidence is below the threshold."""
        return self.confidence < self.unsure_below

    def to_json(self) -> dict:
        """Plain-JSON form used by ``predict --json``.

        ``alternative`` (null when there is none) is the runner-up reading:
        its ``digits``, ``score`` (log-likelihood, like ``score``) and
        ``doubtful`` (0-based positions of the best reading's digits it
        disputes); ``close_call`` says whether it is close enough to show.
        """
        alt = self.alternative
        return {
            "digits": self.text,
            "score": None if self.score is None else round(self.score, 4),
            "alternative": None if alt is None else {
                "digits": alt.text, "score": round(alt.score, 4), "doubtful": list(alt.doubtful)},
            "close_call": self.close_call,
            "confidence": round(self.confidence, 6),
            "unsure": self.unsure,
            "per_digit": [
                {
                    "digit": d.digit,
                    "confidence": round(d.confidence, 6),
                    "probabilities": [round(float(p), 6) for p in d.probs],
                    "box": [round(float(v), 2) for v in d.box],
                }
                for d in self.digits
            ],
        }


class Recogniser:
    """A network plus the pipelines that feed it; with a `verifier` (`model.verifier`), images are
    split into digits judging whether each candidate is one whole digit (scanned rows whose digits
    overlap)."""

    def __init__(self, model: Model, verifier: Verifier | None = None):
        self.model = model
        self.verifier = verifier
        self._networks = [([np.asarray(t, dtype=mlp.DTYPE) for t in n.thetas], n.deskew)
                          for n in model.networks]
        self.unsure_below = float(model.meta.get("unsure_threshold", DEFAULT_UNSURE_BELOW))
        self._ink_cache = segment_ink.Cache()  # candidates of the drawing being written

    def classify(self, batch: np.ndarray) -> np.ndarray:
        """Probabilities (n, 10) for 28x28 images (n, 28, 28) or rows (n, 784).

        A committee's answer is the mean of its members' probabilities; a member
        that was trained on deskewed images sees the batch deskewed. NumPy's BLAS is held to
        one thread meanwhile (`model.net.blas`: small batches, robust on a busy machine).
        """
        with one_thread("numpy"):
            return committee_proba(self._networks, batch)

    @property
    def verify(self) -> Verify | None:
        """The verifier as the image segmentation takes it (P(one whole digit) of each candidate
        (n, 28, 28), on one BLAS thread like `classify`), or None without one."""
        verifier = self.verifier
        if verifier is None:
            return None

        def judge(batch: np.ndarray) -> np.ndarray:
            with one_thread("numpy"):
                return verifier.p_single(batch)

        return judge

    def _reading(self, crops: Sequence[np.ndarray], boxes: Sequence[Box]) -> Reading:
        if not crops:
            return Reading([], self.unsure_below)
        probs = self.classify(np.stack(crops))
        digits = [
            DigitResult(int(p.argmax()), p, box, img)
            for p, box, img in zip(probs, boxes, crops, strict=True)
        ]
        return Reading(digits, self.unsure_below)

    def _found(self, found: Found) -> Reading:
        digits = [
            DigitResult(int(p.argmax()), np.asarray(p), box, img)
            for p, box, img in zip(found.probs, found.boxes, found.crops, strict=True)
        ]
        return Reading(digits, self.unsure_below, found.score, found.alternative)

    def read_strokes(self, strokes: Sequence[np.ndarray]) -> Reading:
        """Split strokes into digits by recognition (`model.numbers.segment_ink`), with the runner-up."""
        strokes = ink.as_strokes(strokes)
        if not strokes:
            raise NothingToRecognise("nothing to recognise: the drawing is empty")
        return self._found(segment_ink.read(strokes, self.classify, self._ink_cache))

    def read_strokes_by_geometry(self, strokes: Sequence[np.ndarray]) -> Reading:
        """The earlier reading: strokes grouped by geometry alone (`model.numbers.segment.split_strokes`)."""
        strokes = ink.as_strokes(strokes)
        if not strokes:
            raise NothingToRecognise("nothing to recognise: the drawing is empty")
        groups = segment.split_strokes(strokes)
        return self._reading([ink.normalise(g) for g in groups], [ink.bounds(g) for g in groups])

    def read_ink_map(self, ink_map: np.ndarray) -> Reading:
        """Digits in an ink map (0 paper .. 1 ink), left to right, split by recognition."""
        found = segment_image.read(ink_map, self.classify, self.verify)
        if not found.crops:
            raise NothingToRecognise("nothing to recognise: the image has no ink")
        return self._found(found)

    def read_ink_map_by_geometry(self, ink_map: np.ndarray) -> Reading:
        """The earlier image reading: components grouped and cut by geometry alone."""
        found = segment.split_image(ink_map)
        if not found:
            raise NothingToRecognise("nothing to recognise: the image has no ink")
        crops = [images.to_mnist(c) for c, _ in found]
        return self._reading(crops, [b for _, b in found])

    def read_path(self, path: str | os.PathLike) -> Reading:
        """Read an ink JSON file or an image file, with errors naming the file."""
        p = Path(path)
        try:
            if p.suffix.lower() == ".json":
                return self.read_strokes(ink.load_ink(p).strokes)
            return self.read_ink_map(images.ink_map(images.load_gray(p)))
        except NothingToRecognise as exc:
            raise NothingToRecognise(f"{p}: {exc}") from None
