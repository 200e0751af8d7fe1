"""The sample generator: deterministic, realistic numbering, loadable as a planner's files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyogrio
import pyogrio.raw
import shapely
from pyproj import CRS

from etl.sample import SampleGenerator


def test_the_same_seed_gives_the_same_parcels() -> None:
    first = SampleGenerator(parcels=2_000, seed=3).generate()
    second = SampleGenerator(parcels=2_000, seed=3).generate()
    other = SampleGenerator(parcels=2_000, seed=4).generate()
    a, b, c = (s.layers["parcels"] for s in (first, second, other))
    assert a.columns == b.columns
    assert all(x.equals(y) for x, y in zip(a.geometry, b.geometry, strict=True))
    assert a.columns["dien_tich"] != c.columns["dien_tich"]


def test_default_sample_files(sample_files: dict[str, Path]) -> None:
    """The session's sample: GeoPackages in VN-2000 TM-3, keys unique, frontages plausible."""
    for path in sample_files.values():
        info = pyogrio.read_info(path)
        assert CRS.from_user_input(info["crs"]).to_epsg() == 9210
        _, _, layer_wkb, _ = pyogrio.raw.read(path)
        assert shapely.is_valid(shapely.from_wkb(layer_wkb)).all(), path.name
    meta, _, wkb, data = pyogrio.raw.read(sample_files["parcels"])
    fields = dict(zip(meta["fields"], data, strict=True))
    keys = {f"{w}{int(s):03d}{int(n):04d}"
            for w, s, n in zip(fields["ma_xa"], fields["so_to"], fields["so_thua"], strict=True)}
    assert len(keys) == len(wkb)
    assert {str(w) for w in fields["ma_xa"]} == {
        "27466", "27469", "27472", "27475", "27478", "27481", "27484", "27487", "27490", "27493"
    }
    geoms = shapely.from_wkb(wkb)
    assert shapely.is_valid(geoms).all()
    # Parcels inside the district's real extent once in WGS84 (checked loosely in metres here).
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    assert 600_000 < x0 < x1 < 615_000
    assert 1_180_000 < y0 < y1 < 1_191_000
    assert np.median(fields["dien_tich"]) > 50


def test_default_size_has_frontages_of_ten_to_thirty_metres() -> None:
    generator = SampleGenerator(parcels=60_000, seed=7)
    generator._frame()
    unit = generator._unit()
    cells, _ = generator._cells(unit)
    widths = cells[:, 2] - cells[:, 0]
    assert 10 <= np.percentile(widths, 10)
    assert np.percentile(widths, 90) <= 30
