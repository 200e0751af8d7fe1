"""Foundation: VN-2000 CRSs, administrative units, planning layers, parcels, procedures.

Revision ID: 0001
Revises:
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# EPSG:6960 (VN-2000 to WGS 84, coordinate frame) written as +towgs84, which is position
# vector: the three rotations change sign. auth_name stays NULL on purpose: with 'EPSG' PostGIS
# lets PROJ pick its own operation (EPSG:5194 style, ~0.8 m off in HCMC) and ignores this string.
TOWGS84_6960 = (
    "+towgs84=-191.90441429,-39.30318279,-111.45032835,"
    "0.00928836,-0.01975479,0.00427372,0.252906278"
)
VN2000_TM3 = {  # srid: central meridian (degrees, minutes)
    9205: (103, 0), 9206: (104, 0), 9207: (104, 30), 9208: (104, 45), 9209: (105, 30),
    9210: (105, 45), 9211: (106, 0), 9212: (106, 15), 9213: (106, 30), 9214: (107, 0),
    9215: (107, 15), 9216: (107, 30), 9217: (108, 15), 9218: (108, 30),
}

OLD_WARDS = [  # code, name (before 2025-07-01)
    ("27466", "Tân Thuận Đông"), ("27469", "Tân Thuận Tây"), ("27472", "Tân Kiểng"),
    ("27475", "Tân Hưng"), ("27478", "Bình Thuận"), ("27481", "Tân Quy"),
    ("27484", "Phú Thuận"), ("27487", "Tân Phú"), ("27490", "Tân Phong"), ("27493", "Phú Mỹ"),
]
# The four wards from 2025-07-01. Their codes and which old ward went where are NOT verified
# against the resolution: kept as editable reference data (verified = false).
NEW_WARDS = {
    "Tân Thuận": ("27466", ["27466", "27469", "27478"]),
    "Tân Hưng": ("27475", ["27475", "27472", "27481"]),
    "Phú Thuận": ("27484", ["27484", "27493"]),
    "Tân Mỹ": ("27487", ["27487", "27490"]),
}
MERGER = dt.date(2025, 7, 1)
DISTRICT_FOUNDED = dt.date(1997, 4, 1)

LAND_USE_CODES = [  # code, Vietnamese, English, group, colour (Circular 27/2018/TT-BTNMT)
    ("ODT", "Đất ở tại đô thị", "Urban residential", "OTC", "#FFA0FF"),
    ("ONT", "Đất ở tại nông thôn", "Rural residential", "OTC", "#FFD0FF"),
    ("LUC", "Đất chuyên trồng lúa nước", "Specialised paddy", "NNP", "#FFFC8C"),
    ("LUK", "Đất trồng lúa nước còn lại", "Other paddy", "NNP", "#FFFC96"),
    ("HNK", "Đất trồng cây hằng năm khác", "Other annual crops", "NNP", "#FFF0B4"),
    ("CLN", "Đất trồng cây lâu năm", "Perennial crops", "NNP", "#FFD2A0"),
    ("NTS", "Đất nuôi trồng thủy sản", "Aquaculture", "NNP", "#AAFFFF"),
    ("TSC", "Đất xây dựng trụ sở cơ quan", "Government offices", "PNN", "#FFAAA0"),
    ("CQP", "Đất quốc phòng", "Defence", "PNN", "#FF6450"),
    ("CAN", "Đất an ninh", "Security", "PNN", "#FF5046"),
    ("DVH", "Đất xây dựng cơ sở văn hóa", "Cultural facilities", "PNN", "#FFAAA0"),
    ("DYT", "Đất xây dựng cơ sở y tế", "Health facilities", "PNN", "#FFAAA0"),
    ("DGD", "Đất xây dựng cơ sở giáo dục và đào tạo", "Education and training", "PNN",
     "#FFAAA0"),
    ("DTT", "Đất xây dựng cơ sở thể dục thể thao", "Sport facilities", "PNN", "#FFAAA0"),
    ("DKH", "Đất xây dựng cơ sở khoa học và công nghệ", "Science and technology", "PNN",
     "#FFAAA0"),
    ("DXH", "Đất xây dựng cơ sở dịch vụ xã hội", "Social services", "PNN", "#FFAAA0"),
    ("TMD", "Đất thương mại, dịch vụ", "Commerce and services", "PNN", "#FAAAA0"),
    ("SKC", "Đất cơ sở sản xuất phi nông nghiệp", "Non-agricultural production", "PNN",
     "#FAAAA0"),
    ("SKK", "Đất khu công nghiệp", "Industrial zone", "PNN", "#FAAAA0"),
    ("DGT", "Đất giao thông", "Transport", "PNN", "#FFAA32"),
    ("DTL", "Đất thủy lợi", "Irrigation", "PNN", "#AAFFFF"),
    ("DNL", "Đất công trình năng lượng", "Energy works", "PNN", "#FFAAA0"),
    ("DBV", "Đất công trình bưu chính, viễn thông", "Post and telecoms", "PNN", "#FFAAA0"),
    ("DCH", "Đất chợ", "Market", "PNN", "#FFAAA0"),
    ("DCK", "Đất công trình công cộng khác", "Other public works", "PNN", "#FFAAA0"),
    ("DRA", "Đất bãi thải, xử lý chất thải", "Waste disposal and treatment", "PNN", "#CDAACD"),
    ("DKV", "Đất khu vui chơi, giải trí công cộng", "Public recreation", "PNN", "#FFAAA0"),
    ("DSH", "Đất sinh hoạt cộng đồng", "Community activities", "PNN", "#FFAAA0"),
    ("TON", "Đất cơ sở tôn giáo", "Religious facilities", "PNN", "#FAAAA0"),
    ("TIN", "Đất cơ sở tín ngưỡng", "Belief facilities", "PNN", "#FFAAA0"),
    ("NTD", "Đất làm nghĩa trang, nghĩa địa, nhà tang lễ, nhà hỏa táng",
     "Cemeteries and funeral facilities", "PNN", "#D2D2D2"),
    ("SON", "Đất sông, ngòi, kênh, rạch, suối", "Rivers and canals", "PNN", "#A0FFFF"),
    ("MNC", "Đất có mặt nước chuyên dùng", "Special-use water surface", "PNN", "#A0FFFF"),
    ("PNK", "Đất phi nông nghiệp khác", "Other non-agricultural", "PNN", "#FFAAA0"),
    ("BCS", "Đất bằng chưa sử dụng", "Unused flat land", "CSD", "#FFFFFE"),
]

RESIDENTIAL = ["residential_existing", "residential_new", "mixed_use"]
PROCEDURES = [
    {
        "id": "household-business-registration",
        "name_vi": "Đăng ký thành lập hộ kinh doanh",
        "name_en": "Household business registration",
        "online_level": "full",
        "statutory_days": 3,
        "fee_vnd": 100_000,
        "applies_to": [*RESIDENTIAL, "commercial"],
        "documents": [
            {"vi": "Giấy đề nghị đăng ký hộ kinh doanh", "en": "Application form"},
            {"vi": "Giấy tờ pháp lý của chủ hộ và thành viên hộ gia đình",
             "en": "ID of the owner and household members"},
            {"vi": "Biên bản họp và văn bản ủy quyền (nếu các thành viên cùng đăng ký)",
             "en": "Minutes and authorisation where members register jointly",
             "verified": False},
        ],
    },
    {
        "id": "construction-permit-house",
        "name_vi": "Cấp giấy phép xây dựng nhà ở riêng lẻ",
        "name_en": "Construction permit for an individual house",
        "online_level": "partial",
        "statutory_days": 15,
        "fee_vnd": 75_000,
        "applies_to": RESIDENTIAL,
        "documents": [
            {"vi": "Đơn đề nghị cấp giấy phép xây dựng", "en": "Application form"},
            {"vi": "Bản sao giấy chứng nhận quyền sử dụng đất",
             "en": "Copy of the land-use rights certificate"},
            {"vi": "Hai bộ bản vẽ thiết kế xây dựng", "en": "Two sets of design drawings"},
            {"vi": "Bản cam kết bảo đảm an toàn công trình liền kề (nếu có)",
             "en": "Adjacent-safety commitment where needed", "verified": False},
        ],
    },
]


def _geom(kind: str, srid: int = 4326) -> Geometry:
    return Geometry(kind, srid=srid, spatial_index=False)


def _mercator(kind: str) -> sa.Column:
    return sa.Column(
        "geom_3857", _geom(kind, 3857), sa.Computed("ST_Transform(geom, 3857)", persisted=True)
    )


def _gist(table: str, column: str = "geom") -> None:
    op.create_index(f"ix_{table}_{column}", table, [column], postgresql_using="gist")


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    srs = sa.table(
        "spatial_ref_sys", sa.column("srid"), sa.column("auth_name"), sa.column("auth_srid"),
        sa.column("srtext"), sa.column("proj4text"),
    )
    op.execute(srs.delete().where(srs.c.srid.in_(list(VN2000_TM3))))
    op.bulk_insert(srs, [
        {
            "srid": srid, "auth_name": None, "auth_srid": None, "srtext": None,
            "proj4text": (
                f"+proj=tmerc +lat_0=0 +lon_0={deg + minutes / 60:g} +k=0.9999 "
                f"+x_0=500000 +y_0=0 +ellps=WGS84 {TOWGS84_6960} +units=m +no_defs"
            ),
        }
        for srid, (deg, minutes) in VN2000_TM3.items()
    ])

    admin = op.create_table(
        "admin_unit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(10), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("admin_unit.id")),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date),
        sa.Column("verified", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("geom", _geom("MULTIPOLYGON")),
        sa.UniqueConstraint("level", "code", "valid_from"),
    )
    _gist("admin_unit")
    op.create_table(
        "admin_unit_succession",
        sa.Column("old_unit_id", sa.Integer, sa.ForeignKey("admin_unit.id"), primary_key=True),
        sa.Column("new_unit_id", sa.Integer, sa.ForeignKey("admin_unit.id"), primary_key=True),
        sa.Column("effective", sa.Date, nullable=False),
        sa.Column("verified", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    land_use_code = op.create_table(
        "land_use_code",
        sa.Column("catalogue", sa.String(32), primary_key=True),
        sa.Column("code", sa.String(8), primary_key=True),
        sa.Column("name_vi", sa.Text, nullable=False),
        sa.Column("name_en", sa.Text, nullable=False),
        sa.Column("group_code", sa.String(8), nullable=False),
        sa.Column("fill_colour", sa.String(7), nullable=False),
    )
    op.create_table(
        "zoning_plan",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("plan_code", sa.String(32), nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("scale", sa.String(16), nullable=False, server_default="1/2000"),
        sa.Column("decision_no", sa.Text, nullable=False),
        sa.Column("decision_date", sa.Date, nullable=False),
        sa.Column("approving_body", sa.Text, nullable=False),
        sa.Column("geom", _geom("MULTIPOLYGON"), nullable=False),
    )
    _gist("zoning_plan")
    op.create_table(
        "zoning_block",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("plan_id", sa.Integer, sa.ForeignKey("zoning_plan.id"), nullable=False),
        sa.Column("block_code", sa.String(32), nullable=False),
        sa.Column("function_name", sa.Text, nullable=False),
        sa.Column("function_category", sa.String(32), nullable=False),
        sa.Column("floors_min", sa.Integer),
        sa.Column("floors_max", sa.Integer),
        sa.Column("height_max_m", sa.Float),
        sa.Column("coverage_max_pct", sa.Float),
        sa.Column("far_max", sa.Float),
        sa.Column("population", sa.Integer),
        sa.Column("area_m2", sa.Float, nullable=False),
        sa.Column("colour", sa.String(7), nullable=False),
        sa.Column("geom", _geom("MULTIPOLYGON"), nullable=False),
        _mercator("MULTIPOLYGON"),
    )
    _gist("zoning_block")
    _gist("zoning_block", "geom_3857")
    op.create_table(
        "land_use_zone",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(8), nullable=False),
        sa.Column("area_m2", sa.Float, nullable=False),
        sa.Column("geom", _geom("MULTIPOLYGON"), nullable=False),
        _mercator("MULTIPOLYGON"),
    )
    _gist("land_use_zone")
    _gist("land_use_zone", "geom_3857")
    op.create_table(
        "road",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("name_search", sa.Text, nullable=False),
        sa.Column("right_of_way_m", sa.Float, nullable=False),
        sa.Column("geom", _geom("MULTILINESTRING"), nullable=False),
        sa.Column("row_geom", _geom("MULTIPOLYGON"), nullable=False),
        _mercator("MULTILINESTRING"),
    )
    _gist("road", "row_geom")
    _gist("road", "geom_3857")
    op.create_index("ix_road_name_trgm", "road", [sa.text("name_search gin_trgm_ops")],
                    postgresql_using="gin")
    op.create_table(
        "water_body",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("geom", _geom("MULTIPOLYGON"), nullable=False),
        _mercator("MULTIPOLYGON"),
    )
    _gist("water_body")
    _gist("water_body", "geom_3857")
    op.create_table(
        "detailed_plan",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("decision_no", sa.Text, nullable=False),
        sa.Column("decision_date", sa.Date, nullable=False),
        sa.Column("approving_body", sa.Text, nullable=False),
        sa.Column("area_m2", sa.Float, nullable=False),
        sa.Column("geom", _geom("MULTIPOLYGON"), nullable=False),
    )
    _gist("detailed_plan")
    op.create_table(
        "parcel",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("parcel_key", sa.String(12), nullable=False, unique=True),
        sa.Column("ward_id", sa.Integer, sa.ForeignKey("admin_unit.id"), nullable=False),
        sa.Column("current_ward_id", sa.Integer, sa.ForeignKey("admin_unit.id")),
        sa.Column("sheet_no", sa.Integer, nullable=False),
        sa.Column("parcel_no", sa.Integer, nullable=False),
        sa.Column("area_m2", sa.Numeric(12, 1), nullable=False),
        sa.Column("address", sa.Text),
        sa.Column("address_search", sa.Text),
        sa.Column("geom", _geom("MULTIPOLYGON"), nullable=False),
        _mercator("MULTIPOLYGON"),
        sa.UniqueConstraint("ward_id", "sheet_no", "parcel_no"),
        sa.CheckConstraint("sheet_no BETWEEN 1 AND 999", name="sheet_no_range"),
        sa.CheckConstraint("parcel_no BETWEEN 1 AND 9999", name="parcel_no_range"),
    )
    _gist("parcel")
    _gist("parcel", "geom_3857")
    op.create_index("ix_parcel_address_trgm", "parcel", [sa.text("address_search gin_trgm_ops")],
                    postgresql_using="gin")
    procedure = op.create_table(
        "procedure",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name_vi", sa.Text, nullable=False),
        sa.Column("name_en", sa.Text, nullable=False),
        sa.Column("online_level", sa.String(16), nullable=False),
        sa.Column("statutory_days", sa.Integer, nullable=False),
        sa.Column("fee_vnd", sa.Integer),
        sa.Column("fee_verified", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("applies_to", ARRAY(sa.String(32)), nullable=False),
        sa.Column("documents", JSONB, nullable=False),
    )

    _seed_admin_units(admin)
    op.bulk_insert(land_use_code, [
        {"catalogue": "TT27-2018", "code": c, "name_vi": vi, "name_en": en, "group_code": g,
         "fill_colour": colour}
        for c, vi, en, g, colour in LAND_USE_CODES
    ])
    op.bulk_insert(procedure, PROCEDURES)


def _seed_admin_units(admin: sa.Table) -> None:
    conn = op.get_bind()

    def add(code: str, name: str, level: str, parent: int | None, start: dt.date,
            end: dt.date | None, verified: bool = True) -> int:
        return int(conn.execute(
            admin.insert().values(code=code, name=name, level=level, parent_id=parent,
                                  valid_from=start, valid_to=end, verified=verified)
            .returning(admin.c.id)
        ).scalar_one())

    city = add("79", "Thành phố Hồ Chí Minh", "province", None, dt.date(1976, 7, 2), None)
    district = add("778", "Quận 7", "district", city, DISTRICT_FOUNDED, MERGER)
    old_ids = {code: add(code, name, "ward", district, DISTRICT_FOUNDED, MERGER)
               for code, name in OLD_WARDS}
    succession = sa.table("admin_unit_succession", sa.column("old_unit_id"),
                          sa.column("new_unit_id"), sa.column("effective"),
                          sa.column("verified"))
    for name, (code, members) in NEW_WARDS.items():
        new_id = add(code, name, "ward", city, MERGER, None, verified=False)
        conn.execute(succession.insert(), [
            {"old_unit_id": old_ids[m], "new_unit_id": new_id, "effective": MERGER,
             "verified": False}
            for m in members
        ])


def downgrade() -> None:
    for table in ("procedure", "parcel", "detailed_plan", "water_body", "road", "land_use_zone",
                  "zoning_block", "zoning_plan", "land_use_code", "admin_unit_succession",
                  "admin_unit"):
        op.drop_table(table)
    op.execute("DELETE FROM spatial_ref_sys WHERE srid BETWEEN 9205 AND 9218")
