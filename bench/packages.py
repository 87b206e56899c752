"""The deployment packages: the layer `make layer` builds, and each function's code folder, zipped."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

from bench.paths import LAYER_DIR
from certlib.resources import REPO_ROOT


@dataclass(frozen=True)
class PackageSize:
    zipped: int
    unzipped: int

    @property
    def unzipped_mb(self) -> str:
        return f"{self.unzipped / 1_000_000:.1f} MB"


def ensure_layer() -> None:
    """`make layer` when build/layer is missing (the Makefile's bench target builds it first anyway).

    Raises subprocess.CalledProcessError when make fails.
    """
    if not (LAYER_DIR / ".built").exists():
        subprocess.run([shutil.which("make") or "make", "-s", "layer"], cwd=REPO_ROOT, check=True)


def zipped_size(folder: Path, root: Path) -> PackageSize:
    """Zip the folder in memory (deflate, as CDK's asset zips), paths relative to root; leave out bytecode."""
    buffer = io.BytesIO()
    unzipped = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not _left_out(path):
                archive.write(path, path.relative_to(root))
                unzipped += path.stat().st_size
    return PackageSize(zipped=len(buffer.getvalue()), unzipped=unzipped)


def _left_out(path: Path) -> bool:
    """Bytecode (Lambda packages carry none: see bench.imports) and make's stamp file."""
    return "__pycache__" in path.parts or path.suffix == ".pyc" or path.name == ".built"
