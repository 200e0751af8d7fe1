"""Reading an uploaded vector dataset in bounded batches, with the driver its format allows."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyogrio
import pyogrio.raw
import shapely
from numpy.typing import NDArray

from etl.readers.base import FeatureBatch, ReaderError
from etl.readers.detect import Dataset

# Formats GDAL can skip into; others are read whole, except a big GeoJSON: GDAL's streaming
# parser reads it a slice at a time in bounded memory (each slice parses the file up to it).
STREAMED = {"shapefile", "gpkg"}
WHOLE_GEOJSON_MAX_BYTES = 128 * 2**20  # measured: whole is quicker and smaller below


@dataclass(frozen=True)
class Question:
    """What the doctors need a person to decide, with the candidates and what each means."""

    kind: str  # layer | crs | encoding
    prompt: str
    candidates: list[dict[str, Any]] = field(default_factory=list)


class NeedsAnswer(Exception):  # noqa: N818 - a state of the job, not an error
    """The ingest stops until the question is answered."""

    def __init__(self, question: Question) -> None:
        super().__init__(question.prompt)
        self.question = question


class VectorSource:
    """One layer of a vector dataset, opened only by the driver meant for its format."""

    def __init__(self, dataset: Dataset, layer: str | None = None,
                 encoding: str | None = None,
                 convert: Callable[[str], str] | None = None,
                 streamed: bool | None = None) -> None:
        self.dataset = dataset
        self.streamed = streamed if streamed is not None else (
            dataset.format in STREAMED or dataset.format == "geojson"
            and dataset.path.stat().st_size > WHOLE_GEOJSON_MAX_BYTES)
        self.encoding = encoding
        self.convert = convert  # text read as Latin-1 made Unicode (TCVN3, VNI)
        name = dataset.path.name
        try:
            layers = [str(row[0]) for row in pyogrio.list_layers(dataset.path)]
        except Exception as exc:  # pyogrio raises its own DataSourceError family
            raise ReaderError(f"{name}: not a readable {dataset.format} file") from exc
        if not layers:
            raise ReaderError(f"{name}: no layer in the file")
        if layer is None and len(layers) > 1:
            raise NeedsAnswer(Question("layer", f"{name} has several layers: which one?",
                                       [{"value": n} for n in layers]))
        self.layer = layer or layers[0]
        if self.layer not in layers:
            raise ReaderError(f"{name}: no layer {self.layer!r} (has {', '.join(layers)})")
        info = pyogrio.read_info(dataset.path, layer=self.layer, encoding=encoding)
        if info["driver"] != dataset.driver:
            raise ReaderError(f"{name}: opened as {info['driver']}, not {dataset.driver}: "
                              "refused")
        self.count = int(info["features"]) if info["features"] >= 0 else None
        self.crs_wkt: str | None = info.get("crs")
        self.fields = [str(f) for f in info["fields"]]
        self.geometry_type = str(info.get("geometry_type"))
        self.native_encoding = info.get("encoding")

    def raw_text(self, limit: int = 2_000) -> dict[str, list[bytes]]:
        """Text attributes of the first features as stored (bytes), for the encoding doctor."""
        meta, _, _, data = pyogrio.raw.read(self.dataset.path, layer=self.layer,
                                            encoding="latin1", read_geometry=False,
                                            max_features=limit)
        out: dict[str, list[bytes]] = {}
        for name, column in zip(meta["fields"], data, strict=True):
            if column.dtype == object:
                out[str(name)] = [v.encode("latin1") for v in column if isinstance(v, str)]
        return out

    def read(self, start: int = 0, size: int | None = None) -> FeatureBatch:
        """Features [start, start + size) — for a format GDAL cannot skip into, all of them
        (asked from 0) or none."""
        # Heights are not planning data: every geometry is read flat.
        kwargs: dict[str, Any] = {"layer": self.layer, "encoding": self.encoding,
                                  "force_2d": True}
        if not self.streamed:
            if start > 0:
                return FeatureBatch(np.empty(0, dtype=object), {}, None, self.dataset.path.name)
            return self._dxf() if self.dataset.format == "dxf" else self._batch(**kwargs)
        if size is not None:
            kwargs["max_features"] = size
        return self._batch(skip_features=start, **kwargs)

    def _batch(self, **kwargs: Any) -> FeatureBatch:
        meta, _, wkb, data = pyogrio.raw.read(self.dataset.path, **kwargs)
        geoms = shapely.from_wkb(wkb, on_invalid="ignore")
        columns = dict(zip(meta["fields"], data, strict=True))
        if self.convert:
            for name, column in columns.items():
                if column.dtype == object:
                    columns[name] = np.array([self.convert(v) if isinstance(v, str) else v
                                              for v in column], dtype=object)
        return FeatureBatch(geoms, columns, None, f"{self.dataset.path.name}:{self.layer}",
                            raw=wkb)

    def _dxf_encoding(self) -> str | None:
        """UTF-8 for drawings from AutoCAD 2007 on (GDAL would read them as Windows-1252)."""
        head = self.dataset.path.read_bytes()[:65536].decode("latin1")
        version = re.search(r"\$ACADVER\s*\r?\n\s*1\s*\r?\n\s*AC(\d{4})", head)
        return "UTF-8" if version and int(version.group(1)) >= 1021 else None

    def _dxf(self) -> FeatureBatch:
        """Closed polylines become polygons carrying their DXF layer name; TEXT entities inside
        a polygon are joined into its label."""
        encoding = self._dxf_encoding()
        # A process-wide GDAL option, set for this read only.
        pyogrio.set_gdal_config_options({"DXF_ENCODING": encoding})
        try:
            meta, _, wkb, data = pyogrio.raw.read(self.dataset.path, layer=self.layer,
                                                  force_2d=True)
        finally:
            pyogrio.set_gdal_config_options({"DXF_ENCODING": None})
        columns = dict(zip(meta["fields"], data, strict=True))
        geoms = shapely.from_wkb(wkb, on_invalid="ignore")
        layer_names = columns.get("Layer", np.full(len(geoms), None, dtype=object))
        texts = columns.get("Text", np.full(len(geoms), None, dtype=object))
        polys: list[Any] = []
        names: list[Any] = []
        for geom, layer_name in zip(geoms, layer_names, strict=True):
            if geom is None:
                continue
            kind = shapely.get_type_id(geom)
            if kind == 2 or (kind == 1 and shapely.is_closed(geom)
                             and shapely.get_num_coordinates(geom) >= 4):
                ring = geom if kind == 2 else shapely.polygons(shapely.get_coordinates(geom))
                polys.append(ring)
                names.append(layer_name)
            elif kind in (3, 6):
                polys.append(geom)
                names.append(layer_name)
        poly_array: NDArray[np.object_] = np.array(polys, dtype=object)
        labels: list[str | None] = [None] * len(polys)
        points = [(g, t) for g, t in zip(geoms, texts, strict=True)
                  if g is not None and shapely.get_type_id(g) == 0 and t]
        if polys and points:
            tree = shapely.STRtree(poly_array)
            found: dict[int, list[str]] = {}
            for point, text in points:
                for index in tree.query(point, predicate="within"):
                    found.setdefault(int(index), []).append(str(text).strip())
            for index, parts in found.items():
                labels[index] = " ".join(parts)
        return FeatureBatch(
            poly_array,
            {"dxf_layer": np.array(names, dtype=object), "label": np.array(labels, dtype=object)},
            None, f"{self.dataset.path.name}:{self.layer}")
