"""pytest setup for training/remote: its package is imported from the source tree."""
import sys
from pathlib import Path

REMOTE = Path(__file__).resolve().parents[2] / "training" / "remote"
if str(REMOTE) not in sys.path:
    sys.path.insert(0, str(REMOTE))
