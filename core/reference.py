"""Reference data in force that several packages read the same way."""

# The land-use code list whose names and colours cards, tiles and the legend show.
LAND_USE_CATALOGUE = "TT27-2018"

# Zoning blocks' function categories: the names 1/2000 plans give each (the first is ours),
# and the land-use codes that decide it when a block's file carries a code and no name.
FUNCTION_CATEGORIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "residential_existing": (
        ("Đất nhóm nhà ở hiện hữu", "nhà ở hiện hữu", "ở hiện hữu", "dân cư hiện hữu",
         "hiện hữu cải tạo", "hiện hữu chỉnh trang", "nhà ở cải tạo", "dân cư cải tạo",
         "dân cư chỉnh trang",
         "residential existing"),
        ("ODT", "ONT")),
    "residential_new": (
        ("Đất nhóm nhà ở xây dựng mới", "nhà ở xây dựng mới", "ở xây dựng mới", "nhà ở mới",
         "dân cư mới", "dân cư xây dựng mới", "residential new"),
        ()),
    "mixed_use": (("Đất hỗn hợp", "hỗn hợp", "đa chức năng", "mixed use"), ()),
    "commercial": (("Đất thương mại, dịch vụ", "thương mại", "dịch vụ", "commercial"),
                   ("TMD",)),
    "park": (("Đất công viên cây xanh", "công viên", "cây xanh", "vui chơi giải trí", "park",
              "green space"), ("DKV",)),
    "education": (("Đất giáo dục", "giáo dục", "trường học", "trường", "education", "school"),
                  ("DGD",)),
    "health": (("Đất y tế", "y tế", "bệnh viện", "trạm y tế", "health", "hospital"), ("DYT",)),
    "public_facility": (
        ("Đất công trình công cộng", "công trình công cộng", "công cộng", "văn hóa",
         "hành chính", "chợ", "thể dục thể thao", "public facility"),
        ("TSC", "DVH", "DCH", "DTT", "DCK", "DSH", "DXH")),
    "industrial": (("Đất công nghiệp", "công nghiệp", "kho tàng", "khu chế xuất",
                    "industrial"), ("SKK", "SKC")),
    "religious": (("Đất tôn giáo", "tôn giáo", "tín ngưỡng", "religious"), ("TON", "TIN")),
}
# A block whose function neither its name nor a land-use code decides keeps its name and
# this category, and the report names it.
UNCLASSIFIED = "unclassified"
