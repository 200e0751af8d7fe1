"""Planners' files into PostGIS: readers, doctors, validation, loading.

GDAL (the copy inside pyogrio) registers its drivers when pyogrio is first imported, which is
here: every driver we do not accept is skipped then, so no upload can reach a VRT, a remote
service, an external program or an XML parser with entities, whatever its bytes say.
"""

import os

ACCEPTED_DRIVERS = ("GPKG", "ESRI Shapefile", "GeoJSON", "DXF", "KML", "MEM")
# "MapInfo File" cannot be named in GDAL_SKIP (a space separates names); a local format with
# no links out, and the sniffer never hands it a file.
SKIPPED_DRIVERS = (
    "VRT OGR_VRT GDALG OAPIF OGCAPI WFS CSW HTTP NGW PLSCENES EEDA Carto Elasticsearch "
    "AmigoCloud GPSBabel OGR_GMT ADBC SQLite LIBKML GML MapML XLSX ODS OSM GTFS PDF PCIDSK "
    "AIVector AVCBin AVCE00 CSV DGN EDIGEO ESRIJSON FlatGeobuf GPX GeoJSONSeq GeoRSS Idrisi "
    "JML JSONFG LVBAG MBTiles MVT MiraMonVector OGR_PDS OpenFileGDB PDS4 PGDUMP "
    "PMTiles S57 SXF Selafin TopoJSON VDV VFK VICAR WAsP"
)


def _register_accepted_drivers_only() -> None:
    before = os.environ.get("GDAL_SKIP")
    os.environ["GDAL_SKIP"] = SKIPPED_DRIVERS
    try:
        import pyogrio  # noqa: F401 - registers GDAL's drivers, minus the skipped ones
    finally:
        # Only our GDAL's registration reads it: other programs (ogrinfo in tests) must not.
        if before is None:
            del os.environ["GDAL_SKIP"]
        else:
            os.environ["GDAL_SKIP"] = before


_register_accepted_drivers_only()
