"""Procedures as data, editable by administrators (each change in the audit log): field,
online level (Decree 42/2022), statutory time in working or calendar days, fee and its legal
basis, the handling body and level, documents (mandatory, accepted types, size limits,
templates), the form as a JSON Schema, where it applies; five seeded, each fact not verified
marked so.

Revision ID: 0023
Revises: 0022
"""

import json
import unicodedata
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

RESIDENTIAL = ["residential_existing", "residential_new", "mixed_use"]
PDF, IMAGES = ["application/pdf"], ["image/jpeg", "image/png"]


def _doc(key: str, vi: str, en: str, *, mandatory: bool = True, types: list[str] | None = None,
         max_mb: int = 10, template: str | None = None, verified: bool = True) -> dict[str, Any]:
    return {"key": key, "vi": vi, "en": en, "mandatory": mandatory,
            "types": types or PDF + IMAGES, "max_mb": max_mb, "template": template,
            "verified": verified}


def _text(title: str, longest: int = 200, **more: Any) -> dict[str, Any]:
    return {"type": "string", "title": title, "maxLength": longest, **more}


def _number(title: str, least: float, most: float, *, integer: bool = False) -> dict[str, Any]:
    return {"type": "integer" if integer else "number", "title": title, "minimum": least,
            "maximum": most}


BUILDING = {  # what a permit's form asks of the planned building (the pre-check reads these)
    "floors": _number("Số tầng", 1, 100, integer=True),
    "height_m": _number("Chiều cao công trình (m)", 1, 400),
    "footprint_m2": _number("Diện tích xây dựng tầng 1 (m²)", 1, 100_000),
    "floor_area_m2": _number("Tổng diện tích sàn (m²)", 1, 1_000_000),
}
BUSINESS = {
    "business_name": _text("Tên hộ kinh doanh", 100),
    "business_lines": _text("Ngành, nghề kinh doanh", 500),
    "capital_vnd": _number("Vốn kinh doanh (đồng)", 0, 10**13, integer=True),
    "employees": _number("Số lao động", 0, 10, integer=True),
}


def _form(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
            "additionalProperties": False, "properties": properties, "required": required}


