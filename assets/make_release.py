"""Build the release archive: the one-folder bundle, a desktop entry, the icon and a README.

    python assets/make_release.py

runs ``pyinstaller --noconfirm build.spec`` (one folder) and packs
``dist/digitpad-VERSION-linux-x86_64.tar.gz`` (VERSION from pyproject.toml;
the platform part is the machine's, e.g. ``linux-aarch64``) holding one
folder, ``digitpad-VERSION/``, with

- ``digitpad/``: the bundle (``digitpad/digitpad`` runs the app or a sub-command);
- ``digitpad.desktop``: a freedesktop menu entry (assets/release/digitpad.desktop);
- ``digitpad.png``: the icon (assets/icon.png, 256x256);
- ``README.txt``: how to run it and add it to the menu (assets/release/README.txt).

Before packing, the bundle's ``--version`` must print this VERSION. Symbolic
links inside the bundle (a library two wheels share) stay links; owners are
root/root and times are the build's, so the archive does not carry the
builder's name. The archive is written under a temporary name and renamed
when complete.

On Windows and macOS the same command builds what build.spec makes there
(the folder with ``digitpadw.exe``, a windowed twin, beside ``digitpad.exe``;
on macOS also ``dist/Digitpad.app``, which stays in dist/) and packs the
folder into ``digitpad-VERSION-windows-AMD64.zip`` or
``digitpad-VERSION-macos-arm64.zip``, without the Linux desktop entry
(neither was tried: only the Linux archive is built and tested here).

Options: ``--bundle DIR`` packs a one-folder bundle built before (skips the
build); ``--dist``/``--workpath`` are PyInstaller's folders (dist/, build/);
``--out`` is where the archive goes (the dist folder).
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RELEASE = ROOT / "assets" / "release"
NAME = "digitpad"


def project_version(root: Path = ROOT) -> str:
    """[project] version from pyproject.toml."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    with open(root / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["version"]


def platform_tag() -> str:
    """``linux-x86_64``, ``windows-AMD64``, ``macos-arm64``: the system and machine this runs on."""
    system = {"linux": "linux", "win32": "windows", "darwin": "macos"}.get(sys.platform, sys.platform)
    return f"{system}-{platform.machine()}"


def archive_name(version: str, tag: str | None = None) -> str:
    """``digitpad-0.2.0-linux-x86_64.tar.gz`` (``.zip`` on Windows and macOS)."""
    tag = tag or platform_tag()
    return f"{NAME}-{version}-{tag}" + (".tar.gz" if tag.startswith("linux") else ".zip")


def build_bundle(dist: Path, workpath: Path) -> Path:
    """Run PyInstaller on build.spec (one folder); the bundle folder it made."""
    env = {k: v for k, v in os.environ.items() if k != "DIGITPAD_ONEFILE"}
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
           "--distpath", str(dist), "--workpath", str(workpath), str(ROOT / "build.spec")]
    print("building:", " ".join(cmd), flush=True)
    done = subprocess.run(cmd, cwd=ROOT, env=env)
    if done.returncode != 0:
        raise SystemExit(f"make_release: pyinstaller failed (exit status {done.returncode})")
    return dist / NAME


def executable(bundle: Path) -> Path:
    """The console executable inside a one-folder bundle."""
    return bundle / (f"{NAME}.exe" if sys.platform == "win32" else NAME)


def check_version(bundle: Path, version: str) -> None:
    """The bundle must say it is `version` (refuses a stale dist folder)."""
    exe = executable(bundle)
    if not exe.is_file():
        raise SystemExit(f"make_release: {bundle}: no one-folder bundle here (no {exe.name})")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    done = subprocess.run([str(exe), "--version"], capture_output=True, text=True, env=env, timeout=300)
    said = done.stdout.strip()
    if done.returncode != 0 or said != f"{NAME} {version}":
        raise SystemExit(f"make_release: {exe} --version said {said or done.stderr.strip()!r}, "
                         f"expected '{NAME} {version}'")


def readme_text(version: str, tag: str) -> str:
    """assets/release/README.txt with this release's version and the C library it needs."""
    title = f"Digitpad {version} for {tag}"
    libc, libc_version = platform.libc_ver()
    libc_text = f"{libc} {libc_version}" if libc else "the C library it was built with"
    return (RELEASE / "README.txt").read_text(encoding="utf-8").format(
        title=title, rule="=" * len(title), version=version, libc=libc_text)


