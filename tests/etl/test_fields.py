"""The field doctor on its own: names and values ranked, clear winners taken, the rest asked."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from core.settings import PROJECT_ROOT
from etl.check import DERIVABLE
from etl.fields import (
    Known,
    diagnose,
    fold,
    function_category,
    function_names,
    land_use_code,
    name_evidence,
)
from etl.readers.base import ReaderError
from etl.readers.vector import NeedsAnswer


def _migration(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(
        name, PROJECT_ROOT / "migrations" / "versions" / f"{name}.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The schemas as the migrations write them into the catalogue.
BLOCKS = [*_migration("0014_layer_schemas").SCHEMAS["zoning_blocks"],
          *_migration("0022_field_doctor").BLOCK_FIELDS]
LAND_USE = _migration("0014_layer_schemas").SCHEMAS["land_use"]
KNOWN = Known(frozenset({"ODT", "TMD", "DKV", "DGD", "SKK"}),
              {fold("Đất ở tại đô thị"): "ODT", fold("Đất thương mại, dịch vụ"): "TMD",
               fold("Đất khu vui chơi, giải trí công cộng"): "DKV"},
              frozenset({"QHPK-01", "QHPK-02"}), frozenset({"residential_existing", "park"}),
              function_names())
DERIVED = DERIVABLE["zoning_blocks"]


def test_names_are_compared_folded_cut_numbered_and_abbreviated() -> None:
    assert name_evidence("mat_do_xd", [], "Mật_Độ_XD").score == 1.0
    assert name_evidence("chuc_nang", [], "CHUCNANG").score == 1.0
    cut = name_evidence("ma_chuc_nang", [], "MA_CHUC_NA")
    assert cut.score == 0.95
    assert "10 characters" in cut.why
    siblings = [s["name"] for s in BLOCKS]
    # A DBF keeps the first cut and numbers the next: TANG_CAO_M, TANG_CAO_1.
    assert name_evidence("tang_cao_min", [], "TANG_CAO_M", siblings).score == 0.95
    assert name_evidence("tang_cao_max", [], "TANG_CAO_M", siblings).score < 0.7
    assert name_evidence("tang_cao_max", [], "TANG_CAO_1", siblings).score == 0.9
    assert name_evidence("ma_o_pho", [], "MOP").score == 0.85  # its initials
    assert name_evidence("he_so_sdd", [], "FAR").score == 1.0  # the English name
    assert name_evidence("dan_so", [], "GHI_CHU").score == 0.0


def test_land_use_codes_come_from_codes_names_and_layer_names() -> None:
    assert land_use_code("odt", KNOWN) == ("ODT", "code")
    assert land_use_code("Đất ở tại đô thị", KNOWN) == ("ODT", "name")
    assert land_use_code("DAT O TAI DO THI", KNOWN) == ("ODT", "name")  # unaccented
    assert land_use_code("thương mại, dịch vụ", KNOWN) == ("TMD", "name")  # without "Đất"
    assert land_use_code("QH_SDD_DKV", KNOWN) == ("DKV", "inside")  # a DXF layer name
    assert land_use_code("Đất lạ", KNOWN) == (None, "")


@pytest.mark.parametrize(("name", "category"), [
    ("Đất nhóm nhà ở hiện hữu cải tạo", "residential_existing"),
    ("dat o hien huu chinh trang", "residential_existing"),
    ("Khu dân cư xây dựng mới", "residential_new"),
    ("Đất hỗn hợp (nhà ở, thương mại)", "mixed_use"),
    ("Công viên cây xanh tập trung", "park"),
    ("Đất chợ", "public_facility"),
    ("Bãi đỗ xe", None),
])
def test_a_function_category_follows_from_its_name(name: str, category: str | None) -> None:
    assert function_category(name, KNOWN) == category


def test_clear_candidates_are_taken_and_reported() -> None:
    columns = {"KH_O": ["A-1", "A-2", "B-3"], "MA_QH": ["QHPK-01"] * 3,
               "FUNCTION": ["Dat o hien huu", "Cong vien", "Truong hoc"],
               "FLOORS": [5, 6, None], "GHI_CHU": ["a", "b", "c"]}
    mapped = diagnose(BLOCKS, columns, KNOWN, {}, derivable=DERIVED)
    assert mapped.sources["ma_o_pho"] == "KH_O"
    assert mapped.how["ma_o_pho"].startswith("clearly KH_O: the initials")
    assert mapped.sources["chuc_nang"] == "FUNCTION"
    assert mapped.sources["tang_cao_max"] == "FLOORS"
    assert "ma_chuc_nang" not in mapped.sources  # derived from the function's name
    assert mapped.extra == ["GHI_CHU"]


def test_unclear_fields_are_asked_best_first_with_reasons_and_samples() -> None:
    columns = {"O": ["A-1", "A-2", "B-3"], "KHU": ["QHPK-01"] * 3,
               "TEN": ["Đất hỗn hợp", "Công viên", "Trường học"],
               "SO_A": [5.0, 6.0, 7.0], "SO_B": [60.0, 55.0, 40.0]}
    with pytest.raises(NeedsAnswer) as asked:
        diagnose(BLOCKS, columns, KNOWN, {}, derivable=DERIVED)
    question = asked.value.question
    assert question.kind == "fields"
    by_field = {q["field"]: q for q in question.candidates}
    plan = by_field["ma_qh"]
    assert plan["required"]
    assert not plan["none_allowed"]
    assert plan["candidates"][0]["value"] == "KHU"
    assert plan["candidates"][0]["why"][1] == "100% of its values are zoning plans' codes"
    assert plan["candidates"][0]["samples"] == ["QHPK-01"]
    assert by_field["ma_o_pho"]["candidates"][0]["value"] == "O"
    floors = by_field["tang_cao_max"]
    assert floors["none_allowed"]
    assert not floors["required"]
    scores = [c["score"] for c in floors["candidates"]]
    assert scores == sorted(scores, reverse=True)


def test_answers_map_leave_out_and_are_checked() -> None:
    columns = {"O": ["A-1"], "KHU": ["QHPK-01"], "TEN": ["Đất hỗn hợp"], "SO_A": [5]}
    answers = {"map:ma_o_pho": "o", "map:ma_qh": "KHU", "map:chuc_nang": "TEN",
               "map:tang_cao_max": "SO_A", "map:tang_cao_min": ""}
    mapped = diagnose(BLOCKS, columns, KNOWN, answers, derivable=DERIVED)
    assert mapped.sources["ma_o_pho"] == "O"
    assert mapped.how["ma_o_pho"] == "answered"
    assert mapped.left_out == ["tang_cao_min"]
    assert mapped.answers()["map:tang_cao_min"] == ""
    with pytest.raises(ReaderError, match="the file has no field NOPE"):
        diagnose(BLOCKS, columns, KNOWN, answers | {"map:ma_qh": "NOPE"}, derivable=DERIVED)
    with pytest.raises(ReaderError, match="ma_o_pho is required"):
        diagnose(BLOCKS, columns, KNOWN, answers | {"map:ma_o_pho": ""}, derivable=DERIVED)
    with pytest.raises(ReaderError, match="the layer has no field cao"):
        diagnose(BLOCKS, columns, KNOWN, answers | {"map:cao": "SO_A"}, derivable=DERIVED)


def test_a_remembered_mapping_is_used_and_an_answer_changes_it() -> None:
    columns = {"LOAI": ["Đất ở tại đô thị", "Đất thương mại, dịch vụ"], "X": ["a", "b"]}
    with pytest.raises(ReaderError, match="no field for ma_loai_dat: none of its fields"):
        diagnose(LAND_USE, {"A": ["x"], "B": ["y"]}, KNOWN, {})  # nothing to offer
    last = {"map:ma_loai_dat": "LOAI"}
    mapped = diagnose(LAND_USE, columns, KNOWN, {}, remembered=last)
    assert mapped.how["ma_loai_dat"] == "mapped as last time"
    assert mapped.translate == {"ma_loai_dat": "names"}  # names made codes
    changed = diagnose(LAND_USE, columns, KNOWN, {"map:ma_loai_dat": "X"}, remembered=last)
    assert changed.sources["ma_loai_dat"] == "X"
    assert changed.how["ma_loai_dat"] == "answered"


def test_the_checker_derives_categories_and_notes_a_block_it_cannot_classify() -> None:
    import numpy as np
    import orjson
    import shapely

    from etl.check import Checker, Layer, Mapping
    from etl.readers.base import FeatureBatch

    columns = {"O": np.array(["A-1", "A-2", "A-3"], dtype=object),
               "KHU": np.array(["QHPK-01"] * 3, dtype=object),
               "TEN": np.array(["Đất nhóm nhà ở hiện hữu cải tạo", "Bãi đỗ xe", "Bãi đỗ xe"],
                               dtype=object),
               "LOAI": np.array([None, "DKV", None], dtype=object),
               "TANG": np.array([5.0, np.nan, 3.0])}
    layer = Layer({"id": "zoning_blocks", "kind": "zoning_blocks", "schema": BLOCKS})
    mapping = Mapping({"ma_o_pho": "O", "ma_qh": "KHU", "chuc_nang": "TEN",
                       "ma_loai_dat": "LOAI", "tang_cao_max": "TANG"}, known=KNOWN)
    checker = Checker(layer, list(columns), {"ma_qh": {"QHPK-01"}}, mapping)
    boxes = np.array([shapely.box(106.7 + i, 10.7, 106.71 + i, 10.71) for i in range(3)],
                     dtype=object)
    checked = checker.check(FeatureBatch(boxes, columns, 4326, "test"), 4326, False, 1)
    assert checked.issues[0].outcome == "noted"
    assert checked.issues[0].feature == "A-3"
    assert "kept as unclassified" in checked.issues[0].problem
    assert len(checked.issues) == 1  # nothing refused
    rows = checked.data.split(b"\x01{")[1:]  # each row's jsonb props follow its version byte
    props = [orjson.loads(b"{" + r[:r.index(b"}") + 1]) for r in rows]
    assert [p["ma_chuc_nang"] for p in props] == ["residential_existing", "park",
                                                  "unclassified"]
    assert [p["tang_cao_max"] for p in props] == [5, None, 3]  # NULL stays NULL
