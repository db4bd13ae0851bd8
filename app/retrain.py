"""Model → Retrain…: train a new network from the app, in a worker thread.

The worker runs `model.training_run.train_model` (or `model.datasets.mnist.download`)
and talks to Tk only through a `queue.Queue` that the dialog polls with
``after()``; it never touches a widget. Cancel sets a `threading.Event`:
training stops after the current iteration and returns the best weights so
far. When a run ends, its test accuracy is shown beside the current model's
and the user chooses whether to use the new weights; accepted weights are
saved atomically to the user's weights folder (the shipped ones are never
touched) and stay in use after a restart. Beside the fields and the progress
bar, the cost of every iteration is drawn as the run goes (the chart of the
Training tab of Inside the network, drawn by `model.views.report`).

Recipes (`app.recipes`, the same settings as ``digitpad train --recipe``):
*Quick* (a fine-tune of the shipped weights, minutes), *Standard* (the
default: from scratch on MNIST and the pen digits, about a quarter of an
hour) and *Full* (the shipped model's own recorded settings, MNIST + pen
digits + distortion stages) fill the fields with their real settings (a
committee's members too) and show the time a measured run took; editing a
field makes it *Custom*.
*Include my samples* adds the user's taught digits. The keep-or-discard
choice shows current and new side by side on MNIST test, the held-out pen
writers and the user's samples.

The dialog takes callbacks from the main window (the current model, where
to report training progress, how to use new weights, what to do on close),
never the window itself.

Keyboard: Tab moves between the fields, Alt+Q / Alt+T / Alt+F / Alt+C choose the
recipe, Alt+I includes the samples, Alt+S starts, Escape cancels a run (or
closes the dialog when nothing runs), Alt+U uses the new weights, Alt+K
keeps the current ones, Alt+D downloads MNIST (and the pen digits a recipe needs).
"""

from __future__ import annotations

import queue
import threading
import time
import tkinter as tk
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from tkinter import filedialog, messagebox, ttk
from typing import TYPE_CHECKING, Any

from app.state import TrainingState
from app.texts import clock, percent
from model.errors import DigitpadError

if TYPE_CHECKING:
    from model.net.weights import Model
    from model.training_run import RunResult

POLL_MS = 100
JOIN_SECONDS = 3.0
CHART_SIZE = (380, 300)
"""The live cost chart beside the fields and the progress bar (drawn by model.views.report, as in the
Training tab of Inside the network)."""
RECIPE_PAD = 4
"""Pixels above the recipe description."""


def mnist_missing(folder: Path) -> list[str]:
    """Names of the MNIST files not found (neither gzipped nor plain) in `folder`."""
    from model.datasets.mnist import FILES

    missing = []
    for img, lbl, _ in FILES.values():
        for stem in (img, lbl):
            if not ((folder / (stem + ".gz")).is_file() or (folder / stem).is_file()):
                missing.append(stem + ".gz")
    return missing


def networks_text(config) -> str:
    """The Hidden layers field for a config: its network(s) in ``--member`` terms, e.g. ``300``,
    ``500:deskew:pen6`` or, for a committee, ``500:deskew:pen6 + 800:deskew:pen6``."""
    from model.train_settings import MemberSpec

    if len(config.members) > 1:
        return " + ".join(map(str, config.members))
    pen = config.pen_copies if config.pen else 3  # penN matters only when the pen digits are in
    return str(MemberSpec(tuple(config.hidden), config.deskew, pen))


@dataclass
class Settings:
    """Validated dialog fields."""

    hidden: list[int]
    lam: float
    max_iter: int
    limit: int
    data_dir: str
    deskew: bool = False
    pen_copies: int = 3
    members: tuple = ()
    """A committee's `MemberSpec`s (two or more), else empty."""


