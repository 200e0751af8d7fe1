"""The CRS and encoding doctors, and what uploads are refused before GDAL opens them."""

from __future__ import annotations

import io
import stat
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
import shapely
from sqlalchemy import Connection

from etl.archive import ArchiveError, ArchiveLimits, extract
from etl.crs import from_wgs84
from etl.doctor import SWAPPED
from etl.doctor import diagnose as diagnose_crs
from etl.encoding import decode
from etl.encoding import diagnose as diagnose_encoding
from etl.readers.base import ReaderError
from etl.readers.detect import find_dataset, sniff
from etl.readers.vector import NeedsAnswer

PHRASE = "Đất ở tại đô thị; Phường Tân Thuận Đông, Quận 7"
VNI = "Ñaát ôû taïi ñoâ thò; Phöôøng Taân Thuaän Ñoâng, Quaän 7".encode("cp1252")


def _iconv(text: str, charset: str) -> bytes:
    return subprocess.run(["iconv", "-f", "UTF-8", "-t", charset], input=text.encode(),
                          capture_output=True, check=True).stdout


@pytest.mark.parametrize(("raw", "expected"), [
    (PHRASE.encode(), "utf-8"), (_iconv(PHRASE, "CP1258"), "cp1258"),
    (_iconv(PHRASE, "TCVN5712-1"), "tcvn3"), (VNI, "vni"),
])
def test_each_legacy_encoding_is_recognised_and_decoded(raw: bytes, expected: str) -> None:
    verdict = diagnose_encoding({"ten": [raw, raw[:20]]})
    assert verdict.encoding == expected, verdict.scores
    assert decode(raw, expected) == PHRASE
    assert decode(raw[:20], expected) == PHRASE[:len(decode(raw[:20], expected))]


def test_an_unclear_encoding_is_asked_with_samples() -> None:
    # One byte that reads as a Vietnamese letter in two tables (à, ờ): the planner decides.
    verdict = diagnose_encoding({"ten": [b"\xe0"]})
    assert verdict.encoding is None
    assert {s["value"] for s in verdict.samples} == {"utf-8", "cp1258", "tcvn3", "vni"}
    assert all(len(s["samples"]) == 1 for s in verdict.samples)


# -- CRS ---------------------------------------------------------------------------------------

@pytest.fixture
def district(conn: Connection) -> shapely.Geometry:
    wkb = conn.exec_driver_sql("SELECT ST_AsBinary(ST_Union(geom)) FROM admin_unit "
                               "WHERE level = 'ward' AND valid_to IS NULL").scalar_one()
    return shapely.from_wkb(bytes(wkb))


def _square(lon: float, lat: float) -> shapely.Geometry:
    return shapely.box(lon, lat, lon + 0.001, lat + 0.001)


def _in(srid: int, lon: float = 106.7195, lat: float = 10.7335) -> np.ndarray:
    def move(c: np.ndarray) -> np.ndarray:
        x, y = from_wgs84(srid, c[:, 0], c[:, 1])
        return np.column_stack([x, y])

    return np.array([shapely.transform(_square(lon, lat), move)], dtype=object)


def test_a_declared_vn2000_crs_that_fits_is_taken(district: shapely.Geometry) -> None:
    wkt = ('PROJCS["VN_2000_TM3_105_45",GEOGCS["GCS_VN-2000",DATUM["D_Vietnam_2000",'
           'SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],'
           'UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
           'PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],'
           'PARAMETER["Central_Meridian",105.75],PARAMETER["Scale_Factor",0.9999],'
           'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]')
    assert diagnose_crs(_in(9210), wkt, None, district) == (9210, False)


def test_a_missing_prj_is_asked_never_guessed(district: shapely.Geometry) -> None:
    with pytest.raises(NeedsAnswer) as asked:
        diagnose_crs(_in(9210), None, None, district)
    candidates = asked.value.question.candidates
    assert candidates[0]["value"] == "EPSG:9210"
    assert candidates[0]["km_from_district"] < 1
    assert all(c["km_from_district"] > 5 for c in candidates[1:])
    with pytest.raises(NeedsAnswer) as utm:
        diagnose_crs(_in(32648), None, None, district)
    assert utm.value.question.candidates[0]["value"] == "EPSG:32648"


def test_swapped_axes_are_offered(district: shapely.Geometry) -> None:
    swapped = np.array([shapely.box(10.7335, 106.7195, 10.7345, 106.7205)], dtype=object)
    with pytest.raises(NeedsAnswer) as asked:
        diagnose_crs(swapped, None, None, district)
    assert asked.value.question.candidates[0]["value"] == SWAPPED
    assert diagnose_crs(swapped, None, SWAPPED, district) == (4326, True)


