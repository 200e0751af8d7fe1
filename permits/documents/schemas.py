"""API shapes of a dossier's documents."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

# What a procedure asks for is the catalogue's own shape; it is read from there.
from permits.procedures.schemas import DocumentSpec

__all__ = ["DocumentPublic", "DocumentSpec"]


class DocumentPublic(BaseModel):
    """A file attached to a dossier, as its applicant and the staff handling it see it."""

    id: int
    key: str = Field(description="The procedure's document key")
    name_vi: str
    name_en: str
    file_name: str = Field(description="The name it came with, made harmless (display only)")
    content_type: str = Field(description="As read from the file's content")
    size_bytes: int
    sha256: str
    uploaded_at: datetime
    for_event_id: int | None = Field(description="The supplement request it answers")
