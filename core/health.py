"""Liveness and readiness."""


from core.deps import ConnectionDep
from core.routing import Router

router = Router(prefix="/api", tags=["health"])


@router.get("/health", summary="Liveness and database readiness")
def health(conn: ConnectionDep) -> dict[str, object]:
    """Whether the API is up and its database answers."""
    conn.exec_driver_sql("SELECT 1").scalar_one()
    return {"status": "ok"}
