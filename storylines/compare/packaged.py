"""Learned models shipped as package data: one way to save and load them.

Installing the package needs no training and no data; ``scripts/train_*.py`` write the files.
``$STORYLINES_MODEL_DIR`` points at a folder of models fitted on another split of the data (the
training scripts write one per split): the files it holds replace the packaged ones, so the
held-out protocol can still be scored with the product after the shipped models were refitted
on all of the development data.
"""

from __future__ import annotations

import os
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import joblib

MODEL_DIR_VARIABLE = "STORYLINES_MODEL_DIR"


def model_override(name: str) -> Path | None:
    """The file called ``name`` in ``$STORYLINES_MODEL_DIR``, where that is set and holds one."""
    folder = os.environ.get(MODEL_DIR_VARIABLE)
    candidate = Path(folder) / name if folder else None
    return candidate if candidate is not None and candidate.is_file() else None


class PackagedModel:
    """Mixin: ``save(path)`` and ``load(path=None)``, the default path being the packaged file."""

    PACKAGE: ClassVar[str]
    FILE: ClassVar[str]

    def save(self, path: Path) -> None:
        joblib.dump(self, path, compress=3)

    def __getstate__(self) -> dict[str, Any]:
        """The fields only: what a ``cached_property`` derived from them is rebuilt after loading."""
        derived = {
            name
            for klass in type(self).__mro__
            for name, attribute in vars(klass).items()
            if isinstance(attribute, cached_property)
        }
        return {name: value for name, value in vars(self).items() if name not in derived}

    @classmethod
    def load(cls, path: Path | None = None) -> Any:
        path = path or model_override(cls.FILE)
        if path is None:
            with resources.as_file(resources.files(cls.PACKAGE) / cls.FILE) as packaged:
                return joblib.load(packaged)
        return joblib.load(path)
