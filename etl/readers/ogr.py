"""Reader for GDAL vector formats through pyogrio (GeoPackage now; more formats later)."""

from __future__ import annotations

from pathlib import Path

import pyogrio
import pyogrio.raw
import shapely
from pyproj import CRS

from etl.readers.base import FeatureBatch, Reader, ReaderError

ALLOWED_DRIVERS = {"GPKG"}


class OgrReader(Reader):
    """Reads a layer of an allowed GDAL vector format."""

    def read(self, path: Path, layer: str | None = None) -> FeatureBatch:
        """Read the named layer (or the only one) with its CRS."""
        name = path.name
        try:
            info_layers = pyogrio.list_layers(path)
        except Exception as exc:  # pyogrio raises its own DataSourceError family
            raise ReaderError(f"{name}: not a readable GIS file ({exc})") from exc
        layer_names = [str(row[0]) for row in info_layers]
        if layer is None:
            if len(layer_names) != 1:
                raise ReaderError(f"{name}: choose a layer among {', '.join(layer_names)}")
            layer = layer_names[0]
        elif layer not in layer_names:
            raise ReaderError(f"{name}: no layer '{layer}' (has {', '.join(layer_names)})")
        info = pyogrio.read_info(path, layer=layer)
        if info["driver"] not in ALLOWED_DRIVERS:
            raise ReaderError(f"{name}: format {info['driver']} is not accepted")
        meta, _, wkb, field_data = pyogrio.raw.read(path, layer=layer)
        srid = None
        if meta.get("crs"):
            epsg = CRS.from_user_input(meta["crs"]).to_epsg()
            srid = int(epsg) if epsg else None
        geoms = shapely.from_wkb(wkb)
        columns = dict(zip(meta["fields"], field_data, strict=True))
        return FeatureBatch(geometries=geoms, columns=columns, srid=srid, source=f"{name}:{layer}")