PROCEDURES: list[dict[str, Any]] = [
    {"id": "household-business-registration", "field": "household_business",
     "online_level": "full", "statutory_days": 3, "day_kind": "working", "fee_vnd": 100_000,
     "fee_basis": "Nghị quyết HĐND Thành phố về lệ phí đăng ký kinh doanh", "level": "ward",
     "department": "economy", "applies_to": [*RESIDENTIAL, "commercial"],
     "unverified": ["fee_vnd", "fee_basis", "level"],
     "form_schema": _form(BUSINESS, ["business_name", "business_lines", "capital_vnd"]),
     "documents": [
         _doc("application", "Giấy đề nghị đăng ký hộ kinh doanh", "Application form",
              template="giay-de-nghi-dang-ky-ho-kinh-doanh.pdf"),
         _doc("identity", "Giấy tờ pháp lý của chủ hộ và thành viên hộ gia đình",
              "ID of the owner and household members"),
         _doc("authorisation", "Biên bản họp và văn bản ủy quyền (nếu các thành viên cùng "
              "đăng ký)", "Minutes and authorisation where members register jointly",
              mandatory=False, verified=False)]},
    {"id": "household-business-change", "name_vi": "Đăng ký thay đổi nội dung đăng ký hộ kinh "
     "doanh", "name_en": "Change to a registered household business",
     "field": "household_business", "online_level": "full", "statutory_days": 3,
     "day_kind": "working", "fee_vnd": 50_000, "fee_basis": "Nghị quyết HĐND Thành phố về lệ "
     "phí đăng ký kinh doanh", "level": "ward", "department": "economy",
     "applies_to": [*RESIDENTIAL, "commercial"],
     "unverified": ["fee_vnd", "fee_basis", "level", "documents"],
     "form_schema": _form({"registration_no": _text("Số giấy chứng nhận đăng ký hộ kinh doanh",
                                                    30),
                           "changes": _text("Nội dung thay đổi", 1000), **BUSINESS},
                          ["registration_no", "changes"]),
     "documents": [
         _doc("application", "Thông báo thay đổi nội dung đăng ký hộ kinh doanh",
              "Notice of the change", verified=False),
         _doc("certificate", "Bản chính giấy chứng nhận đăng ký hộ kinh doanh",
              "The original registration certificate", verified=False)]},
    {"id": "construction-permit-house", "field": "construction", "online_level": "partial",
     "statutory_days": 15, "day_kind": "working", "fee_vnd": 75_000,
     "fee_basis": "Nghị quyết HĐND Thành phố về lệ phí cấp giấy phép xây dựng", "level": "ward",
     "department": "urban-management", "applies_to": RESIDENTIAL,
     "unverified": ["fee_vnd", "fee_basis", "level", "day_kind"],
     "form_schema": _form(BUILDING, list(BUILDING)),
     "documents": [
         _doc("application", "Đơn đề nghị cấp giấy phép xây dựng", "Application form",
              template="don-de-nghi-cap-giay-phep-xay-dung.pdf"),
         _doc("land_certificate", "Bản sao giấy chứng nhận quyền sử dụng đất",
              "Copy of the land-use rights certificate"),
         _doc("drawings", "Hai bộ bản vẽ thiết kế xây dựng", "Two sets of design drawings",
              types=PDF, max_mb=50),
         _doc("adjacent_safety", "Bản cam kết bảo đảm an toàn công trình liền kề (nếu có)",
              "Adjacent-safety commitment where needed", mandatory=False, verified=False)]},
    {"id": "construction-permit-repair",
     "name_vi": "Cấp giấy phép xây dựng sửa chữa, cải tạo nhà ở riêng lẻ",
     "name_en": "Permit to repair or renovate an individual house",
     "field": "construction", "online_level": "partial", "statutory_days": 15,
     "day_kind": "working", "fee_vnd": 75_000, "fee_basis": "Nghị quyết HĐND Thành phố về lệ "
     "phí cấp giấy phép xây dựng", "level": "ward", "department": "urban-management",
     "applies_to": RESIDENTIAL,
     "unverified": ["fee_vnd", "fee_basis", "level", "statutory_days", "documents"],
     "form_schema": _form({**BUILDING, "works": _text("Nội dung sửa chữa, cải tạo", 1000)},
                          [*BUILDING, "works"]),
     "documents": [
         _doc("application", "Đơn đề nghị cấp giấy phép sửa chữa, cải tạo",
              "Application form", verified=False),
         _doc("land_certificate", "Bản sao giấy chứng nhận quyền sử dụng đất và quyền sở hữu "
              "nhà", "Copy of the land and house certificate"),
         _doc("photos", "Ảnh chụp hiện trạng công trình", "Photographs of the building as it "
              "is", types=IMAGES, verified=False),
         _doc("drawings", "Bản vẽ phần sửa chữa, cải tạo", "Drawings of the works", types=PDF,
              max_mb=50, verified=False)]},
    {"id": "labour-rules-registration", "name_vi": "Đăng ký nội quy lao động",
     "name_en": "Registration of workplace rules", "field": "labour", "online_level": "full",
     "statutory_days": 7, "day_kind": "working", "fee_vnd": None,
     "fee_basis": "Không thu phí", "level": "city", "department": "home-affairs",
     # Offered on the cards of workplaces (an employer's premises), not of homes and parks.
     "applies_to": ["commercial", "industrial", "mixed_use"],
     "unverified": ["level", "department", "statutory_days", "documents"],
     "form_schema": _form({"employer": _text("Tên người sử dụng lao động", 200),
                           "employees": _number("Số người lao động", 1, 100_000,
                                                integer=True)}, ["employer", "employees"]),
     "documents": [
         _doc("application", "Văn bản đề nghị đăng ký nội quy lao động",
              "Request to register the rules", verified=False),
         _doc("rules", "Nội quy lao động", "The workplace rules", types=PDF, verified=False)]},
]


