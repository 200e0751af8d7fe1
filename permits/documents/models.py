"""The table of a dossier's documents (migration 0025)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base


class DossierDocument(Base):
    """A file attached to a dossier for one of its procedure's documents."""

    __tablename__ = "dossier_document"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("dossier.id"))
    doc_key: Mapped[str] = mapped_column(String(40))
    sha256: Mapped[str] = mapped_column(String(64))  # the file's name in the store
    content_type: Mapped[str] = mapped_column(String(64))  # as sniffed, not as declared
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    file_name: Mapped[str] = mapped_column(Text)  # for display only, never a path
    uploaded_by: Mapped[int] = mapped_column(BigInteger, ForeignKey("person.id"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    for_event_id: Mapped[int | None] = mapped_column(BigInteger)  # a supplement request
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