class RetrainDialog(tk.Toplevel):
    """The Retrain dialog; one at a time, owned by the main window.

    `current_model` gives the weights in use (compared with the new ones);
    `on_training` hears every change of the run (on the Tk thread);
    `use_weights` saves and switches to a finished run's weights (it may
    raise `DigitpadError` or `OSError`); `on_closed` runs as the dialog goes
    (no run is left training then).
    """

    def __init__(self, root: tk.Misc, current_model: Callable[[], Model | None],
                 on_training: Callable[[TrainingState], None],
                 use_weights: Callable[[RunResult], object], on_closed: Callable[[], None]):
        super().__init__(root)
        from model.datasets.mnist import find_data_dir

        self.current_model = current_model
        self.on_training = on_training
        self.use_weights = use_weights
        self.on_closed = on_closed
        self.title("Retrain — Digitpad")
        self.transient(root)
        self.resizable(False, False)
        self.protocol("WM_DELETE_WINDOW", self.close)
        self.events: queue.Queue = queue.Queue()
        self.cancel_event = threading.Event()
        self.closing = threading.Event()
        """Set when the main window closes: a worker still running skips what is left (the
        comparison reads thousands of digits) so that it ends within `JOIN_SECONDS`."""
        self.worker: threading.Thread | None = None
        self.phase = "idle"  # idle, downloading, training, cancelling, done, failed
        self.progress: Any = None  # the last model.net.train.Progress
        self.result: Any = None  # the last RunResult
        self.download_text = ""
        self.error = ""
        self.accepted: str | None = None  # "used" or "kept" once the user chose
        self._close_when_done = False
        self._started = 0.0
        self._poll_job: str | None = None
        self.current_accuracy: float | None = None
        self.costs: list[float] = []  # the cost after each iteration of the run, for the chart
        self._chart_drawn = -1

        self.v_hidden = tk.StringVar(self, "300")
        self.v_lambda = tk.StringVar(self, "1.0")
        self.v_iter = tk.StringVar(self, "400")
        self.v_limit = tk.StringVar(self, "60000")
        self.v_data = tk.StringVar(self, str(find_data_dir()))
        self.v_data.trace_add("write", lambda *a: self.render())
        self._init_recipes()
        self._build()
        self._steady_recipe_height()
        self._recipe_chosen()  # the default recipe's own settings in the fields, then render
        self._place_beside(root)
        self.focus_first()

    def _place_beside(self, root: tk.Misc) -> None:
        """Open beside the main window (right, else below) when the screen has room, so one
        can keep drawing while a run goes on; else centred over it."""
        self.update_idletasks()
        w, h = self.winfo_reqwidth(), self.winfo_reqheight()
        rx, ry = root.winfo_rootx(), root.winfo_rooty()
        rw, rh = root.winfo_width(), root.winfo_height()
        sw, sh = self.winfo_screenwidth(), self.winfo_screenheight()
        if rx + rw + 12 + w <= sw:
            x, y = rx + rw + 12, ry
        elif ry + rh + 40 + h <= sh:
            x, y = rx, ry + rh + 40
        else:
            x, y = max(0, rx + (rw - w) // 2), max(0, ry + (rh - h) // 3)
        self.geometry(f"+{x}+{y}")

    def focus_first(self) -> None:
        """Keyboard focus to the first field, its text selected (typing replaces it)."""
        self.e_hidden.focus_set()
        self.e_hidden.select_range(0, tk.END)
        self.e_hidden.icursor(tk.END)

    # -- construction ---------------------------------------------------------
    def _build(self) -> None:
        self._build_recipes()
        f = ttk.Frame(self, padding=12)
        f.grid(row=1, column=0, sticky="nsew")
        f.columnconfigure(1, weight=1)

        def field(row: int, label: str, var: tk.StringVar, hint: str, width: int = 12) -> ttk.Entry:
            ttk.Label(f, text=label).grid(row=row, column=0, sticky="w", pady=2, padx=(0, 8))
            e = ttk.Entry(f, textvariable=var, width=width)
            e.grid(row=row, column=1, sticky="w", pady=2)
            ttk.Label(f, text=hint, foreground="#777777").grid(row=row, column=2, columnspan=2,
                                                               sticky="w", padx=(8, 0))
            return e

        self.e_hidden = field(0, "Hidden layers", self.v_hidden, "e.g. 300,100 or 500:deskew + 800", width=34)
        self.e_lambda = field(1, "Lambda (λ)", self.v_lambda, "L2 regularisation")
        self.e_iter = field(2, "Max iterations", self.v_iter, "L-BFGS-B iterations")
        self.e_limit = field(3, "Training images", self.v_limit, "first N of MNIST's 60,000")
        ttk.Label(f, text="MNIST folder").grid(row=4, column=0, sticky="w", pady=2, padx=(0, 8))
        self.e_data = ttk.Entry(f, textvariable=self.v_data, width=44)
        self.e_data.grid(row=4, column=1, columnspan=2, sticky="we", pady=2)
        self.b_browse = ttk.Button(f, text="Browse…", command=self.browse)
        self.b_browse.grid(row=4, column=3, sticky="w", padx=(6, 0))

        self.data_label = ttk.Label(f, text="", wraplength=520, justify="left")
        self.data_label.grid(row=5, column=0, columnspan=3, sticky="w", pady=(4, 0))
        self.b_download = ttk.Button(f, text="Download", underline=0, command=self.start_download)
        self.b_download.grid(row=5, column=3, sticky="w", padx=(6, 0), pady=(4, 0))

        ttk.Separator(f).grid(row=6, column=0, columnspan=4, sticky="we", pady=10)
        self.bar = ttk.Progressbar(f, mode="determinate", length=520, maximum=1)
        self.bar.grid(row=7, column=0, columnspan=4, sticky="we")
        self.progress_label = ttk.Label(f, text="", font="TkFixedFont")
        self.progress_label.grid(row=8, column=0, columnspan=4, sticky="w", pady=(4, 0))
        self.status_label = ttk.Label(f, text="", wraplength=560, justify="left")
        self.status_label.grid(row=9, column=0, columnspan=4, sticky="w", pady=(6, 0))

        buttons = ttk.Frame(f)
        buttons.grid(row=10, column=0, columnspan=4, sticky="e", pady=(12, 0))
        self.b_start = ttk.Button(buttons, text="Start", underline=0, command=self.start)
        self.b_cancel = ttk.Button(buttons, text="Cancel", command=self.cancel_or_close)
        self.b_use = ttk.Button(buttons, text="Use new weights", underline=0, command=self.use_new)
        self.b_keep = ttk.Button(buttons, text="Keep current", underline=0, command=self.keep_current)
        for i, b in enumerate((self.b_use, self.b_keep, self.b_start, self.b_cancel)):
            b.grid(row=0, column=i, padx=(6, 0))

        self.chart = tk.Label(f, borderwidth=0, background="white")
        self.chart.grid(row=0, column=4, rowspan=11, sticky="n", padx=(14, 0))

        for seq, fn in (("<Alt-s>", self.start), ("<Alt-S>", self.start),
                        ("<Escape>", self.cancel_or_close),
                        ("<Alt-u>", self.use_new), ("<Alt-U>", self.use_new),
                        ("<Alt-k>", self.keep_current), ("<Alt-K>", self.keep_current),
                        ("<Alt-d>", self.start_download), ("<Alt-D>", self.start_download),
                        ("<Return>", self._default_action)):
            self.bind(seq, lambda e, fn=fn: (fn(), "break")[1])

    # -- state -> widgets -------------------------------------------------------
    @property
    def busy(self) -> bool:
        """True while a worker (training or download) runs."""
        return self.phase in ("downloading", "training", "cancelling")

    def render(self) -> None:
        """Map the dialog's state onto its widgets, and tell the main window."""
        busy = self.busy
        folder = Path(self.v_data.get().strip() or ".")
        missing = mnist_missing(folder)
        if self.phase == "downloading":
            data_text = f"Downloading MNIST into {folder}… {self.download_text}"
        elif missing:
            data_text = f"MNIST files missing in {folder}: {', '.join(missing)}"
        else:
            data_text = f"MNIST found in {folder}"
        self.data_label.configure(text=data_text, foreground="#b35900" if missing else "#2e7d32")
        field_state = "disabled" if busy else "normal"
        for w in (self.e_hidden, self.e_lambda, self.e_iter, self.e_limit, self.e_data, self.b_browse):
            w.configure(state=field_state)
        pen_missing = self._render_recipes(folder, busy)
        if pen_missing and not missing and self.phase != "downloading":
            self.data_label.configure(text=f"{data_text}; pen digits missing ({pen_missing})",
                                      foreground="#b35900")
        elif self._needs_pen() and not missing and self.phase != "downloading":
            self.data_label.configure(text=f"{data_text}, pen digits beside it")
        need = bool(missing or pen_missing)
        self.b_download.configure(state="normal" if need and not busy else "disabled")
        self.b_start.configure(state="disabled" if busy or need else "normal")
        self.b_cancel.configure(text="Cancel" if busy else "Close",
                                state="disabled" if self.phase == "cancelling" else "normal")
        choosing = self.phase == "done" and self.result is not None and self.accepted is None
        for b in (self.b_use, self.b_keep):
            if choosing:
                b.grid()
            else:
                b.grid_remove()

        p = self.progress
        if p is not None:
            self.bar.configure(maximum=max(1, p.max_iter), value=p.iteration)
            self.progress_label.configure(
                text=f"iteration {p.iteration}/{p.max_iter}   cost {p.cost:.5f}   "
                     f"elapsed {clock(p.elapsed)}   ETA {clock(p.eta)}")
        elif self.phase == "training":
            self.bar.configure(value=0)
            self.progress_label.configure(
                text=f"loading data…   elapsed {clock(time.monotonic() - self._started)}")
        else:
            self.bar.configure(value=0)
            self.progress_label.configure(text="")
        self.status_label.configure(text=self._status_text(),
                                    foreground="#b00020" if self.phase == "failed" else "")
        self._draw_chart()
        self.on_training(TrainingState(
            running=self.phase in ("training", "cancelling"),
            iteration=p.iteration if p else 0, max_iter=p.max_iter if p else 0,
            status=self._short_status()))

    def _draw_chart(self) -> None:
        """Redraw the cost chart when the run has reported new iterations."""
        if self._chart_drawn == len(self.costs):
            return
        from app.pad import photo_from_pil
        from model.views.report import live_cost_image

        self._chart_photo = photo_from_pil(live_cost_image(self.costs, CHART_SIZE), master=self)
        self.chart.configure(image=self._chart_photo)
        self._chart_drawn = len(self.costs)

    def _status_text(self) -> str:
        if self.phase == "failed":
            return self.error
        if self.phase == "cancelling":
            return "Cancelling: stopping after this iteration…"
        if self.phase == "training":
            if self.measuring:
                return "Measuring the current and the new weights on the same digits…"
            return "Training… (Escape cancels and keeps the best weights so far)"
        if self.phase == "done" and self.result is not None:
            meta = self.result.meta
            cur = self.current_accuracy
            head = (f"Cancelled after {meta['iterations']} iterations; best weights so far:"
                    if self.result.cancelled else f"Finished {meta['iterations']} iterations:")
            text = (f"{head} test accuracy {percent(meta['test_accuracy'])} "
                    f"({'-'.join(map(str, meta['layer_sizes']))}, {meta['training_seconds']:.0f} s).\n"
                    f"Current weights: test accuracy {percent(cur)}.")
            if self.comparison is not None:
                text += "\n" + self._comparison_text()
            if self.accepted == "used":
                return text + "\nNow using the new weights (saved; they stay after a restart)."
            if self.accepted == "kept":
                return text + "\nKept the current weights."
            return text + "\nUse the new weights?"
        if self.phase == "idle" and self.error:
            return self.error
        return ""

    def _short_status(self) -> str:
        if self.phase == "done" and self.result is not None:
            return "Training cancelled" if self.result.cancelled else "Training finished"
        if self.phase == "failed":
            return "Training failed"
        return ""

    def debug_state(self) -> dict:
        """JSON-able snapshot for tests."""
        p = self.progress
        return {
            "phase": self.phase,
            "iteration": p.iteration if p else 0,
            "max_iter": p.max_iter if p else 0,
            "cancelled": bool(self.result.cancelled) if self.result is not None else None,
            "test_accuracy": self.result.meta["test_accuracy"] if self.result is not None else None,
            "accepted": self.accepted,
            "status": self.status_label.cget("text"),
            "error": self.error,
            "data": self.data_label.cget("text"),
            "download_enabled": str(self.b_download.cget("state")) == "normal",
            "recipe": self.v_recipe.get(),
            "recipe_summary": self.recipe_label.cget("text"),
            "include_samples": bool(self.v_samples.get()),
            "samples_enabled": str(self.c_samples.cget("state")) == "normal",
            "comparison": self.comparison.to_json() if self.comparison is not None else None,
            "start_enabled": str(self.b_start.cget("state")) == "normal",
            "chart_points": self._chart_drawn,
        }

    # -- recipes (Quick / Full / Custom, include my samples) -------------------
    def _init_recipes(self) -> None:
        """Read the recipes (Full from the shipped model.json) and the user's samples."""
        from app import paths, recipes
        from model.errors import DigitpadError
        from model.fileio import read_json
        from model.personal.samples import SampleStore, samples_dir

        try:
            shipped = read_json(paths.shipped_weights_dir() / "model.json", DigitpadError)
            shipped = shipped if isinstance(shipped, dict) else {}
            self.recipes = {k: recipes.recipe(k, shipped, str(paths.shipped_weights_dir()))
                            for k in recipes.NAMES}
        except DigitpadError as exc:
            self.recipes = {k: recipes.recipe(k) if k == "standard" else
                            recipes.Recipe(k, None, "", problem=str(exc)) for k in recipes.NAMES}
        self.samples, _ = SampleStore(samples_dir()).load()
        self.comparison: Any = None
        self.measuring = False
        self._filling = False
        self.v_recipe = tk.StringVar(self, recipes.DEFAULT)
        self.v_samples = tk.BooleanVar(self, bool(self.samples))
        for var in (self.v_hidden, self.v_lambda, self.v_iter, self.v_limit):
            var.trace_add("write", lambda *a: self._field_edited())

    def _build_recipes(self) -> None:
        f = ttk.Frame(self, padding=(12, 12, 12, 0))
        f.grid(row=0, column=0, sticky="nsew")
        ttk.Label(f, text="Recipe").grid(row=0, column=0, sticky="w", padx=(0, 8))
        radios = ttk.Frame(f)
        radios.grid(row=0, column=1, sticky="w")
        self.r_recipe = {}
        for i, (key, text, under) in enumerate((("quick", "Quick (fine-tune)", 0),
                                                ("standard", "Standard (from scratch)", 1),
                                                ("full", "Full (the shipped model's recipe)", 0),
                                                ("custom", "Custom", 0))):
            r = ttk.Radiobutton(radios, text=text, value=key, variable=self.v_recipe, underline=under,
                                command=self._recipe_chosen)
            r.grid(row=0, column=i, sticky="w", padx=(0, 12))
            self.r_recipe[key] = r
        self.recipe_label = ttk.Label(f, text="", wraplength=560, justify="left", foreground="#555555")
        self.recipe_label.grid(row=1, column=0, columnspan=2, sticky="nw", pady=(RECIPE_PAD, 0))
        n = sum(len(s.label) for s in self.samples)
        self.c_samples = ttk.Checkbutton(
            f, text=f"Include my samples ({n} digit{'s' * (n != 1)}, each with "
                    f"{self._sample_copies()} distorted copies)" if n else "Include my samples (none yet)",
            variable=self.v_samples, underline=0, command=self.render)
        self.c_samples.grid(row=2, column=0, columnspan=2, sticky="w", pady=(4, 0))
        for seq, key in (("<Alt-q>", "quick"), ("<Alt-Q>", "quick"), ("<Alt-t>", "standard"),
                         ("<Alt-T>", "standard"), ("<Alt-f>", "full"),
                         ("<Alt-F>", "full"), ("<Alt-c>", "custom"), ("<Alt-C>", "custom")):
            self.bind(seq, lambda e, key=key: (self._choose(key), "break")[1])
        for seq in ("<Alt-i>", "<Alt-I>"):
            self.bind(seq, lambda e: (self.c_samples.invoke(), "break")[1])

    @staticmethod
    def _sample_copies() -> int:
        from app.recipes import SAMPLE_COPIES

        return SAMPLE_COPIES

    def _steady_recipe_height(self) -> None:
        """Reserve the tallest recipe description's height, so that choosing a recipe, editing a
        field (Custom) or starting a run never resizes the dialog under the user's hand."""
        chosen, folder = self.v_recipe.get(), Path(self.v_data.get())
        tallest = 0
        for key in (*self.recipes, "custom"):
            self.v_recipe.set(key)
            self._render_recipes(folder, busy=False)
            self.update_idletasks()
            tallest = max(tallest, self.recipe_label.winfo_reqheight())
        self.v_recipe.set(chosen)
        self.recipe_label.master.rowconfigure(1, minsize=tallest + RECIPE_PAD)  # the row holds the pad too

    def _choose(self, key: str) -> None:
        if self.busy or str(self.r_recipe[key].cget("state")) == "disabled":
            return
        self.v_recipe.set(key)
        self._recipe_chosen()

    def _recipe_chosen(self) -> None:
        """A recipe was picked: show its settings in the fields."""
        recipe = self.recipes.get(self.v_recipe.get())
        if recipe is not None and recipe.config is not None:
            c = recipe.config
            self._filling = True
            try:
                self.v_hidden.set(networks_text(c))
                self.v_lambda.set(f"{c.lam:g}")
                self.v_iter.set(str(c.max_iter))
                self.v_limit.set(str(c.limit or 60000))
            finally:
                self._filling = False
            if self.focus_get() is self.e_hidden:
                self.focus_first()  # typing replaces the filled-in value
        self.render()

    def _field_edited(self) -> None:
        """Typing in a field leaves the recipe: the run is then Custom (MNIST only)."""
        if self._filling or not hasattr(self, "recipe_label"):
            return
        if self.v_recipe.get() != "custom":
            self.v_recipe.set("custom")
            self.render()

    def _pen_missing(self, folder: Path) -> str:
        """Why the pen digits cannot be found beside `folder` ("" when they are there)."""
        from model.datasets import pendigits
        from model.errors import DigitpadError

        try:
            pendigits.find_pen_file(None, str(folder))
        except DigitpadError:
            return "Download fetches them"
        return ""

    def _needs_pen(self) -> bool:
        """Whether the chosen recipe trains on the pen digits too."""
        recipe = self.recipes.get(self.v_recipe.get())
        return bool(recipe is not None and recipe.config is not None and recipe.config.pen)

    def _render_recipes(self, folder: Path, busy: bool) -> str:
        """Recipe widgets from the state; returns why the pen data is missing for Full, or ""."""
        from app.recipes import fmt_duration

        key = self.v_recipe.get()
        for k, r in self.r_recipe.items():
            unavailable = k in self.recipes and self.recipes[k].config is None
            r.configure(state="disabled" if busy or unavailable else "normal")
        self.c_samples.configure(state="normal" if self.samples and not busy else "disabled")
        pen_missing = ""
        recipe = self.recipes.get(key)
        if recipe is None:
            text = "Custom: MNIST only, with the settings below."
        elif recipe.config is None:
            text = f"{key.capitalize()} is not available: {recipe.problem}"
        else:
            if recipe.expected_seconds is None:
                took = "Its time has not been measured yet."
            else:
                took = (f"It took {fmt_duration(recipe.expected_seconds)} when measured {recipe.measured}; "
                        "expect about as long here, the window stays usable.")
            text = f"{recipe.summary}\n{took}"
            if recipe.config.pen:
                pen_missing = self._pen_missing(folder)
        self.recipe_label.configure(text=text)
        return pen_missing

    def _recipe_config(self, fields_config):
        """The config to run: the chosen recipe's own settings (the same as ``digitpad train
        --recipe``), with the dialog's MNIST folder; Custom: the fields'."""
        import copy

        recipe = self.recipes.get(self.v_recipe.get())
        if recipe is None or recipe.config is None:
            return fields_config
        config = copy.deepcopy(recipe.config)
        config.data_dir = fields_config.data_dir
        return config

    def _recipe_job(self) -> dict:
        """What the worker needs besides the config, read on the Tk thread."""
        return {"samples": list(self.samples), "include": bool(self.samples and self.v_samples.get()),
                "current": self.current_model()}

    @staticmethod
    def _sample_extra(job: dict):
        """Worker thread: the user's samples as extra training rows, or None."""
        if not job.get("include"):
            return None
        from app.recipes import sample_rows

        X, y = sample_rows(job["samples"])
        return (X, y, "user_samples") if len(y) else None

    @staticmethod
    def _compare(config, result, job: dict, trained_on_samples: bool):
        """Worker thread: current vs new on MNIST test, held-out pen writers, the user's samples."""
        from app import recipes
        from model.datasets import pendigits

        missing: list[str] = []
        try:
            holdout = pendigits.parse_holdout(config.pen_holdout) if config.pen else None
            sets = recipes.evaluation_sets(config.data_dir, job.get("samples"), holdout, missing)
            table = recipes.compare(job.get("current"), recipes.model_of(result), sets,
                                    trained_on_samples)
        except (DigitpadError, ValueError) as exc:
            table = recipes.Comparison()
            missing.append(str(exc))
        table.missing = missing
        return table

    def _comparison_text(self) -> str:
        lines = []
        for r in self.comparison.rows:
            note = f" ({r.note})" if r.note else ""
            lines.append(f"  {r.name} ({r.n:,}): current {percent(r.current)}, new {percent(r.new)}{note}")
        if self.comparison.missing:
            lines.append("  not compared: " + "; ".join(self.comparison.missing))
        return "Read by both on the same digits:\n" + "\n".join(lines)

    # -- actions --------------------------------------------------------------
    def _settings(self) -> Settings:
        from model.train_settings import MemberSpec

        members = [MemberSpec.parse(part) for part in self.v_hidden.get().split("+")]
        single = members[0]  # the network, or a committee's first member
        try:
            lam = float(self.v_lambda.get())
        except ValueError:
            raise ValueError(f"lambda must be a number like 1.0; got {self.v_lambda.get()!r}") from None
        if not lam >= 0:
            raise ValueError("lambda must be 0 or more")
        try:
            max_iter = int(self.v_iter.get())
            limit = int(self.v_limit.get().replace(",", "").replace("_", ""))
        except ValueError:
            raise ValueError("max iterations and training images must be whole numbers") from None
        if max_iter < 1 or limit < 1:
            raise ValueError("max iterations and training images must be at least 1")
        return Settings(list(single.hidden), lam, max_iter, min(limit, 60000), self.v_data.get().strip(),
                        single.deskew, single.pen_copies, tuple(members) if len(members) > 1 else ())

    def _default_action(self) -> None:
        if self.phase == "done" and self.accepted is None:
            self.use_new()
        elif not self.busy:
            self.start()

    def start(self) -> None:
        """Validate the fields and start training in a worker thread."""
        if self.busy or str(self.b_start.cget("state")) == "disabled":
            return
        try:
            st = self._settings()
        except ValueError as exc:
            self.phase, self.error = "idle", str(exc)
            self.render()
            return
        from model.training_run import TrainConfig

        config = TrainConfig(
            hidden=st.hidden, lam=st.lam, max_iter=st.max_iter, data_dir=st.data_dir or None,
            limit=st.limit, deskew=st.deskew, pen_copies=st.pen_copies, members=st.members,
            command=(f"Digitpad Retrain dialog: hidden {self.v_hidden.get().strip()}, lambda {st.lam}, "
                     f"max iterations {st.max_iter}, {st.limit} training images"))
        config = self._recipe_config(config)
        self.comparison, self.measuring = None, False
        self.cancel_event = threading.Event()
        self.phase, self.error, self.progress, self.result, self.accepted = "training", "", None, None, None
        self.costs = []
        self._started = time.monotonic()
        job = self._recipe_job()
        self.worker = threading.Thread(target=self._train_worker, args=(config, self.cancel_event, job),
                                       name="digitpad-train", daemon=True)
        self.worker.start()
        self.render()
        self._schedule_poll()

    def _train_worker(self, config, cancel: threading.Event, job: dict | None = None) -> None:
        """Runs in the worker thread: only puts messages on the queue."""
        from model.training_run import train_model

        job = job or {}
        try:
            extra = self._sample_extra(job)
            result = train_model(config, out=None, progress=lambda p: self.events.put(("progress", p)),
                                 cancel=cancel, extra=extra)
            if self.closing.is_set():  # the app is quitting: nobody will read a comparison
                return
            self.events.put(("measuring",))
            self.events.put(("compared", self._compare(config, result, job, extra is not None)))
            self.events.put(("trained", result))
        except DigitpadError as exc:
            self.events.put(("error", str(exc)))
        except MemoryError:
            self.events.put(("error", "not enough memory for this training run (try fewer images "
                                      "or smaller layers)"))
        except Exception as exc:  # reported in the dialog, never as a traceback
            self.events.put(("error", f"training failed: {type(exc).__name__}: {exc}"))

    def start_download(self) -> None:
        """Fetch MNIST (and for Full the pen digits) beside the folder field's folder, in a worker."""
        folder = Path(self.v_data.get().strip() or ".")
        if self.busy or not (mnist_missing(folder) or (self._needs_pen() and self._pen_missing(folder))):
            return
        self.phase, self.error, self.download_text = "downloading", "", ""
        with_pen = self._needs_pen() and bool(self._pen_missing(folder))
        self.worker = threading.Thread(target=self._download_worker,
                                       args=(self.v_data.get().strip(), with_pen),
                                       name="digitpad-download", daemon=True)
        self.worker.start()
        self.render()
        self._schedule_poll()

    def _download_worker(self, dest: str, with_pen: bool = False) -> None:
        from model.datasets import mnist

        def progress(name: str, done: int, total: int) -> None:
            self.events.put(("download", name, done, total))

        try:
            folder = mnist.download(dest or None, progress=progress)
            if with_pen:
                from model.datasets import pendigits

                pendigits.download(pendigits.default_pen_dir(folder), progress=progress)
            self.events.put(("downloaded", str(folder)))
        except DigitpadError as exc:
            self.events.put(("error", str(exc)))
        except Exception as exc:
            self.events.put(("error", f"download failed: {type(exc).__name__}: {exc}"))

    def _schedule_poll(self) -> None:
        if self._poll_job is None:
            self._poll_job = self.after(POLL_MS, self._poll)

    def _poll(self) -> None:
        """On the Tk thread: apply every message the worker queued, then re-render once."""
        self._poll_job = None
        error = None
        finished = False
        while True:
            try:
                msg = self.events.get_nowait()
            except queue.Empty:
                break
            kind = msg[0]
            if kind == "progress":
                self.progress = msg[1]
                self.costs.append(msg[1].cost)
            elif kind == "measuring":
                self.measuring = True
            elif kind == "compared":
                self.comparison, self.measuring = msg[1], False
            elif kind == "trained":
                self.result, self.phase = msg[1], "done"
                finished = True
                model = self.current_model()
                self.current_accuracy = model.meta.get("test_accuracy") if model else None
            elif kind == "download":
                _, name, done, total = msg
                self.download_text = (f"{name} {100 * done / total:.0f}%" if total
                                      else f"{name} {done // 1024} KiB")
            elif kind == "downloaded":
                self.phase, self.download_text = "idle", ""
                finished = True
            elif kind == "error":
                self.phase, self.error = "failed", msg[1]
                finished = True
                error = msg[1]
        if self._close_when_done and not self.busy:
            self.destroy_dialog()
            return
        was_busy = self.busy
        self.render()
        if finished and not was_busy:
            self.focus_first()
        if error:
            messagebox.showerror("Retrain", error, parent=self)
        if self.busy:
            self._schedule_poll()

    def cancel_or_close(self) -> None:
        """Escape / Cancel: stop a running job, or close the dialog when idle."""
        if self.phase == "training":
            self.cancel_event.set()
            self.phase = "cancelling"
            self.render()
        elif self.phase in ("downloading", "cancelling"):
            return
        else:
            self.close()

    def use_new(self) -> None:
        """Save the new weights as the user's weights and switch the app to them."""
        if self.phase != "done" or self.result is None or self.accepted is not None:
            return
        try:
            self.use_weights(self.result)
        except (DigitpadError, OSError) as exc:
            messagebox.showerror("Cannot save weights", str(exc), parent=self)
            return
        self.accepted = "used"
        self.render()

    def keep_current(self) -> None:
        """Discard the new weights."""
        if self.phase == "done" and self.result is not None and self.accepted is None:
            self.accepted = "kept"
            self.render()

    def browse(self) -> None:
        """Choose the MNIST folder."""
        folder = filedialog.askdirectory(parent=self, title="MNIST folder", mustexist=False)
        if folder:
            self.v_data.set(folder)

    def close(self) -> None:
        """Close the dialog; a running job is cancelled first (its result discarded)."""
        if self.busy:
            self.cancel_event.set()
            if self.phase == "training":
                self.phase = "cancelling"
            self._close_when_done = True
            self.render()
            self.withdraw()
            return
        self.destroy_dialog()

    def destroy_dialog(self) -> None:
        """Tell the main window (dialog gone, so no training either) and destroy the dialog."""
        if self._poll_job is not None:
            self.after_cancel(self._poll_job)
            self._poll_job = None
        self.on_closed()
        self.destroy()

    def shutdown(self) -> None:
        """The main window is closing: stop the worker, wait for it briefly, no more polling."""
        self.closing.set()
        self.cancel_event.set()
        if self._poll_job is not None:
            self.after_cancel(self._poll_job)
            self._poll_job = None
        if self.worker is not None and self.worker.is_alive():
            self.worker.join(JOIN_SECONDS)
