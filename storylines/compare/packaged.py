"""Learned models shipped as package data: one way to save and load them.

Installing the package needs no training and no data; ``scripts/train_*.py`` write the files.
``$STORYLINES_MODEL_DIR`` can replace them (``storylines/model_files.py``).
"""

from __future__ import annotations

from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import joblib

from storylines.model_files import model_override


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
