"""The views of "Inside the network", as Pillow images, and `digitpad report` that writes them.

One function per picture, shared by the app's window (which shows these
images and saves them with "Save as PNG") and by `write_report`, which
writes ``units.png``, ``confusion.png``, ``misreads.png``,
``robustness.png``, ``training.png`` (when the weights carry a training
history), ``report.json`` and an ``index.html`` showing them with captions.

The labelled sets a confusion matrix can be computed on are a list of
``(name, loader)`` entries (`labelled_sets`): MNIST test, the pen validation
writers when their file is there; other sets (a user's own samples) plug in
as further entries. Slow results (a set's probabilities, the robustness
curves) are cached in the user cache folder per weights and data
(`cache_key`), so the window shows them at once the next time.

Probabilities always come from `Recogniser.classify` (a committee's
average when the weights are one); the hidden-unit pictures show one
network's Thetas (a committee's first, or the one chosen in the window).
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageDraw

from model.errors import DigitpadError
from model.fileio import atomic_write_bytes, atomic_write_text
from model.views import charts, explain, robustness

if TYPE_CHECKING:
    from model.recognise import Recogniser

MIN_SIZE = (800, 600)
MISREADS_SHOWN = 60
CACHE_VERSION = 1

Loader = Callable[[], tuple[np.ndarray, np.ndarray]]
"""Returns (X (n, 784) float32 in 0..1, labels (n,)); raises `DigitpadError` when the data is missing."""
LabelledSet = tuple[str, Loader]

MNIST_TEST = "MNIST test (10,000)"
PEN_VALIDATION = "pen writers 25-30"


# --------------------------------------------------------------------------- sets and cache


def labelled_sets(data_dir: str | os.PathLike | None = None,
                  pen_dir: str | os.PathLike | None = None) -> list[LabelledSet]:
    """The sets a confusion matrix can be drawn for: MNIST test, and pen writers 25-30 when found.

    Loading happens only when a loader is called. More sets (a user's own
    samples) are added by appending ``(name, loader)`` entries.
    """
    from model.datasets.mnist import load_mnist

    def mnist() -> tuple[np.ndarray, np.ndarray]:
        split = load_mnist("test", data_dir)
        return split.X, split.y

    sets: list[LabelledSet] = [(MNIST_TEST, mnist)]
    pen = pen_loader(data_dir, pen_dir)
    if pen is not None:
        sets.append((PEN_VALIDATION, pen))
    return sets


def pen_loader(data_dir=None, pen_dir=None) -> Loader | None:
    """A loader for the held-out pen writers rendered through the ink pipeline, or None if no file."""
    from model.datasets import pendigits

    try:
        path = pendigits.find_pen_file(str(pen_dir) if pen_dir else None, str(data_dir) if data_dir else None)
    except DigitpadError:
        return None

    def load() -> tuple[np.ndarray, np.ndarray]:
        held = [s for s in pendigits.load(path) if s.writer in pendigits.DEFAULT_HOLDOUT]
        if not held:
            raise DigitpadError(f"{path}: no digits by writers {list(pendigits.DEFAULT_HOLDOUT)}")
        return pendigits.render_samples(held)

    return load


def weights_key(recogniser: Recogniser) -> str:
    """SHA-256 (hex, shortened) of the recogniser's network: its Thetas and its model.json."""
    h = hashlib.sha256()
    for t in recogniser.model.thetas:
        a = np.ascontiguousarray(t, dtype=np.float64)
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    h.update(json.dumps(recogniser.model.meta, sort_keys=True, default=str).encode())
    return h.hexdigest()[:24]


def data_key(X: np.ndarray, y: np.ndarray) -> str:
    """SHA-256 (hex, shortened) of a labelled set's pixels and labels."""
    h = hashlib.sha256(np.ascontiguousarray(X).tobytes())
    h.update(np.ascontiguousarray(y).tobytes())
    return h.hexdigest()[:24]


def cache_dir() -> Path:
    """Where the window and the report keep computed results (inside the user cache)."""
    from model.datasets.mnist import user_cache_dir

    return user_cache_dir() / "inside"


