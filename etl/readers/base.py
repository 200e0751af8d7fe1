"""The one small base class every format reader implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray


class ReaderError(ValueError):
    """A file could not be read; the message names the file and what is wrong."""


@dataclass
class FeatureBatch:
    """Features read from one layer: geometries (shapely), attribute columns, source CRS."""

    geometries: NDArray[np.object_]
    columns: dict[str, NDArray[np.generic]]
    srid: int | None
    source: str
    raw: NDArray[np.object_] | None = None  # the WKB as read, to explain unreadable ones

    def __len__(self) -> int:
        return len(self.geometries)

    def slice(self, start: int, stop: int) -> FeatureBatch:
        """Features [start, stop), sharing this batch's arrays."""
        return FeatureBatch(self.geometries[start:stop],
                            {k: v[start:stop] for k, v in self.columns.items()}, self.srid,
                            self.source, None if self.raw is None else self.raw[start:stop])


class Reader(ABC):
    """Reads one layer of a file into a FeatureBatch."""

    @abstractmethod
    def read(self, path: Path, layer: str | None = None) -> FeatureBatch:
        """Read the layer (the only one when None) of the file at path."""
