"""Files the app owns: atomic writes, safe JSON reads and the user's data folder.

Writes go to a temporary file in the same folder, then `os.replace`, so a
reader sees the old file or the new one, never half. `read_json` turns every
way a JSON file can be bad (missing, unreadable, not UTF-8, not JSON, nested
too deeply for the parser) into one `DigitpadError` line naming the file.
Left out: locking between processes (the last writer wins).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from model.errors import DigitpadError, InputError

APP_NAME = "digitpad"
HOME_ENV = "DIGITPAD_HOME"


def user_data_dir() -> Path:
    """Per-user writable folder (``$DIGITPAD_HOME`` overrides it, for tests and portable use)."""
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env)
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / APP_NAME


def read_json(path: str | os.PathLike, error: type[DigitpadError] = InputError) -> Any:
    """Parse a JSON file, raising `error` with one line naming the file for any bad content.

    Catches what `json.loads` can throw on hostile input, including the
    RecursionError of a file of 100,000 nested brackets.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
        if not data.strip():
            raise error(f"{path}: empty file (no JSON in it)")
        return json.loads(data.decode("utf-8"))
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except IsADirectoryError:
        raise error(f"{path}: is a folder, not a JSON file") from None
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise error(f"{path}: not a JSON file (not UTF-8 text)") from None
    except RecursionError:
        raise error(f"{path}: not a usable JSON file (nested too deeply)") from None
    except ValueError as exc:
        detail = str(exc).splitlines()[0] if str(exc) else "malformed"
        raise error(f"{path}: not valid JSON ({detail})") from None


_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process's umask, read without changing it where the system allows (Linux's /proc).

    Elsewhere `os.umask` must set a value to read the old one; a lock keeps two
    threads of this module from racing, and the old value is put back at once.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def plain_mode(directory: bool = False) -> int:
    """The mode a plain ``open(path, "w")`` (or ``mkdir``) gives a new file (folder) under the umask.

    `tempfile.mkstemp` creates 0600 files and `mkdtemp` 0700 folders; the
    atomic writes below reset them to this mode before they are swapped into
    place, so a report copied to a shared folder is readable as any file the
    user writes.
    """
    return (0o777 if directory else 0o666) & ~current_umask()


def match_umask(path: str | os.PathLike | int, directory: bool = False) -> None:
    """Give a temporary file or folder (a path, or an open file's descriptor) the plain mode."""
    if os.name != "posix":  # Windows has no mode bits beyond read-only
        return
    if isinstance(path, int):
        os.fchmod(path, plain_mode(directory))
    else:
        os.chmod(path, plain_mode(directory))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never half.

    The file ends with the mode a plain ``open(path, "wb")`` would give (the umask's), not mkstemp's 0600.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        match_umask(fd)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Text version of `atomic_write_bytes` (UTF-8)."""
    atomic_write_bytes(path, text.encode("utf-8"))
