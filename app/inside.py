"""Model → Inside the network…: a window with tabs that show how the network reads a digit.

Tabs: Hidden units (every first-layer unit's weights as a tile, framed by
its activation for the digit on the pad, sortable by activation or by how
much it pushes the answer; hover or click a unit for its details), What the
network sees (the input beside evidence maps for the winner and the
runner-up), Confusion (a heat map on a chosen set; click a cell for its
images), Training (cost and accuracy from the weights' history) and
Robustness (accuracy against distortions). Every picture is drawn by
`model.views.report` with Pillow, so "Save as PNG" writes the very image of
`digitpad report`.

The window takes callbacks, not the main window: one returns the current
recogniser, one the 28x28 input the network sees for the digit on the pad
(None when the pad is empty). It polls them every `TICK_MS`, so the live
views follow the pen. Slow work (a confusion matrix, the robustness curves)
runs in worker threads (`app.workers`) that talk to Tk only through a
queue drained on the same tick; results are cached per weights in the user cache (see
`model.views.report`). Closing the window cancels the workers; they stop at
their next step and nothing touches Tk after that.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from pathlib import Path
from tkinter import filedialog, messagebox, ttk
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from app.pad import photo_from_pil
from app.workers import Workers
from model.views import charts, report

TICK_MS = 50
"""How often the window looks at the pad's input and at the workers' queue."""
TABS = ("units", "sees", "confusion", "training", "robustness")
TAB_TITLES = {"units": "Hidden units", "sees": "What the network sees", "confusion": "Confusion",
              "training": "Training", "robustness": "Robustness"}
SORTS = (("number", "unit number"), ("activation", "activation"), ("push", "push to the answer"))
DETAIL_WIDTH = 270


class InsideWindow(tk.Toplevel):
    """The "Inside the network" window; one at a time, owned by the main window."""

    def __init__(self, master: tk.Misc, get_recogniser: Callable[[], Any],
                 get_input: Callable[[], np.ndarray | None],
                 sets: Callable[[], list[report.LabelledSet]] | None = None,
                 data_dir: str | None = None, on_close: Callable[[], None] | None = None,
                 on_change: Callable[[], None] | None = None):
        super().__init__(master)
        self.title("Inside the network — Digitpad")
        self.protocol("WM_DELETE_WINDOW", self.close)
        self.get_recogniser = get_recogniser
        self.get_input = get_input
        self.data_dir = data_dir
        self.sets_source = sets or (lambda: report.labelled_sets(data_dir))
        self.on_close = on_close
        self.on_change = on_change  # told after every refresh (the main window's test snapshot)
        self.workers = Workers(("confusion", "robustness"), "digitpad-inside")
        self._tick_job: str | None = None
        self._resize_job: str | None = None
        self._photos: dict[str, tk.PhotoImage] = {}
        self.closed = False

        self.recogniser: Any = None
        self.input: np.ndarray | None = None
        self._input_obj: object = None
        self.live: dict[str, Any] | None = None  # report.explain_input of the current input
        self.tiles: np.ndarray | None = None
        self.order: np.ndarray | None = None
        self.unit: int | None = None  # the unit whose details are shown
        self.pinned = False
        self.updates = 0
        self._grid_view: tuple[float, int, int] | None = None  # (scale, cols, n)
        self.sets: list[report.LabelledSet] = []
        self.confusions: dict[str, report.Confusion] = {}
        self.conf_selected: tuple[int, int] | None = None
        self._conf_view: tuple[charts.HeatGeometry, float] | None = None
        self.robust: dict | None = None
        self.errors: dict[str, str] = {}
        self.saved = ""
        self.note = ""

        self.v_sort = tk.StringVar(self, "number")
        self.v_net = tk.IntVar(self, 0)  # which of a committee's networks the unit views show
        self.v_set = tk.StringVar(self, "")
        self._build()
        w, h = min(1120, self.winfo_screenwidth() - 40), min(800, self.winfo_screenheight() - 90)
        self.geometry(f"{w}x{h}")
        self.bind("<Escape>", lambda e: self.close())
        for seq in ("<Control-s>", "<Control-S>"):
            self.bind(seq, lambda e: (self.save_png(), "break")[1])
        self.notebook.focus_set()  # keys (Ctrl+Tab, Alt+letter, Ctrl+S, Escape) work at once
        self._check_model()
        self._tick()

    # -- construction ---------------------------------------------------------
    def _build(self) -> None:
        self.columnconfigure(0, weight=1)
        self.rowconfigure(0, weight=1)
        nb = self.notebook = ttk.Notebook(self)
        nb.grid(row=0, column=0, sticky="nsew", padx=6, pady=6)
        self.frames: dict[str, ttk.Frame] = {}
        for name in TABS:
            f = ttk.Frame(nb, padding=6)
            f.columnconfigure(0, weight=1)
            f.rowconfigure(1, weight=1)
            nb.add(f, text=TAB_TITLES[name], underline=0)  # Alt+H, W, C, T, R
            self.frames[name] = f
        nb.enable_traversal()
        nb.bind("<<NotebookTabChanged>>", lambda e: self._tab_changed())

        self.canvases: dict[str, tk.Canvas] = {}
        self.status_labels: dict[str, ttk.Label] = {}
        self.save_buttons: dict[str, ttk.Button] = {}
        for name in TABS:
            f = self.frames[name]
            c = tk.Canvas(f, background="white", highlightthickness=0, width=760, height=640)
            self.canvases[name] = c
            c.create_image(0, 0, anchor="nw", tags=("img",))
            bottom = ttk.Frame(f)
            bottom.grid(row=2, column=0, columnspan=3, sticky="ew", pady=(6, 0))
            bottom.columnconfigure(0, weight=1)
            self.status_labels[name] = ttk.Label(bottom, text="", foreground="#555555")
            self.status_labels[name].grid(row=0, column=0, sticky="w")
            b = ttk.Button(bottom, text="Save as PNG…", command=self.save_png)
            b.grid(row=0, column=1, sticky="e")
            self.save_buttons[name] = b
            c.bind("<Configure>", lambda e: self._resized())

        # Hidden units: sort choice above the grid, details on the right.
        f = self.frames["units"]
        top = ttk.Frame(f)
        top.grid(row=0, column=0, columnspan=2, sticky="w", pady=(0, 4))
        ttk.Label(top, text="Sort by:").grid(row=0, column=0, padx=(0, 6))
        self.sort_buttons: dict[str, ttk.Radiobutton] = {}
        for i, (value, label) in enumerate(SORTS):
            b = ttk.Radiobutton(top, text=label, value=value, variable=self.v_sort, command=self.refresh)
            b.grid(row=0, column=i + 1, padx=4)
            self.sort_buttons[value] = b
        # A committee: which network's units to show (buttons made when the weights load).
        self.net_frame = ttk.Frame(top)
        self.net_frame.grid(row=0, column=len(SORTS) + 1, padx=(18, 0))
        self.net_buttons: list[ttk.Radiobutton] = []
        self.canvases["units"].grid(row=1, column=0, sticky="nsew")
        self.canvases["units"].bind("<Motion>", self._units_hover)
        self.canvases["units"].bind("<Button-1>", self._units_click)
        detail = ttk.Frame(f, width=DETAIL_WIDTH)
        detail.grid(row=1, column=1, sticky="ns", padx=(8, 0))
        self.unit_title = ttk.Label(detail, text="", font=("TkDefaultFont", 11, "bold"))
        self.unit_title.grid(row=0, column=0, sticky="w")
        self.unit_image = tk.Label(detail, borderwidth=0, background="white")
        self.unit_image.grid(row=1, column=0, sticky="w", pady=4)
        self.unit_text = ttk.Label(detail, text="", justify="left", wraplength=DETAIL_WIDTH)
        self.unit_text.grid(row=2, column=0, sticky="w")
        self.unit_bars = tk.Label(detail, borderwidth=0, background="white")
        self.unit_bars.grid(row=3, column=0, sticky="w", pady=4)
        self.later = tk.Label(detail, borderwidth=0, background="white")
        self.later.grid(row=4, column=0, sticky="w", pady=4)

        # What the network sees.
        self.canvases["sees"].grid(row=1, column=0, sticky="nsew")

        # Confusion: set chooser and progress above, heat map left, gallery right.
        f = self.frames["confusion"]
        top = ttk.Frame(f)
        top.grid(row=0, column=0, columnspan=3, sticky="ew", pady=(0, 4))
        ttk.Label(top, text="Set:").grid(row=0, column=0, padx=(0, 6))
        self.set_box = ttk.Combobox(top, textvariable=self.v_set, state="readonly", width=32)
        self.set_box.grid(row=0, column=1)
        self.set_box.bind("<<ComboboxSelected>>", lambda e: self._set_chosen())
        self.conf_bar = ttk.Progressbar(top, mode="determinate", length=220, maximum=1)
        self.conf_bar.grid(row=0, column=2, padx=10)
        f.columnconfigure(0, weight=3)
        f.columnconfigure(1, weight=2)
        self.canvases["confusion"].configure(width=600, height=560)
        self.canvases["confusion"].grid(row=1, column=0, sticky="nsew")
        self.canvases["confusion"].bind("<Button-1>", self._confusion_click)
        self.gallery = tk.Canvas(f, background="white", highlightthickness=0, width=420, height=560)
        self.gallery.grid(row=1, column=1, sticky="nsew", padx=(6, 0))
        self.gallery.create_image(0, 0, anchor="nw", tags=("img",))
        scroll = ttk.Scrollbar(f, orient="vertical", command=self.gallery.yview)
        scroll.grid(row=1, column=2, sticky="ns")
        self.gallery.configure(yscrollcommand=scroll.set)
        self.gallery.bind("<Button-4>", lambda e: self.gallery.yview_scroll(-3, "units"))
        self.gallery.bind("<Button-5>", lambda e: self.gallery.yview_scroll(3, "units"))
        self.gallery.bind("<MouseWheel>", lambda e: self.gallery.yview_scroll(-e.delta // 40, "units"))

        # Training and Robustness: one chart each.
        self.canvases["training"].grid(row=1, column=0, sticky="nsew")
        f = self.frames["robustness"]
        self.robust_bar = ttk.Progressbar(f, mode="determinate", length=300, maximum=1)
        self.robust_bar.grid(row=0, column=0, sticky="w", pady=(0, 4))
        self.canvases["robustness"].grid(row=1, column=0, sticky="nsew")

    # -- helpers ----------------------------------------------------------------
    @property
    def tab(self) -> str:
        """The name of the tab on show."""
        try:
            return TABS[self.notebook.index(self.notebook.select())]
        except (tk.TclError, ValueError):
            return TABS[0]

    def _show(self, canvas: tk.Canvas, key: str, img: Image.Image, fit: bool = True) -> float:
        """Show a Pillow image at the canvas's top left, shrunk to fit if needed; returns its scale."""
        scale = 1.0
        if fit:
            cw, ch = max(canvas.winfo_width(), 50), max(canvas.winfo_height(), 50)
            scale = min(1.0, cw / img.width, ch / img.height)
            if scale < 1.0:
                img = img.resize((max(1, int(img.width * scale)), max(1, int(img.height * scale))),
                                 Image.Resampling.BOX)
        photo = photo_from_pil(img, master=self)
        self._photos[key] = photo
        canvas.itemconfigure("img", image=photo)
        canvas.configure(scrollregion=(0, 0, img.width, img.height))
        return scale

    def _canvas_size(self, name: str, minimum: tuple[int, int] = (600, 420)) -> tuple[int, int]:
        c = self.canvases[name]
        return max(c.winfo_width(), minimum[0]), max(c.winfo_height(), minimum[1])

    # -- the model and the input ------------------------------------------------
    def _check_model(self) -> bool:
        """Notice a new recogniser (weights changed): forget everything computed for the old one."""
        rec = self.get_recogniser()
        if rec is self.recogniser:
            return False
        self.workers.reset()
        self.recogniser = rec
        self.tiles = None
        self.unit, self.pinned = None, False
        self.confusions.clear()
        self.conf_selected = None
        self.robust = None
        self.errors.clear()
        self._input_obj = object()  # recompute the live views with the new network
        self.live = None
        self.v_net.set(0)
        self._make_net_buttons()
        self._network_changed()
        return True

    def _make_net_buttons(self) -> None:
        """One radio button per network of a committee; none for a single network."""
        for child in self.net_frame.winfo_children():
            child.destroy()
        self.net_buttons = []
        nets = self.recogniser.model.networks if self.recogniser is not None else []
        if len(nets) < 2:
            return
        ttk.Label(self.net_frame, text="Network:").grid(row=0, column=0, padx=(0, 6))
        for i, net in enumerate(nets):
            label = f"{i + 1}: {net.layout}" + (" deskewed" if net.deskew else "")
            b = ttk.Radiobutton(self.net_frame, text=label, value=i, variable=self.v_net,
                                command=self._network_chosen)
            b.grid(row=0, column=i + 1, padx=4)
            self.net_buttons.append(b)

    def _network(self):
        """The network (a `Model`) whose units, push and evidence the window shows."""
        nets = self.recogniser.model.networks
        return nets[min(self.v_net.get(), len(nets) - 1)]

    def _network_changed(self) -> None:
        """Tiles, details and live views for the chosen network."""
        self.tiles = None
        self.unit, self.pinned = None, False
        if self.recogniser is not None:
            self.tiles = charts.weight_tiles(np.asarray(self._network().thetas[0])[:, 1:])
            if self.input is not None:
                self.live = report.explain_input(self.recogniser, self.input, self.v_net.get())

    def _units_heading(self) -> str | None:
        nets = self.recogniser.model.networks
        if len(nets) < 2:
            return None
        net = self._network()
        return (f"Hidden units of network {self.v_net.get() + 1} of {len(nets)} ({net.layout}"
                + (", deskewed" if net.deskew else "") + f"): the incoming weights of all "
                f"{net.thetas[0].shape[0]} first-layer units")

    def _network_chosen(self) -> None:
        self._network_changed()
        self.refresh()

    def _check_input(self) -> bool:
        """Take the pad's current 28x28 input; True when it changed."""
        img = self.get_input()
        if img is self._input_obj:
            return False
        self._input_obj = img
        new = None if img is None else np.asarray(img, dtype=np.float32).reshape(28, 28)
        if (new is None and self.input is None) or (
                new is not None and self.input is not None and np.array_equal(new, self.input)
                and self.live is not None):
            return False
        self.input = new
        self.live = None
        if new is not None and self.recogniser is not None:
            self.live = report.explain_input(self.recogniser, new, self.v_net.get())
        self.updates += 1
        return True

    def _tick(self) -> None:
        """Every TICK_MS: follow the pad, apply the workers' messages, refresh what changed."""
        self._tick_job = None
        if self.closed:
            return
        model = self._check_model()
        live = self._check_input()
        work = self._drain()
        if model or work or (live and self.tab in ("units", "sees")):
            self.refresh()
        self._tick_job = self.after(TICK_MS, self._tick)

    def _resized(self) -> None:
        if self._resize_job is not None:
            self.after_cancel(self._resize_job)
        self._resize_job = self.after(80, self._after_resize)

    def _after_resize(self) -> None:
        self._resize_job = None
        if not self.closed:
            self.refresh()

    def _tab_changed(self) -> None:
        self._start_needed_jobs()
        self.refresh()

    # -- state -> widgets -------------------------------------------------------
    def refresh(self) -> None:
        """Draw the tab on show from the window's state (the other tabs draw when shown)."""
        if self.closed:
            return
        tab = self.tab
        getattr(self, f"_render_{tab}")()
        self.save_buttons[tab].configure(state="normal" if self._tab_image(tab, check=True) else "disabled")
        if self.note:
            self.status_labels[tab].configure(text=self.note)
        if self.on_change is not None:
            self.on_change()

    def _activations(self) -> np.ndarray | None:
        return None if self.live is None else self.live["hidden"][0]

    def _sorted_order(self) -> np.ndarray | None:
        mode = self.v_sort.get()
        if self.live is None or mode == "number":
            return None
        values = self.live["hidden"][0] if mode == "activation" else self.live["push"]
        return report.sort_order(values)

    def _render_units(self) -> None:
        rec = self.recogniser
        if rec is None or self.tiles is None:
            self.status_labels["units"].configure(text="No weights loaded.")
            return
        n = self.tiles.shape[0]
        self.order = self._sorted_order()
        grid, cols = charts.tile_grid(self.tiles, report.unit_frames(self._activations(), n), self.order)
        img = Image.fromarray(grid)
        cw, ch = self._canvas_size("units", (300, 300))
        scale = min(cw / img.width, ch / img.height)
        if scale >= 2:
            k = int(scale)
            img = Image.fromarray(charts.zoom(grid, k))
            scale = float(k)
        elif scale < 1:
            img = img.resize((int(img.width * scale), int(img.height * scale)), Image.Resampling.BOX)
        else:
            scale = 1.0
        self._show(self.canvases["units"], "units", img, fit=False)
        self._grid_view = (scale, cols, n)
        if self.live is None:
            text = (f"{n} first-layer units. Draw a digit on the pad to see which units it switches on; "
                    "point at a unit for its details.")
        else:
            a = self.live["hidden"][0]
            text = (f"Read as {self.live['winner']} ({100 * self.live['probs'][self.live['winner']]:.1f}%). "
                    f"Frames show each unit's activation (grey idle, orange fully on): "
                    f"{int((a > 0.5).sum())} of {n} above 0.5.")
        nets = rec.model.networks
        if len(nets) > 1:
            text = (f"Network {self.v_net.get() + 1} of the committee's {len(nets)}"
                    + (" (reads the input deskewed)" if self._network().deskew else "") + ". " + text)
        self.status_labels["units"].configure(text=text)
        self._render_unit_detail()

    def _render_unit_detail(self) -> None:
        rec = self.recogniser
        unit = self.unit
        thetas = self._network().thetas if rec is not None else None
        if thetas is None or unit is None:
            self.unit_title.configure(text="Point at a unit")
            self.unit_text.configure(text="Its weights, activation and outgoing weights show here.")
            self.unit_image.grid_remove()
            self.unit_bars.grid_remove()
        else:
            self.unit_title.configure(text=f"Unit {unit}" + ("  (pinned)" if self.pinned else ""))
            big = Image.fromarray(charts.zoom(self.tiles[unit], 7))
            self._photos["unit"] = photo_from_pil(big, master=self)
            self.unit_image.configure(image=self._photos["unit"])
            self.unit_image.grid()
            lines = []
            if self.live is not None:
                w = self.live["winner"]
                lines.append(f"activation {self.live['hidden'][0][unit]:.3f}")
                lines.append(f"push to {w}: {self.live['push'][unit]:+.3f}")
            else:
                lines.append("activation: draw a digit")
            out = np.asarray(thetas[1], dtype=np.float64)[:, 1 + unit]
            to_digits = len(thetas) == 2
            lines.append("outgoing weights " + ("to the ten digits:" if to_digits else
                                                f"to the {len(out)} units of layer 2:"))
            self.unit_text.configure(text="\n".join(lines))
            bars = charts.bar_chart(out, [str(d) for d in range(len(out))] if to_digits else [], "",
                                    (DETAIL_WIDTH - 10, 130),
                                    highlight=self.live["winner"] if self.live and to_digits else None)
            self._photos["bars"] = photo_from_pil(bars, master=self)
            self.unit_bars.configure(image=self._photos["bars"])
            self.unit_bars.grid()
        # Deeper networks: the later hidden layers' activations as bars.
        if self.live is not None and len(self.live["hidden"]) > 1:
            imgs = [charts.bar_chart(a, [], f"layer {k + 2}: {len(a)} units", (DETAIL_WIDTH - 10, 90),
                                     signed=False)
                    for k, a in enumerate(self.live["hidden"][1:])]
            stack = Image.new("RGB", (DETAIL_WIDTH - 10, sum(i.height for i in imgs)), "white")
            y = 0
            for i in imgs:
                stack.paste(i, (0, y))
                y += i.height
            self._photos["later"] = photo_from_pil(stack, master=self)
            self.later.configure(image=self._photos["later"])
            self.later.grid()
        else:
            self.later.grid_remove()

    def _render_sees(self) -> None:
        if self.live is None:
            img = Image.new("RGB", self._canvas_size("sees"), "white")
            charts.text(ImageDraw.Draw(img), (20, 20),
                        "Draw a digit on the pad: its 28x28 input and the evidence for the network's "
                        "two best answers show here.", 15, charts.MUTED)
            self._show(self.canvases["sees"], "sees", img)
            self.status_labels["sees"].configure(text="")
            return
        self._show(self.canvases["sees"], "sees", self._sees_image())
        w, r = self.live["winner"], self.live["runner_up"]
        self.status_labels["sees"].configure(
            text=f"Read as {w} ({100 * self.live['probs'][w]:.1f}%), runner-up {r} "
                 f"({100 * self.live['probs'][r]:.1f}%).")

    def _sees_image(self) -> Image.Image:
        live = self.live
        return report.evidence_image(live["seen"], live["evidence"], [live["winner"], live["runner_up"]],
                                     live["probs"])

    def _render_confusion(self) -> None:
        if not self.sets:
            self.sets = list(self.sets_source())
            self.set_box.configure(values=[name for name, _ in self.sets])
            if self.sets and not self.v_set.get():
                self.v_set.set(self.sets[0][0])
        name = self.v_set.get()
        conf = self.confusions.get(name)
        error = self.errors.get(f"confusion:{name}")
        st = "error" if error else self.workers.status["confusion"]
        done, total = self.workers.progress.get("confusion", (0, 1))
        self.conf_bar.configure(maximum=max(total, 1), value=done if st == "computing" else
                                (total if conf is not None else 0))
        if conf is None:
            self._conf_view = None
            img = Image.new("RGB", (600, 200), "white")
            self._show(self.canvases["confusion"], "confusion", img)
            self._show(self.gallery, "gallery", Image.new("RGB", (400, 100), "white"), fit=False)
            text = {"computing": f"Computing the confusion matrix on {name}…",
                    "error": f"Cannot compute: {error}"}.get(st, "")
            self.status_labels["confusion"].configure(text=text)
            return
        cw, ch = self._canvas_size("confusion", (420, 380))
        img, geom = charts.confusion_heat_map(
            conf.matrix, f"Confusion on {conf.name}",
            f"accuracy {100 * conf.accuracy:.2f}% ({conf.correct:,} of {len(conf.y):,})",
            self.conf_selected, size=(max(cw, 560), max(ch, 480)))
        scale = self._show(self.canvases["confusion"], "confusion", img)
        self._conf_view = (geom, scale)
        self.status_labels["confusion"].configure(
            text=f"{name}: {len(conf.y) - conf.correct} of {len(conf.y):,} misread. Click a cell to see "
                 "its images.")
        self._show(self.gallery, "gallery", self._gallery_image(conf, 4), fit=False)

    def _gallery_image(self, conf: report.Confusion, cols: int) -> Image.Image:
        width = max(self.gallery.winfo_width() - 4, 300) if cols <= 4 else 0
        if self.conf_selected is None:
            return charts.gallery([], [], "Images of a cell", "", cols=cols, scale=2, min_size=(width, 120),
                                  empty="click a cell of the matrix")
        t, p = self.conf_selected
        idx = conf.cell(t, p)
        what = f"{t} read as {p}" if t != p else f"{t} read right"
        return report.misreads_image(conf, idx, heading=f"{what}: {len(idx)} images", cols=cols, scale=2,
                                     min_size=(width, 0), empty="no images in this cell")

    def _render_training(self) -> None:
        rec = self.recogniser
        history = report.history_of(rec.model) if rec is not None else None
        if history is None:
            img = Image.new("RGB", self._canvas_size("training"), "white")
            charts.text(ImageDraw.Draw(img), (20, 20),
                        "These weights carry no training history: they were trained before Digitpad "
                        "recorded one.\nWeights trained by Model → Retrain… or `digitpad train` record the "
                        "cost of every iteration\nand the accuracy after every stage.", 15, charts.MUTED)
            self._show(self.canvases["training"], "training", img)
            self.status_labels["training"].configure(text="")
            return
        self._show(self.canvases["training"], "training",
                   report.training_image(*history, self._canvas_size("training")))
        self.status_labels["training"].configure(text=f"From {rec.model.source}/model.json.")

    def _render_robustness(self) -> None:
        st = self.workers.status["robustness"]
        done, total = self.workers.progress.get("robustness", (0, 1))
        self.robust_bar.configure(maximum=max(total, 1), value=done if st == "computing" else
                                  (total if self.robust else 0))
        if self.robust is None:
            self._show(self.canvases["robustness"], "robustness", Image.new("RGB", (600, 100), "white"))
            text = {"computing": f"Distorting digits and measuring accuracy… {done}/{total}",
                    "error": f"Cannot compute: {self.errors.get('robustness')}"}.get(st, "")
            self.status_labels["robustness"].configure(text=text)
            return
        self._show(self.canvases["robustness"], "robustness",
                   report.robustness_image(self.robust, self._canvas_size("robustness", (800, 560))))
        sets = ", ".join(f"{name}" for name in self.robust["sets"])
        self.status_labels["robustness"].configure(text=f"On {sets}; cached for these weights.")

    # -- images to save ---------------------------------------------------------
    def _tab_image(self, tab: str, check: bool = False) -> Image.Image | bool | None:
        """The picture "Save as PNG" writes for `tab` (with `check`: only whether there is one)."""
        rec = self.recogniser
        if rec is None:
            return None
        if tab == "units":
            if check:
                return True
            sub = None
            if self.live is not None:
                sub = (f"frames: each unit's activation for the digit on the pad, read as "
                       f"{self.live['winner']}; sorted by {dict(SORTS)[self.v_sort.get()]}")
            return report.units_image(self._network().thetas, self._activations(), self.order,
                                      heading=self._units_heading(), subtitle=sub or "",
                                      tiles=self.tiles)
        if tab == "sees":
            return bool(self.live) if check else (self._sees_image() if self.live else None)
        if tab == "confusion":
            conf = self.confusions.get(self.v_set.get())
            if conf is None or check:
                return conf is not None
            img = report.confusion_image(conf, self.conf_selected)[0]
            if self.conf_selected is not None:
                img = charts.side_by_side([img, self._gallery_image(conf, 6)])
            return img
        if tab == "training":
            history = report.history_of(rec.model)
            if check or history is None:
                return history is not None
            return report.training_image(*history)
        if tab == "robustness":
            if check or not self.robust:
                return bool(self.robust)
            return report.robustness_image(self.robust)
        return None

    def save_png(self, path: str | Path | None = None) -> None:
        """Save the tab on show as a PNG (asking where, unless `path` is given)."""
        tab = self.tab
        if not self._tab_image(tab, check=True):
            return
        if path is None:
            path = filedialog.asksaveasfilename(parent=self, title="Save as PNG", defaultextension=".png",
                                                initialfile=f"{tab}.png", filetypes=[("PNG image", "*.png")])
            if not path:
                return
        path = Path(path)
        try:
            report.save_png(self._tab_image(tab), path)
        except OSError as exc:
            messagebox.showerror("Cannot save", f"{path}: {exc.strerror or exc}", parent=self)
            return
        self.saved = str(path)
        self.note = f"Saved {path.name}"
        self.refresh()
        self.note = ""

    # -- mouse ------------------------------------------------------------------
    def _unit_at(self, x: float, y: float) -> int | None:
        if self._grid_view is None:
            return None
        scale, cols, n = self._grid_view
        cell = 28 + 2 * charts.CELL_BORDER
        i = charts.grid_cell(x / scale, y / scale, cols, n, cell)
        if i is None:
            return None
        return int(self.order[i]) if self.order is not None else i

    def _units_hover(self, event: tk.Event) -> None:
        if self.pinned:
            return
        unit = self._unit_at(event.x, event.y)
        if unit is not None and unit != self.unit:
            self.unit = unit
            self._unit_changed()

    def _units_click(self, event: tk.Event) -> None:
        unit = self._unit_at(event.x, event.y)
        if unit is None:
            return
        self.pinned = not (self.pinned and unit == self.unit)
        self.unit = unit
        self._unit_changed()

    def _unit_changed(self) -> None:
        self._render_unit_detail()
        if self.on_change is not None:
            self.on_change()

    def _confusion_click(self, event: tk.Event) -> None:
        if self._conf_view is None:
            return
        geom, scale = self._conf_view
        cell = geom.at(event.x / scale, event.y / scale)
        if cell is not None:
            self.click_cell(*cell)

    def click_cell(self, true: int, predicted: int) -> None:
        """Select a cell of the confusion matrix and show its images."""
        self.conf_selected = (true, predicted)
        self.gallery.yview_moveto(0)
        self.refresh()

    def _set_chosen(self) -> None:
        self.conf_selected = None
        self._start_needed_jobs()
        self.refresh()

    # -- background work ----------------------------------------------------------
    def _start_needed_jobs(self) -> None:
        tab = self.tab
        if self.recogniser is None:
            return
        if tab == "confusion":
            if not self.sets:
                self._render_confusion()
            name = self.v_set.get()
            loader = dict(self.sets).get(name)
            running = self.workers.jobs.get("confusion")
            failed = f"confusion:{name}" in self.errors
            wanted = loader is not None and name not in self.confusions and not failed
            if wanted and (running is None or running.what != name):
                self.workers.start("confusion", self._confusion_work, self.recogniser, name, loader,
                                   what=name)
        elif (tab == "robustness" and self.robust is None and "robustness" not in self.workers.jobs
              and "robustness" not in self.errors):
            self.workers.start("robustness", self._robustness_work, self.recogniser)

    def _confusion_work(self, progress, cancel, rec, name: str, loader) -> report.Confusion:
        return report.compute_confusion(rec, name, loader, progress=progress, cancel=cancel)

    def _robustness_work(self, progress, cancel, rec) -> dict:
        return report.compute_robustness(rec, self.data_dir, progress=progress, cancel=cancel)

    def _drain(self) -> bool:
        """Apply the workers' messages (on the Tk thread); True when something changed."""
        changed, ended = self.workers.drain()
        for job in ended:
            if job.kind == "done":
                if job.name == "confusion":
                    self.confusions[job.value.name] = job.value
                else:
                    self.robust = job.value
            elif job.kind == "error":  # kept until the weights change (or the window is opened again)
                self.errors[job.name if job.name == "robustness" else f"{job.name}:{job.what}"] = job.value
            if self.tab in ("confusion", "robustness"):
                self._start_needed_jobs()
        return changed

    # -- closing ------------------------------------------------------------------
    def close(self) -> None:
        """Close the window: cancel the workers (they stop at their next step) and forget it."""
        if self.closed:
            return
        self.closed = True
        self.workers.cancel_all()
        for job in (self._tick_job, self._resize_job):
            if job is not None:
                self.after_cancel(job)
        self._tick_job = self._resize_job = None
        if self.on_close is not None:
            self.on_close()
        self.destroy()

    def shutdown(self) -> None:
        """The app is quitting: cancel the workers and wait for them briefly."""
        self.close()
        self.workers.join()

    # -- test hook ----------------------------------------------------------------
    def debug_state(self) -> dict:
        """JSON-able snapshot for tests."""
        conf = self.confusions.get(self.v_set.get())
        c = self.canvases["confusion"]
        info: dict[str, Any] = {
            "tab": self.tab,
            "input": self.input is not None,
            "winner": self.live["winner"] if self.live else None,
            "activation_sum": float(self._activations().sum()) if self.live else None,
            "activations_head": [round(float(v), 4) for v in self._activations()[:8]] if self.live else None,
            "updates": self.updates,
            "sort": self.v_sort.get(),
            "network": self.v_net.get(),
            "net_buttons": [[b.winfo_rootx() + b.winfo_width() // 2, b.winfo_rooty() + b.winfo_height() // 2]
                            for b in self.net_buttons],
            "order_head": [int(v) for v in self.order[:5]] if self.order is not None else None,
            "unit": self.unit,
            "pinned": self.pinned,
            "unit_text": self.unit_text.cget("text"),
            "grid": ([self.canvases["units"].winfo_rootx(), self.canvases["units"].winfo_rooty(),
                      self._grid_view[0], self._grid_view[1], 28 + 2 * charts.CELL_BORDER]
                     if self._grid_view else None),
            "sort_buttons": {
                k: [b.winfo_rootx() + b.winfo_width() // 2, b.winfo_rooty() + b.winfo_height() // 2]
                for k, b in self.sort_buttons.items()},
            "confusion": {
                "sets": [name for name, _ in self.sets],
                "set": self.v_set.get(),
                "status": self.workers.status["confusion"],
                "progress": list(self.workers.progress.get("confusion", (0, 0))),
                "accuracy": conf.accuracy if conf else None,
                "matrix_sum": int(conf.matrix.sum()) if conf else None,
                "matrix": conf.matrix.tolist() if conf else None,
                "canvas": [c.winfo_rootx(), c.winfo_rooty()],
                "geometry": ([self._conf_view[0].x0, self._conf_view[0].y0, self._conf_view[0].cell,
                              self._conf_view[1]] if self._conf_view else None),
                "selected": list(self.conf_selected) if self.conf_selected else None,
                "gallery": (len(conf.cell(*self.conf_selected)) if conf and self.conf_selected else None),
                "error": self.errors.get(f"confusion:{self.v_set.get()}"),
            },
            "training": {"history": bool(self.recogniser and report.history_of(self.recogniser.model))},
            "robustness": {"status": self.workers.status["robustness"],
                           "progress": list(self.workers.progress.get("robustness", (0, 0))),
                           "error": self.errors.get("robustness")},
            "save_enabled": str(self.save_buttons[self.tab].cget("state")) == "normal",
            "saved": self.saved,
            "jobs": sorted(self.workers.jobs),
        }
        return info