def cache_key(*parts: str) -> str:
    """A file-name-safe key for `parts` (weights key, data key, what was computed)."""
    return hashlib.sha256("|".join((str(CACHE_VERSION), *parts)).encode()).hexdigest()[:32]


def _cache_read_json(key: str) -> dict | None:
    path = cache_dir() / f"{key}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _cache_write_json(key: str, value: dict) -> None:
    try:
        atomic_write_text(cache_dir() / f"{key}.json", json.dumps(value))
    except OSError:
        pass  # a read-only or full disk only costs time


def _cache_read_probs(key: str, n: int) -> np.ndarray | None:
    path = cache_dir() / f"{key}.npy"
    try:
        probs = np.load(path)
    except (OSError, ValueError):
        return None
    return probs if probs.shape == (n, 10) and np.all(np.isfinite(probs)) else None


def _cache_write_probs(key: str, probs: np.ndarray) -> None:
    buf = io.BytesIO()
    np.save(buf, np.asarray(probs, dtype=np.float32))
    try:
        atomic_write_bytes(cache_dir() / f"{key}.npy", buf.getvalue())
    except OSError:
        pass


# --------------------------------------------------------------------------- computations


@dataclass
class Confusion:
    """A classifier's answers on one labelled set."""

    name: str
    X: np.ndarray
    y: np.ndarray
    probs: np.ndarray

    @property
    def predicted(self) -> np.ndarray:
        """The network's answer for each image."""
        return self.probs.argmax(axis=1)

    @property
    def matrix(self) -> np.ndarray:
        """counts[true, predicted]."""
        from model.evaluate import confusion_matrix  # here: it brings in SciPy's optimizer

        return confusion_matrix(self.y, self.predicted)

    @property
    def correct(self) -> int:
        """Number of images read right."""
        return int(np.trace(self.matrix))

    @property
    def accuracy(self) -> float:
        """Fraction read right."""
        return self.correct / max(len(self.y), 1)

    @property
    def per_class(self) -> list[float]:
        """Accuracy per true digit."""
        m = self.matrix
        return [float(v) for v in np.diag(m) / np.maximum(m.sum(axis=1), 1)]

    def cell(self, true: int, predicted: int) -> np.ndarray:
        """Indices of the images of `true` read as `predicted`, most confident answer first."""
        idx = np.flatnonzero((self.y == true) & (self.predicted == predicted))
        return idx[np.argsort(-self.probs[idx, predicted], kind="stable")]

    def misread(self) -> np.ndarray:
        """Indices of every image read wrong, most confidently wrong first."""
        idx = np.flatnonzero(self.y != self.predicted)
        return idx[np.argsort(-self.probs[idx].max(axis=1), kind="stable")]


def classify_in_chunks(classify: Callable[[np.ndarray], np.ndarray], X: np.ndarray, chunk: int = 2000,
                       progress: Callable[[int, int], None] | None = None,
                       cancel: threading.Event | None = None) -> np.ndarray:
    """`classify` over X in chunks, reporting progress and stopping when `cancel` is set."""
    out = []
    for i in range(0, len(X), chunk):
        if cancel is not None and cancel.is_set():
            raise robustness.Cancelled
        out.append(np.asarray(classify(X[i:i + chunk]), dtype=np.float32))
        if progress is not None:
            progress(min(i + chunk, len(X)), len(X))
    return np.concatenate(out) if out else np.zeros((0, 10), dtype=np.float32)


def compute_confusion(recogniser: Recogniser, name: str, loader: Loader,
                      progress: Callable[[int, int], None] | None = None,
                      cancel: threading.Event | None = None, use_cache: bool = True) -> Confusion:
    """Load a set and classify it (or reuse the cached probabilities for these weights and data)."""
    X, y = loader()
    y = np.asarray(y, dtype=np.int64)
    key = cache_key("probs", weights_key(recogniser), data_key(X, y))
    probs = _cache_read_probs(key, len(y)) if use_cache else None
    if probs is None:
        probs = classify_in_chunks(recogniser.classify, X, progress=progress, cancel=cancel)
        if use_cache:
            _cache_write_probs(key, probs)
    elif progress is not None:
        progress(len(y), len(y))
    return Confusion(name, X, y, probs)


