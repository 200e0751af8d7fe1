"""Raster tiles from Cloud-Optimized GeoTIFFs, addressed by catalogue id only.

titiler's tiler factory serves them; its `url=` parameter, the classic hole, does not exist
here: the path dependency turns the catalogue id in the URL into a file in the raster folder.
"""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Annotated

import rasterio
from fastapi import Depends, FastAPI, Path, Request
from rio_tiler.io import Reader
from titiler.core.factory import TilerFactory

from accounts.auth import authorize
from core.deps import ConnectionDep
from core.errors import NotFoundError

RASTER_ID = r"^[a-z0-9][a-z0-9_-]{0,63}$"

# GDAL as a reader of local files only: no network (the GeoTIFF-only driver list is set by
# GeoTiffReader).
GDAL_ENV = {
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".none",
    "GDAL_HTTP_TIMEOUT": "1",
    "CPL_VSIL_CURL_USE_HEAD": "NO",
}


def raster_folder(request: Request) -> FsPath:
    """Where the platform keeps its COGs."""
    return FsPath(request.app.state.settings.var_dir) / "rasters"


def catalogue_path(
    request: Request,
    conn: ConnectionDep,
    layer_id: Annotated[str, Path(pattern=RASTER_ID, description="Raster layer id")],
) -> str:
    """The local file of a catalogued raster layer (404 for any other id)."""
    row = conn.exec_driver_sql(
        "SELECT file FROM raster_layer WHERE id = %(id)s", {"id": layer_id}
    ).first()
    if row is None:
        raise NotFoundError(f"No raster layer '{layer_id}'", "layer_id")
    folder = raster_folder(request).resolve()
    path = (folder / str(row[0])).resolve()
    if path.parent != folder or not path.is_file() or path.is_symlink():
        raise NotFoundError(f"Raster layer '{layer_id}' has no file", "layer_id")
    return str(path)


class GeoTiffReader(Reader):
    """rio-tiler's reader, opening with the GeoTIFF driver alone (a VRT never gets parsed).

    GDAL_SKIP cannot do this per request: GDAL reads it once, when drivers register.
    """

    def __attrs_post_init__(self) -> None:
        if not self.dataset:
            self.dataset = self._ctx_stack.enter_context(
                rasterio.open(self.input, driver="GTiff")
            )
        super().__attrs_post_init__()  # type: ignore[no-untyped-call]


def gdal_env() -> dict[str, str]:
    """The GDAL configuration every raster request runs under."""
    return dict(GDAL_ENV)


def install_raster_tiles(app: FastAPI) -> None:
    """Mount the tiler under /raster/{layer_id}."""
    cog = TilerFactory(
        reader=GeoTiffReader,
        path_dependency=catalogue_path,
        environment_dependency=gdal_env,
        router_prefix="/raster/{layer_id}",
        add_preview=False,
        add_part=False,
        add_viewer=False,
    )
    app.include_router(cog.router, prefix="/raster/{layer_id}", tags=["raster"],
                       dependencies=[Depends(authorize("public.read"))])
