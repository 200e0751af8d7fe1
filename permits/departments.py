"""The district's departments and fields of work, by the platform's codes, in Vietnamese."""

from __future__ import annotations

# The codes are the platform's own; no table names the departments yet, so the names live
# here (unverified against the district's own wording).
DEPARTMENT_NAMES = {
    "urban-management": "Phòng Quản lý đô thị",
    "economy": "Phòng Kinh tế",
    "natural-resources-environment": "Phòng Tài nguyên và Môi trường",
    "home-affairs": "Phòng Nội vụ",
}
# The procedures' fields (procedure.field), and the feedback's one.
FIELD_NAMES = {
    "construction": "Xây dựng",
    "household_business": "Hộ kinh doanh",
    "labour": "Lao động",
    "feedback": "Phản ánh, kiến nghị",
}


def agency(department: str) -> str:
    """A department's name, in Vietnamese."""
    return DEPARTMENT_NAMES.get(department, department)