def robustness_sets(data_dir=None, pen_dir=None) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """The fixed samples the robustness curves use: 1,000 MNIST test digits and pen writers 25-30."""
    from model.datasets.mnist import load_mnist

    test = load_mnist("test", data_dir)
    X, y = robustness.mnist_sample(test.X, test.y)
    sets = [(f"MNIST test ({len(y):,} sample)", X, y)]
    pen = pen_loader(data_dir, pen_dir)
    if pen is not None:
        Xp, yp = pen()
        sets.append((f"pen writers 25-30 ({len(yp):,})", Xp, yp))
    return sets


def compute_robustness(recogniser: Recogniser, data_dir=None, pen_dir=None,
                       progress: Callable[[int, int], None] | None = None,
                       cancel: threading.Event | None = None, use_cache: bool = True) -> dict:
    """Robustness curves for these weights (from the cache when they were computed before)."""
    sets = robustness_sets(data_dir, pen_dir)
    key = cache_key("robustness", str(robustness.VERSION), weights_key(recogniser),
                    *(data_key(X, y) for _, X, y in sets))
    if use_cache:
        cached = _cache_read_json(key)
        if cached is not None and cached.get("version") == robustness.VERSION:
            return cached
    result = robustness.measure(recogniser.classify, sets, progress=progress, cancel=cancel)
    if use_cache:
        _cache_write_json(key, result)
    return result


# --------------------------------------------------------------------------- pictures


def _canvas(size: tuple[int, int]) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    img = Image.new("RGB", size, charts.WHITE)
    return img, ImageDraw.Draw(img)


def unit_frames(activations: np.ndarray | None, n: int) -> np.ndarray:
    """Frame colours (n, 3): grey for an idle unit to orange for a fully active one."""
    if activations is None:
        return np.broadcast_to(charts.IDLE.astype(np.uint8), (n, 3))
    return charts.sequential(activations)


