"""Where RICO screenshots live in a dataset folder (Screen2Words, Widget Captioning and RefExp use them)."""
from __future__ import annotations

from pathlib import Path

from .common import DatasetError

# RICO's "unique_uis" download unpacks to combined/<id>.jpg and combined/<id>.json.
RICO_DIRS = ("combined", "rico/combined", "unique_uis/combined", "rico", "images")


def rico_dir(root: Path) -> Path:
    """The folder of RICO screenshots inside the dataset folder."""
    for rel in RICO_DIRS:
        if (root / rel).is_dir():
            return root / rel
    raise DatasetError(
        f"RICO screenshots not found in {root}: put RICO's combined/ folder (<screen id>.jpg and "
        f"<screen id>.json) at one of {', '.join(str(root / r) for r in RICO_DIRS)}"
    )


def screenshot(rico: Path, screen_id: str) -> Path:
    """combined/<screen id>.jpg, which must exist."""
    path = rico / f"{screen_id}.jpg"
    if not path.is_file():
        raise DatasetError(f"RICO screenshot {path} is missing (screen {screen_id})")
    return path
