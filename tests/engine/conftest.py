"""The engine tests share engine_helpers.py (scenarios, strategies, references), importable from every
folder under tests/engine/."""
import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
