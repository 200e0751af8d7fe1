"""Liveness and readiness."""

from fastapi import APIRouter

from core.deps import ConnectionDep

router = APIRouter(prefix="/api", tags=["health"])


@router.get("/health", summary="Liveness and database readiness")
def health(conn: ConnectionDep) -> dict[str, object]:
    """Whether the API is up and its database answers."""
    conn.exec_driver_sql("SELECT 1").scalar_one()
    return {"status": "ok"}
