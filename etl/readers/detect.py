"""Which format an upload is, decided by our own look at its bytes before GDAL opens it: only
the formats we accept reach a driver, and only the driver meant for them (no VRT, no network)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from etl.readers.base import ReaderError

FORMATS = {".shp": "shapefile", ".gpkg": "gpkg", ".geojson": "geojson", ".json": "geojson",
           ".dxf": "dxf", ".kml": "kml", ".tif": "geotiff", ".tiff": "geotiff"}
# The only GDAL driver each accepted format may be opened with.
DRIVERS = {"shapefile": "ESRI Shapefile", "gpkg": "GPKG", "geojson": "GeoJSON", "dxf": "DXF",
           "kml": "KML"}
XML_TRAPS = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
SCAN = 1024 * 1024


@dataclass(frozen=True)
class Dataset:
    """One dataset found in an upload."""

    path: Path
    format: str

    @property
    def driver(self) -> str | None:
        """The GDAL driver it must open with (None for rasters, read by rasterio)."""
        return DRIVERS.get(self.format)


def _head(path: Path, size: int = 64) -> bytes:
    with open(path, "rb") as f:
        return f.read(size)


def _refuse_xml_traps(path: Path) -> None:
    # Entities and DTDs let an XML file read local files or the network: never accepted.
    with open(path, "rb") as f:
        tail = b""
        while chunk := f.read(SCAN):
            if XML_TRAPS.search(tail + chunk):
                raise ReaderError(f"{path.name}: XML with a DOCTYPE or entities is refused")
            tail = chunk[-16:]


def sniff(path: Path) -> Dataset:
    """The dataset at path, when its bytes are what its name says."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ReaderError(f"{path.name}: not an accepted format (zipped shapefile, GeoPackage, "
                          "GeoJSON, DXF, KML, GeoTIFF)")
    head = _head(path)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    ok = {
        "shapefile": head[:4] == b"\x00\x00\x27\x0a",
        "gpkg": head[:16] == b"SQLite format 3\x00",
        "geojson": text[:1] == b"{",
        "dxf": text[:1].isdigit() and b"AutoCAD Binary DXF" not in head,
        "kml": text[:1] == b"<",
        "geotiff": head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"),
    }[fmt]
    if not ok:
        raise ReaderError(f"{path.name}: the content is not {fmt} (refused)")
    if fmt == "kml":
        _refuse_xml_traps(path)
    if fmt == "shapefile":
        siblings = {p.suffix.lower(): p for p in path.parent.iterdir()
                    if p.stem.lower() == path.stem.lower()}
        for needed in (".shx", ".dbf"):
            if needed not in siblings:
                raise ReaderError(f"{path.name}: the {needed} file is missing from the archive")
    return Dataset(path, fmt)


def find_dataset(files: list[Path]) -> Dataset:
    """The one dataset among an archive's files (sidecars and system files aside)."""
    data = [f for f in files
            if f.suffix.lower() in FORMATS and not f.name.startswith(".")
            and "__MACOSX" not in f.parts]
    if not data:
        raise ReaderError("the archive holds no accepted dataset (.shp, .gpkg, .geojson, .dxf, "
                          ".kml, .tif)")
    if len(data) > 1:
        names = ", ".join(sorted(f.name for f in data))
        raise ReaderError(f"the archive holds several datasets ({names}): upload one at a time")
    return sniff(data[0])
