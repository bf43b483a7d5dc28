"""Import path for the serializer tests.

The tests share hypothesis strategies and small helpers through ``serializer_support``, a
plain module beside this file. With ``--import-mode=importlib`` test directories are not on
``sys.path``, so this conftest (imported before any test module here) puts this one there.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