def units_image(thetas: Sequence[np.ndarray], activations: np.ndarray | None = None,
                order: Sequence[int] | None = None, heading: str | None = None,
                subtitle: str = "", tiles: np.ndarray | None = None) -> Image.Image:
    """Every first-layer unit's 784 incoming weights as a 28x28 tile, in a grid, with a legend.

    With `activations`, each tile's frame shows the unit's activation for
    the current input (grey idle .. orange fully active); `order` sorts the grid.
    """
    W = np.asarray(thetas[0])[:, 1:]
    n = W.shape[0]
    tiles = charts.weight_tiles(W) if tiles is None else tiles
    grid, cols = charts.tile_grid(tiles, unit_frames(activations, n), order)
    k = max(1, min(6, int(700 // grid.shape[1]), int(540 // grid.shape[0])))
    grid = charts.zoom(grid, k)
    gh, gw = grid.shape[:2]
    w, h = max(MIN_SIZE[0], gw + 40), max(MIN_SIZE[1], gh + 150)
    img, draw = _canvas((w, h))
    charts.title(draw, w, heading or f"Hidden units: the incoming weights of all {n} first-layer units")
    charts.text(draw, (w / 2, 38), subtitle or "each tile is one unit's 784 weights as a 28x28 image; "
                "red pixels excite the unit, blue ones inhibit it (each tile on its own scale)",
                13, charts.MUTED, "ma")
    img.paste(Image.fromarray(grid), ((w - gw) // 2, 64))
    y = 64 + gh + 18
    lx = w // 2 - 260 if activations is not None else w // 2 - 120
    charts.colour_legend(img, (lx, y, lx + 240, y + 14), "weight: inhibits", "excites")
    if activations is not None:
        ramp = charts.sequential(np.linspace(0, 1, 240))
        img.paste(Image.fromarray(np.repeat(ramp[None], 14, axis=0)), (w // 2 + 20, y))
        draw.rectangle((w // 2 + 20, y, w // 2 + 260, y + 14), outline=charts.MUTED)
        charts.text(draw, (w // 2 + 20, y + 18), "frame: idle", 12, charts.MUTED)
        charts.text(draw, (w // 2 + 260, y + 18), "fully active", 12, charts.MUTED, "ra")
    return img


def evidence_image(image: np.ndarray, maps: np.ndarray, digits: Sequence[int], probs: np.ndarray,
                   heading: str = "What the network sees") -> Image.Image:
    """The 28x28 input beside the evidence maps for the winner and the runner-up."""
    k = 8
    side = 28 * k
    img, draw = _canvas((max(MIN_SIZE[0], 3 * side + 160), MIN_SIZE[1]))
    w = img.width
    charts.title(draw, w, heading)
    charts.text(draw, (w / 2, 38), "evidence = input x gradient of the digit's score: red pixels raise "
                "the score, blue ones lower it", 13, charts.MUTED, "ma")
    vmax = float(np.abs(maps).max()) or 1.0
    panels = [(charts.gray_rgb(np.asarray(image).reshape(28, 28)), "input (what the network sees)")]
    for d, m in zip(digits, maps, strict=True):
        panels.append((charts.diverging(m, vmax), f"evidence for {d} ({100 * float(probs[d]):.1f}%)"))
    gap = (w - len(panels) * side) // (len(panels) + 1)
    for i, (rgb, caption) in enumerate(panels):
        x = gap + i * (side + gap)
        img.paste(Image.fromarray(charts.zoom(rgb, k)), (x, 90))
        draw.rectangle((x - 1, 89, x + side, 90 + side), outline=charts.MUTED)
        charts.text(draw, (x + side / 2, 90 + side + 10), caption, 15, anchor="ma")
    charts.colour_legend(img, (w // 2 - 150, 90 + side + 50, w // 2 + 150, 90 + side + 64),
                         "lowers the score", "raises the score")
    order = np.argsort(-np.asarray(probs))
    line = "   ".join(f"{int(d)}: {100 * float(probs[d]):.1f}%" for d in order[:5])
    charts.text(draw, (w / 2, 90 + side + 100), f"most probable: {line}", 14, anchor="ma")
    return img


def confusion_image(conf: Confusion, selected: tuple[int, int] | None = None
                    ) -> tuple[Image.Image, charts.HeatGeometry]:
    """The confusion matrix of `conf` as a heat map with counts and per-digit accuracy."""
    return charts.confusion_heat_map(
        conf.matrix, f"Confusion on {conf.name}",
        f"accuracy {100 * conf.accuracy:.2f}% ({conf.correct:,} of {len(conf.y):,})", selected)


def _top2(p: np.ndarray) -> str:
    a, b = np.argsort(-p)[:2]
    return f"{a} {100 * p[a]:.0f}% · {b} {100 * p[b]:.0f}%"


def misreads_image(conf: Confusion, indices: Sequence[int] | None = None, heading: str | None = None,
                   limit: int = MISREADS_SHOWN, cols: int = 10, scale: int = 3,
                   min_size: tuple[int, int] = MIN_SIZE, empty: str = "no misread images") -> Image.Image:
    """A gallery of misread images with the true digit and the top-2 probabilities under each."""
    idx = list(conf.misread() if indices is None else indices)
    shown = idx[:limit]
    captions = [f"true {conf.y[i]}\n{_top2(conf.probs[i])}" for i in shown]
    more = f"; the {len(shown)} most confident shown" if len(idx) > len(shown) else ""
    if cols < 10:
        more = "; most confident first" if len(idx) > 1 else ""
    return charts.gallery(
        [conf.X[i] for i in shown], captions,
        heading or f"Misread on {conf.name}: {len(idx)} images",
        (f"under each: the true digit and the network's two most probable answers{more}" if cols >= 10
         else f"true digit, two best answers{more}"),
        cols=cols, scale=scale, min_size=min_size, empty=empty)


def robustness_image(result: dict, size: tuple[int, int] = (1200, 800)) -> Image.Image:
    """Accuracy against each distortion's strength, one panel per distortion, one line per set."""
    panels = []
    for axis in result["axes"]:
        series = [charts.Series(name, axis["levels"], acc, charts.PALETTE[i % len(charts.PALETTE)],
                                markers=True)
                  for i, (name, acc) in enumerate(axis["accuracy"].items())]
        panels.append(charts.Panel(axis["name"].capitalize(), axis["label"], "accuracy", series,
                                   ylim=(0.0, 1.0), percent=True, legend="bottom"))
    return charts.panels_image(panels, "Robustness: accuracy as the digits are distorted", size, cols=3,
                               subtitle="each distortion applied to the normalised 28x28 images; "
                                        "the undistorted images are at 0 (scale 1)")


def has_history(meta: dict) -> bool:
    """True when a model.json carries a training history with at least one cost."""
    h = meta.get("history") if isinstance(meta, dict) else None
    return isinstance(h, dict) and bool(h.get("cost"))


def history_of(model) -> tuple[dict, str] | None:
    """(history, chart heading) of a model's training, or None when none was recorded.

    A committee shows the last member that carries a history (members trained
    before histories were recorded carry none), named in the heading.
    """
    if has_history(model.meta):
        h = model.meta["history"]
        return h, f"Training: {len(h['cost'])} iterations"
    if model.members:
        for i in reversed(range(len(model.members))):
            member = model.members[i]
            if has_history(member.meta):
                h = member.meta["history"]
                name = member.source.name if member.source else f"member {i + 1}"
                kind = f"{member.layout}" + (", deskewed" if member.deskew else "")
                return h, f"Training of committee {name} ({kind}): {len(h['cost'])} iterations"
    return None


ACCURACY_KEYS = (
    ("validation_accuracy", "MNIST validation"),
    ("pen_holdout_accuracy", "pen, held-out writers"),
    ("train_accuracy", "MNIST training images"),
    ("test_accuracy", "MNIST test"),
)


def training_panels(history: dict) -> list[charts.Panel]:
    """The cost per iteration and the accuracies per stage of a training history, as two panels."""
    cost = [float(c) for c in history.get("cost", [])]
    stages = history.get("stages", []) or []
    ends = [int(s.get("iteration", 0)) for s in stages]
    panels = [charts.Panel("Cost per iteration", "iteration", "cost (log scale)",
                           [charts.Series("cost", list(range(1, len(cost) + 1)), cost)], log_y=True,
                           vlines=ends[:-1],
                           note="dashed lines: stage ends" if len(ends) > 1 else "")]
    series = []
    for i, (key, label) in enumerate(ACCURACY_KEYS):
        pts = [(int(s["iteration"]), float(s[key])) for s in stages if key in s and "iteration" in s]
        if pts:
            series.append(charts.Series(label, [p[0] for p in pts], [p[1] for p in pts],
                                        charts.PALETTE[i % len(charts.PALETTE)], markers=True))
    panels.append(charts.Panel("Accuracy after each stage", "iteration", "accuracy", series,
                               percent=True, legend="bottom",
                               note="" if series else "measured when a stage ends"))
    return panels


def training_image(history: dict, heading: str = "Training", size: tuple[int, int] = (1000, 760),
                   subtitle: str = "") -> Image.Image:
    """Cost and accuracy against iteration (the Training tab, training.png, the Retrain dialog)."""
    return charts.panels_image(training_panels(history), heading, size, cols=1, subtitle=subtitle)


def live_cost_image(costs: Sequence[float], size: tuple[int, int]) -> Image.Image:
    """The cost-per-iteration chart alone, small, as the Retrain dialog draws it while training runs."""
    panel = training_panels({"cost": list(costs)})[0]
    panel.note = "" if costs else "waiting for the first iteration"
    return charts.panels_image([panel], "", size)


# --------------------------------------------------------------------------- the report


def save_png(img: Image.Image, path: Path) -> None:
    """Write `img` as PNG atomically."""
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False)
    atomic_write_bytes(Path(path), buf.getvalue())


CAPTIONS = {
    "units.png": "The incoming weights of every first-layer hidden unit, each drawn as a 28x28 "
                 "image (red excites the unit, blue inhibits it).",
    "confusion.png": "Confusion matrix on the 10,000 MNIST test images: rows are the true digit, "
                     "columns the network's answer; the right column gives each digit's accuracy.",
    "misreads.png": "The MNIST test images the network got wrong, most confidently wrong first, "
                    "with the true digit and the two most probable answers.",
    "robustness.png": "Accuracy as the digits are rotated, scaled, shifted, thickened or made noisy, "
                      "on a fixed sample of MNIST test digits and on the pen validation writers.",
    "training.png": "Cost per L-BFGS-B iteration and accuracy after each training stage, as recorded "
                    "in model.json when these weights were trained.",
}


def write_report(recogniser: Recogniser, out: str | os.PathLike, data_dir=None, pen_dir=None,
                 log: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    """Write every view, report.json and index.html into `out`; returns report.json's content."""
    out = Path(out)
    model = recogniser.model
    log("classifying the MNIST test images")
    conf = compute_confusion(recogniser, MNIST_TEST, labelled_sets(data_dir, pen_dir)[0][1])
    log("measuring robustness")
    robust = compute_robustness(recogniser, data_dir, pen_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DigitpadError(f"{out}: cannot create the report folder ({exc.strerror or exc})") from None
    files: list[str] = []

    def put(name: str, img: Image.Image) -> None:
        save_png(img, out / name)
        files.append(name)

    put("units.png", units_image(model.thetas))
    put("confusion.png", confusion_image(conf)[0])
    put("misreads.png", misreads_image(conf))
    put("robustness.png", robustness_image(robust))
    history = history_of(model)
    if history is not None:
        put("training.png", training_image(*history))
    report = {
        "weights": str(model.source) if model.source else None,
        "layer_sizes": list(model.layout.sizes),
        "accuracy": conf.accuracy,
        "correct": conf.correct,
        "n": int(len(conf.y)),
        "per_class": conf.per_class,
        "confusion": conf.matrix.tolist(),
        "misread": int(len(conf.y) - conf.correct),
        "robustness": robust,
        "files": [*files, "report.json", "index.html"],
    }
    atomic_write_text(out / "report.json", json.dumps(report, indent=2) + "\n")
    atomic_write_text(out / "index.html", _index_html(report, files))
    return report


def _index_html(report: dict, files: Sequence[str]) -> str:
    e = html.escape
    sizes = "-".join(map(str, report["layer_sizes"]))
    figures = "\n".join(
        f'<figure><img src="{e(f)}" alt="{e(f)}"><figcaption>{e(CAPTIONS.get(f, f))}</figcaption></figure>'
        for f in files)
    per_digit = " ".join(f"{d}: {100 * a:.1f}%" for d, a in enumerate(report["per_class"]))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Digitpad report</title>
<style>body{{font-family:sans-serif;max-width:1250px;margin:2em auto;color:#222}}
figure{{margin:2em 0}}img{{max-width:100%;border:1px solid #ddd}}
figcaption{{color:#555;margin-top:.4em}}</style>
</head><body>
<h1>Inside the network</h1>
<p>Weights: <code>{e(str(report["weights"]))}</code> ({e(sizes)}).
MNIST test accuracy: <b>{100 * report["accuracy"]:.2f}%</b> ({report["correct"]:,} of {report["n"]:,}).</p>
<p>Per digit: {e(per_digit)}. The numbers are in <a href="report.json">report.json</a>.</p>
{figures}
</body></html>
"""


def sort_order(values: np.ndarray) -> np.ndarray:
    """Indices sorting `values` from largest to smallest (ties by index)."""
    return np.argsort(-np.asarray(values), kind="stable")


def explain_input(recogniser: Recogniser, image: np.ndarray, network: int = 0) -> dict[str, Any]:
    """Everything the live views need for one 28x28 input: activations, push, evidence, probabilities.

    The probabilities are the recogniser's (a committee's average); the
    activations, push and evidence are those of its `network`-th network
    (0: the first), fed the input as that network reads it (slant-normalised
    when it deskews), which is returned as ``"seen"``.
    """
    from model.inputs.deskew import deskew

    nets = recogniser.model.networks
    net = nets[min(max(network, 0), len(nets) - 1)]
    image = np.asarray(image, dtype=np.float32).reshape(28, 28)
    seen = deskew(image) if net.deskew else image
    probs = np.asarray(recogniser.classify(image.reshape(1, 28, 28))[0], dtype=np.float64)
    ex = explain.explain(net.thetas, seen)
    top = [int(d) for d in np.argsort(-probs)[:2]]
    return {
        "probs": probs,
        "winner": top[0],
        "runner_up": top[1],
        "hidden": ex.hidden,
        "push": explain.push(net.thetas, ex, top[0]),
        "evidence": explain.evidence(net.thetas, ex, top),
        "explanation": ex,
        "seen": seen,
    }
