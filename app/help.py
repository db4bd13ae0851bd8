"""The window's Help and Model info texts: what the keys do, what the app is, what the weights are.

Pure text builders plus the message boxes that show them; `MainWindow` calls
them with what they need (a parent widget, the model in use), not itself.
"""

from __future__ import annotations

import tkinter as tk
from tkinter import messagebox

from app import __version__
from app.texts import percent
from model.net.weights import Model

SHORTCUTS = (
    ("Ctrl+C", "Copy the recognised number"),
    ("Ctrl+Z", "Undo the last stroke"),
    ("Escape / Delete", "Clear the pad"),
    ("Ctrl+S", "Save the drawing (PNG or ink JSON)"),
    ("Ctrl+Shift+O", "Open a drawing"),
    ("Ctrl+O", "Open an image of digits"),
    ("Ctrl+R", "Retrain the network"),
    ("Ctrl+I", "Model info"),
    ("Ctrl+Shift+I", "Inside the network"),
    ("0 … 9", "Correct the selected digit (it is kept as your sample)"),
    ("Ctrl+T", "Teach my handwriting"),
    ("F1", "These shortcuts"),
    ("Ctrl+Q", "Quit"),
)
"""(keys, what they do), as Help → Keyboard shortcuts lists them."""

WEIGHT_KINDS = {"shipped": "shipped with Digitpad", "retrained": "your retrained weights",
                "loaded": "loaded for this session", "adapted": "adapted to your handwriting"}


def model_info_text(model: Model | None, kind: str) -> str:
    """Layer sizes, where the weights came from (`kind`: shipped, retrained, …), how they were
    trained, test accuracy."""
    if model is None:
        return "No weights are loaded."
    meta = model.meta
    lines = [
        f"Layers: {model.describe()}  ({sum(n.layout.n_params for n in model.networks):,} weights)",
        f"Weights: {model.source}  ({WEIGHT_KINDS.get(kind, kind)})",
        f"Test accuracy (MNIST): {percent(meta.get('test_accuracy'))}",
    ]
    if "pen_holdout_accuracy" in meta:
        lines.append(f"Pen digits (held-out writers): {percent(meta['pen_holdout_accuracy'])}")
    if meta.get("date"):
        lines.append(f"Trained: {meta['date']}"
                     + (f" in {meta['training_seconds']:.0f} s" if meta.get("training_seconds") else ""))
    if meta.get("command"):
        lines.append(f"Command: {meta['command']}")
    if meta.get("training_images"):
        lines.append(f"Training images: {meta['training_images']:,}, λ = {meta.get('lambda')}, "
                     f"{meta.get('iterations')} iterations")
    return "\n".join(lines)


def shortcuts_text() -> str:
    """The shortcuts table as aligned lines."""
    return "\n".join(f"{k:<16} {v}" for k, v in SHORTCUTS)


def show_model_info(parent: tk.Misc, model: Model | None, kind: str) -> None:
    """Model → Model info."""
    messagebox.showinfo("Model info", model_info_text(model, kind), parent=parent)


def show_shortcuts(parent: tk.Misc) -> None:
    """Help → Keyboard shortcuts."""
    messagebox.showinfo("Keyboard shortcuts", shortcuts_text(), parent=parent)


def show_about(parent: tk.Misc) -> None:
    """Help → About."""
    messagebox.showinfo(
        "About Digitpad",
        f"Digitpad {__version__}\n\nDraw digits and see them recognised live by a small "
        "neural network (a sigmoid multi-layer perceptron written from scratch with NumPy, "
        "trained with L-BFGS-B on MNIST).",
        parent=parent)