def upgrade() -> None:
    for column in (
        sa.Column("national_code", sa.String(32)),  # the national portal's, where known
        sa.Column("field", sa.String(32), nullable=False, server_default="construction"),
        sa.Column("day_kind", sa.String(8), nullable=False, server_default="working"),
        sa.Column("fee_basis", sa.Text),
        sa.Column("level", sa.String(8), nullable=False, server_default="ward"),
        sa.Column("form_schema", JSONB, nullable=False, server_default="{}"),
        sa.Column("applies_to_land_use", ARRAY(sa.String(8)), nullable=False,
                  server_default="{}"),
        sa.Column("unverified", ARRAY(sa.String(32)), nullable=False, server_default="{}"),
        sa.Column("name_search", sa.Text, nullable=False, server_default=""),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    ):
        op.add_column("procedure", column)
    for constraint, check in (
            ("procedure_field", "field IN ('construction', 'household_business', 'labour')"),
            ("procedure_online_level", "online_level IN ('full', 'partial')"),
            ("procedure_day_kind", "day_kind IN ('working', 'calendar')"),
            ("procedure_level", "level IN ('ward', 'city')"),
            ("procedure_days", "statutory_days BETWEEN 1 AND 365")):
        op.create_check_constraint(constraint, "procedure", check)
    conn = op.get_bind()
    for spec in PROCEDURES:
        values = {k: v for k, v in spec.items() if k != "id"}
        exists = conn.execute(sa.text("SELECT 1 FROM procedure WHERE id = :i"),
                              {"i": spec["id"]}).first()
        if not exists:
            conn.execute(sa.text(
                "INSERT INTO procedure (id, name_vi, name_en, online_level, statutory_days, "
                "applies_to, documents) VALUES (:i, :vi, :en, :o, :d, :a, '[]')"),
                {"i": spec["id"], "vi": spec["name_vi"], "en": spec["name_en"],
                 "o": spec["online_level"], "d": spec["statutory_days"], "a": []})
        assignments = []
        params: dict[str, Any] = {"i": spec["id"]}
        for key, value in values.items():
            if key in ("documents", "form_schema"):
                assignments.append(f"{key} = CAST(:{key} AS jsonb)")
                params[key] = json.dumps(value, ensure_ascii=False)
            else:
                assignments.append(f"{key} = :{key}")
                params[key] = value
        conn.execute(sa.text(f"UPDATE procedure SET {', '.join(assignments)} WHERE id = :i"),
                     params)
    # Search without diacritics, as layers.text.normalize_search writes it (copied: a
    # migration stays as it was written while the app's code moves on).
    for row in conn.execute(sa.text("SELECT id, name_vi, name_en FROM procedure")).all():
        conn.execute(sa.text("UPDATE procedure SET name_search = :s WHERE id = :i"),
                     {"s": _fold(f"{row.name_vi} {row.name_en}"), "i": row.id})


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c))
                    .lower().split())


def downgrade() -> None:
    op.execute("DELETE FROM procedure WHERE id IN ('household-business-change', "
               "'construction-permit-repair', 'labour-rules-registration') AND NOT EXISTS "
               "(SELECT 1 FROM dossier d WHERE d.procedure_id = procedure.id)")
    for constraint in ("procedure_field", "procedure_online_level", "procedure_day_kind",
                       "procedure_level", "procedure_days"):
        op.drop_constraint(constraint, "procedure", type_="check")
    for column in ("national_code", "field", "day_kind", "fee_basis", "level", "form_schema",
                   "applies_to_land_use", "unverified", "name_search", "version", "updated_at"):
        op.drop_column("procedure", column)
