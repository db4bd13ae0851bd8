"""Where files live, from a source checkout, an installed wheel or a PyInstaller bundle.

Read-only resources (the shipped ``weights/`` and ``assets/``) sit beside the
``app`` and ``model`` packages in the source tree and at the same relative
paths inside a frozen bundle (``sys._MEIPASS``). User data (retrained
weights, saved drawings, settings) goes to the user's data folder, never
into the bundle.
"""

from __future__ import annotations

import sys
from pathlib import Path

APP_NAME = "digitpad"


def resource_root() -> Path:
    """The folder holding ``weights/`` and ``assets/``.

    Inside a PyInstaller bundle: ``sys._MEIPASS``. From a source checkout or
    an editable install: the project root, beside ``app/``. From a wheel
    (``pip install .``): ``<prefix>/share/digitpad``, where pyproject.toml's
    data-files put them.
    """
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen)
    source = Path(__file__).resolve().parent.parent
    if (source / "weights").is_dir():
        return source
    installed = Path(sys.prefix) / "share" / APP_NAME
    return installed if (installed / "weights").is_dir() else source


def resource(*parts: str) -> Path:
    """Path of a shipped resource, e.g. ``resource("assets", "icon.png")``."""
    return resource_root().joinpath(*parts)


def shipped_weights_dir() -> Path:
    """The read-only weights that ship with Digitpad."""
    return resource("weights")


def user_data_dir() -> Path:
    """Per-user writable folder (``$DIGITPAD_HOME`` overrides it, for tests).

    The rule lives in `model.fileio.user_data_dir` so that model code (the
    samples store) finds the same folder without importing app/.
    """
    from model.fileio import user_data_dir as model_user_data_dir

    return model_user_data_dir()


def user_weights_dir() -> Path:
    """Where retrained weights chosen by the user are kept."""
    return user_data_dir() / "weights"


def active_weights_dir() -> Path:
    """The user's retrained weights if they exist, else the shipped ones."""
    from model.net.weights import is_weights_folder

    user = user_weights_dir()
    if is_weights_folder(user):
        return user
    return shipped_weights_dir()
