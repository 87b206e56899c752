"""The deployment packages: the layer `make layer` builds, and each function's code folder, zipped."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

from bench.paths import HOST_LAYER_DIR, LAYER_DIR
from deploy.paths import REPO_ROOT


@dataclass(frozen=True)
class PackageSize:
    zipped: int
    unzipped: int

    @property
    def unzipped_mb(self) -> str:
        return f"{self.unzipped / 1_000_000:.1f} MB"


def ensure_layer() -> None:
    """`make layer` when build/layer or build/layer-host is missing (the Makefile's bench target builds them anyway).

    Raises subprocess.CalledProcessError when make fails.
    """
    if not all((directory / ".built").exists() for directory in (LAYER_DIR, HOST_LAYER_DIR)):
        subprocess.run([shutil.which("make") or "make", "-s", "layer"], cwd=REPO_ROOT, check=True)


def zipped_size(folder: Path, root: Path, without_bytecode: bool = False) -> PackageSize:
    """Zip the folder in memory (deflate, as CDK's asset zips), paths relative to root."""
    buffer = io.BytesIO()
    unzipped = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not _left_out(path, without_bytecode):
                archive.write(path, path.relative_to(root))
                unzipped += path.stat().st_size
    return PackageSize(zipped=len(buffer.getvalue()), unzipped=unzipped)


def _left_out(path: Path, without_bytecode: bool) -> bool:
    """What the stack's assets leave out: make's stamp file; bytecode where asked (the function folders' caches
    are this machine's, not the runtime's, and their asset excludes them)."""
    return path.name == ".built" or (without_bytecode and ("__pycache__" in path.parts or path.suffix == ".pyc"))