def test_a_suspicious_declared_crs_is_questioned(district: shapely.Geometry) -> None:
    utm_wkt = "EPSG:32648"
    with pytest.raises(NeedsAnswer) as asked:
        diagnose_crs(_in(9210), utm_wkt, None, district)  # VN-2000 data labelled UTM
    assert "32648" in asked.value.question.prompt
    assert asked.value.question.candidates[0]["value"] == "EPSG:9210"


def test_data_far_away_is_refused_saying_where(district: shapely.Geometry) -> None:
    hanoi = np.array([_square(105.85, 21.03)], dtype=object)
    with pytest.raises(ReaderError, match="km"):
        diagnose_crs(hanoi, "EPSG:4326", None, district)
    with pytest.raises(ReaderError, match="km from the district"):
        diagnose_crs(_in(9210), None, "EPSG:9211", district)  # the wrong zone, given


# -- hostile archives and files ----------------------------------------------------------------

def _zip(tmp_path: Path, entries: dict[str, bytes], links: tuple[str, ...] = ()) -> Path:
    path = tmp_path / "upload.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
        for name in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(info, "/etc/passwd")
    return path


@pytest.mark.parametrize(("entries", "links", "message"), [
    ({"../evil.shp": b"x"}, (), "climbs out"),
    ({"a/../../evil.shp": b"x"}, (), "climbs out"),
    ({"/etc/evil.shp": b"x"}, (), "absolute"),
    ({"C:\\evil.shp": b"x"}, (), "absolute"),
    ({"ok.shp": b"x"}, ("link.dbf",), "symbolic link"),
    ({"bomb.dbf": b"\0" * (50 * 1024**2)}, (), "zip bomb"),
])
def test_hostile_archives_are_refused_whole(tmp_path: Path, entries: dict[str, bytes],
                                            links: tuple[str, ...], message: str) -> None:
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(ArchiveError, match=message):
        extract(_zip(tmp_path, entries, links), dest)
    assert list(dest.iterdir()) == []  # checked before anything was written


def test_entry_count_and_total_size_are_capped(tmp_path: Path) -> None:
    dest = tmp_path / "out"
    dest.mkdir()
    many = _zip(tmp_path, {f"f{i}.txt": b"x" for i in range(30)})
    with pytest.raises(ArchiveError, match="entries"):
        extract(many, dest, ArchiveLimits(max_entries=20))
    with pytest.raises(ArchiveError, match="more than"):
        extract(many, dest, ArchiveLimits(max_total_bytes=10))


def test_a_lying_header_is_caught_while_unpacking(tmp_path: Path) -> None:
    path = _zip(tmp_path, {"data.dbf": b"A" * 5000})
    raw = bytearray(path.read_bytes())
    # Shrink the declared size in the central directory: the bytes read must not exceed it.
    central = raw.rfind(b"PK\x01\x02")
    raw[central + 24:central + 28] = (100).to_bytes(4, "little")
    path.write_bytes(bytes(raw))
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(ArchiveError):
        extract(path, dest)


def test_files_must_be_what_their_names_say(tmp_path: Path) -> None:
    vrt = tmp_path / "plan.gpkg"
    vrt.write_text('<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>'
                   "/vsicurl/http://evil.example/x.shp</SrcDataSource></OGRVRTLayer>"
                   "</OGRVRTDataSource>")
    with pytest.raises(ReaderError, match="not gpkg"):
        sniff(vrt)
    kml = tmp_path / "plan.kml"
    kml.write_text('<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                   "<kml><Document><name>&x;</name></Document></kml>")
    with pytest.raises(ReaderError, match="DOCTYPE"):
        sniff(kml)
    (tmp_path / "plan.vrt").write_text("<OGRVRTDataSource/>")
    with pytest.raises(ReaderError, match="not an accepted format"):
        sniff(tmp_path / "plan.vrt")
    shp = tmp_path / "blocks.shp"
    shp.write_bytes(b"\x00\x00\x27\x0a" + b"\0" * 96)
    (tmp_path / "blocks.dbf").write_bytes(b"\x03")
    with pytest.raises(ReaderError, match=r"\.shx file is missing"):
        find_dataset([shp, tmp_path / "blocks.dbf"])
    geojson = tmp_path / "a.geojson"
    geojson.write_bytes(io.BytesIO(b'\xef\xbb\xbf {"type": "FeatureCollection"}').read())
    assert sniff(geojson).driver == "GeoJSON"


def test_gdal_knows_only_the_accepted_vector_drivers() -> None:
    import pyogrio

    from etl import ACCEPTED_DRIVERS

    assert set(pyogrio.list_drivers()) <= {*ACCEPTED_DRIVERS, "MapInfo File"}