def _members(version: str, bundle: Path, tag: str) -> tuple[str, list[tuple[str, Path | bytes]]]:
    """The archive's top folder and its files: (name inside the archive, source path or bytes)."""
    top = f"{NAME}-{version}"
    members: list[tuple[str, Path | bytes]] = [(f"{top}/README.txt", readme_text(version, tag).encode())]
    if tag.startswith("linux"):
        members += [(f"{top}/{NAME}.desktop", RELEASE / f"{NAME}.desktop"),
                    (f"{top}/{NAME}.png", ROOT / "assets" / "icon.png")]
    for path in sorted(bundle.rglob("*")):
        if path.is_file() or path.is_symlink():
            members.append((f"{top}/{NAME}/{path.relative_to(bundle).as_posix()}", path))
    return top, members


def write_tar(target: Path, members: list[tuple[str, Path | bytes]], top: str) -> None:
    """A gzip-compressed tar of `members` (links kept as links, owner root, folders listed)."""
    now = int(os.environ.get("SOURCE_DATE_EPOCH", time.time()))

    def info(name: str, kind: bytes = tarfile.REGTYPE, mode: int = 0o644, size: int = 0) -> tarfile.TarInfo:
        ti = tarfile.TarInfo(name)
        ti.type, ti.mode, ti.size, ti.mtime = kind, mode, size, now
        ti.uid = ti.gid = 0
        ti.uname = ti.gname = "root"
        return ti

    folders = sorted({str(Path(n).parent.as_posix()) for n, _ in members} | {top})
    folders = sorted({p for f in folders for p in _parents(f)})
    with tarfile.open(target, "w:gz", compresslevel=9, format=tarfile.PAX_FORMAT) as tar:
        for folder in folders:
            tar.addfile(info(folder, tarfile.DIRTYPE, 0o755))
        for name, src in members:
            if isinstance(src, bytes):
                tar.addfile(info(name, size=len(src)), io.BytesIO(src))
            elif src.is_symlink():
                ti = info(name, tarfile.SYMTYPE, 0o777)
                ti.linkname = os.readlink(src)
                tar.addfile(ti)
            else:
                mode = 0o755 if os.access(src, os.X_OK) else 0o644
                with open(src, "rb") as f:
                    tar.addfile(info(name, size=src.stat().st_size, mode=mode), f)


def _parents(folder: str) -> list[str]:
    parts = folder.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def write_zip(target: Path, members: list[tuple[str, Path | bytes]]) -> None:
    """A zip of `members` (links stored as the files they point to)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, src in members:
            if isinstance(src, bytes):
                z.writestr(name, src)
            else:
                z.write(src, name)


def make_release(bundle: Path, out: Path, version: str | None = None, tag: str | None = None) -> Path:
    """Pack `bundle` (checked to be `version`) into out/digitpad-VERSION-TAG.tar.gz (or .zip)."""
    version = version or project_version()
    tag = tag or platform_tag()
    check_version(bundle, version)
    out.mkdir(parents=True, exist_ok=True)
    target = out / archive_name(version, tag)
    top, members = _members(version, bundle, tag)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=out)
    os.close(fd)
    try:
        if target.name.endswith(".tar.gz"):
            write_tar(Path(tmp), members, top)
        else:
            write_zip(Path(tmp), members)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def main(argv: list[str] | None = None) -> int:
    """Entry point: build the bundle (unless --bundle) and pack it."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle", type=Path, help="pack this one-folder bundle instead of building one")
    ap.add_argument("--dist", type=Path, default=ROOT / "dist", help="PyInstaller's dist folder (dist)")
    ap.add_argument("--workpath", type=Path, default=ROOT / "build", help="PyInstaller's work folder (build)")
    ap.add_argument("--out", type=Path, help="folder for the archive (the dist folder)")
    args = ap.parse_args(argv)
    if shutil.which("pyinstaller") is None and args.bundle is None:
        try:
            import PyInstaller  # noqa: F401
        except ModuleNotFoundError:
            print("make_release: PyInstaller is not installed: python -m pip install -e '.[build]'",
                  file=sys.stderr)
            return 2
    if args.bundle:
        bundle = args.bundle.resolve()
    else:
        bundle = build_bundle(args.dist.resolve(), args.workpath.resolve())
    target = make_release(bundle, (args.out or args.dist).resolve())
    print(f"wrote {target} ({target.stat().st_size / 2**20:.1f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
