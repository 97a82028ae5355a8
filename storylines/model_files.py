"""Where learned model files come from: the package, or a folder that replaces some of them.

``$STORYLINES_MODEL_DIR`` points at a folder of models fitted on another split of the data (the
training scripts write one per split): the files it holds replace the packaged ones, so the
held-out protocol can still be scored with the product after the shipped models were refitted
on all of the development data.  Shared by the compare models and the title encoder's adapter.
"""

from __future__ import annotations

import os
from pathlib import Path

MODEL_DIR_VARIABLE = "STORYLINES_MODEL_DIR"


def model_override(name: str) -> Path | None:
    """The file called ``name`` in ``$STORYLINES_MODEL_DIR``, where that is set and holds one."""
    folder = os.environ.get(MODEL_DIR_VARIABLE)
    candidate = Path(folder) / name if folder else None
    return candidate if candidate is not None and candidate.is_file() else None
