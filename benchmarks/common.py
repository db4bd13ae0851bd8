"""What every benchmark script shares: the repo on sys.path and the data location.

The data sets are read from ``../shared/data`` beside the project unless
``DIGITPAD_DATA`` (MNIST; the pen and USPS folders are found beside it) says
otherwise.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DIGITPAD_DATA", str(ROOT.parent / "shared" / "data" / "mnist"))
