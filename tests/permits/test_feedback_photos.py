"""Photos of reports as the public sees them: faces and number plates pixelated by a detector
that ships inside opencv-python-headless (nothing downloaded), on the queue, in a copy kept
by its hash; the original (without EXIF) only for the report's department and its reporter."""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import ExifTags, Image, ImageDraw, ImageFilter, ImageFont
from sqlalchemy import Connection, Engine

from core.db import libpq_url
from gisapi.queue import platform_queue
from permits.documents.repository import referenced
from permits.documents.storage import FileStore, sweep
from permits.feedback import blur
from permits.feedback.photos import BLUR_TASK, PhotoService
from tests.accounts.world import MY_WARD, World, build
from tests.permits.document_files import GPS
from tests.permits.test_feedback import _code, _in_ward, _send

FIXTURES = Path(__file__).parent.parent / "fixtures"
ASTRONAUT = FIXTURES / "astronaut.jpg"  # public domain, NASA (fixtures/PROVENANCE.md)
# Where her face is in the 512×512 picture, brows to chin and cheek to cheek (x, y, w, h),
# read off the picture by a person, not from the detector.
FACE = (185, 80, 80, 85)


@pytest.fixture
def world(conn: Connection) -> World:
    return build(conn)


def _grey(data: bytes | Path) -> np.ndarray[Any, Any]:
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    return np.asarray(Image.open(source).convert("L"), dtype=np.float64)


def _detail(pixels: np.ndarray[Any, Any]) -> float:
    """How much edge there is (the variance of the Laplacian): eyes, a mouth, characters."""
    return float(cv2.Laplacian(pixels, cv2.CV_64F).var())


def _inside(box: tuple[int, int, int, int]) -> tuple[slice, slice]:
    x, y, w, h = box
    return slice(y, y + h), slice(x, x + w)


def _covered(region: blur.Region, box: tuple[int, int, int, int]) -> float:
    """The share of `box` that the region covers."""
    x, y, w, h = box
    cw = min(region.x + region.w, x + w) - max(region.x, x)
    ch = min(region.y + region.h, y + h) - max(region.y, y)
    return max(cw, 0) * max(ch, 0) / (w * h)


def _with_place(path: Path) -> bytes:
    """The photo as a phone sends it: with the place it was taken and the camera's name."""
    exif = Image.Exif()
    exif[ExifTags.Base.Model] = "Điện thoại của An"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(GPS)
    out = io.BytesIO()
    Image.open(path).save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def _plate_photo() -> tuple[Image.Image, tuple[int, int, int, int]]:
    """A number plate drawn (not photographed) on a car's bumper: white, a black rim, a
    Ho Chi Minh City car number; and where it is."""
    rng = np.random.default_rng(7)
    width, height = 800, 600
    body = np.linspace(90, 160, width)[None, :].repeat(height, 0) + rng.normal(0, 8,
                                                                                 (height, width))
    grey = np.clip(body, 0, 255).astype(np.uint8)
    image = Image.fromarray(np.stack([grey, grey, grey], -1))
    draw = ImageDraw.Draw(image)
    plate = (270, 300, 260, 56)
    x, y, w, h = plate
    draw.rectangle((100, 250, 700, 420), fill=(50, 52, 58))
    draw.rectangle((x, y, x + w, y + h), fill=(240, 240, 235), outline=(0, 0, 0), width=3)
    font = ImageFont.load_default(size=44)  # Pillow's own font: no system font needed
    text = "51F-123.45"
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    draw.text((x + (w - (right - left)) / 2 - left, y + (h - (bottom - top)) / 2 - top), text,
              fill=(10, 10, 10), font=font)
    return image.filter(ImageFilter.GaussianBlur(0.8)), plate


def test_the_detectors_ship_inside_the_installed_package() -> None:
    assert cv2.__version__.startswith("4.")
    assert blur.models_present()
    folder = Path(cv2.data.haarcascades).resolve()
    assert folder.is_relative_to(Path(cv2.__file__).resolve().parent)
    for name, _, _ in (*blur.FACE_MODELS, blur.PROFILE_MODEL, *blur.PLATE_MODELS):
        assert (folder / name).is_file()


def test_a_face_is_found_and_pixelated_and_the_rest_is_left_alone(tmp_path: Path) -> None:
    pixels = np.array(Image.open(ASTRONAUT).convert("RGB"))
    regions = blur.detect(pixels)
    faces = [r for r in regions if r.kind == "face"]
    assert faces, regions
    assert max(_covered(r, FACE) for r in faces) > 0.95
    out = tmp_path / "public.jpg"
    assert blur.blur_file(ASTRONAUT, blur.JPEG, out) == len(regions)
    before, after = _grey(ASTRONAUT), _grey(out)
    inside = _inside(FACE)
    assert np.abs(before[inside] - after[inside]).mean() > 15
    # Her eyes, nose and mouth are gone: no edge is left, only a few flat, softened colours.
    assert _detail(after[inside]) < _detail(before[inside]) / 20
    outside = np.ones(before.shape, bool)
    for r in regions:
        outside[r.y:r.y + r.h, r.x:r.x + r.w] = False
    assert np.abs(before[outside] - after[outside]).mean() < 2  # a JPEG written again
    assert not [r for r in blur.detect(np.array(Image.open(out).convert("RGB")))
                if r.kind == "face" and _covered(r, FACE) > 0.3]
    again = tmp_path / "again.jpg"
    blur.blur_file(ASTRONAUT, blur.JPEG, again)
    assert again.read_bytes() == out.read_bytes()  # the same photo, the same bytes


def test_a_drawn_number_plate_is_found_and_pixelated(tmp_path: Path) -> None:
    image, plate = _plate_photo()
    source = tmp_path / "car.png"
    image.save(source, "PNG")
    plates = [r for r in blur.detect(np.array(image)) if r.kind == "plate"]
    assert plates
    assert max(_covered(r, plate) for r in plates) > 0.95
    out = tmp_path / "public.png"
    assert blur.blur_file(source, blur.PNG, out) >= 1
    x, y, w, h = plate
    text = (slice(y + 8, y + h - 8), slice(x + 8, x + w - 8))  # the characters, not the rim
    assert _detail(_grey(out)[text]) < _detail(_grey(source)[text]) / 20


def test_a_photo_without_faces_or_plates_is_its_own_public_copy(tmp_path: Path) -> None:
    source = tmp_path / "wall.png"
    Image.new("RGB", (300, 200), (180, 170, 160)).save(source, "PNG")
    out = tmp_path / "public.png"
    assert blur.blur_file(source, blur.PNG, out) == 0


def _report_with_photo(client: TestClient, conn: Connection, photo: bytes,
                       name: str = "anh.jpg", kind: str = "image/jpeg",
                       confirm: bool = True) -> tuple[int, int, str]:
    """An anonymous report in my ward with one photo: (report, photo, upload token)."""
    lon, lat = _in_ward(conn, MY_WARD)
    phone = "09" + "".join(secrets.choice("0123456789") for _ in range(8))
    sent = _send(client, lon=lon, lat=lat, phone=phone)
    if confirm:
        confirmed = client.post(f"/api/feedback/{sent['id']}/confirm",
                                json={"code": _code(conn, sent["id"])})
        assert confirmed.status_code == 200, confirmed.text
    added = client.post(f"/api/feedback/{sent['id']}/photos", files={"file": (name, photo, kind)},
                        headers={"X-Report-Token": sent["upload_token"]})
    assert added.status_code == 201, added.text
    return sent["id"], added.json()["id"], sent["upload_token"]


def _jobs(conn: Connection, photo_id: int) -> list[Any]:
    return list(conn.exec_driver_sql(
        "SELECT status::text, lock FROM procrastinate_jobs WHERE task_name = %(t)s "
        "AND (args->>'photo_id')::bigint = %(p)s", {"t": BLUR_TASK, "p": photo_id}))


def _stored(files_dir: Path) -> set[str]:
    return {p.name for p in (files_dir / "sha256").glob("??/??/*")}


def test_the_public_sees_the_blurred_copy_and_staff_and_reporter_the_original(
        client: TestClient, conn: Connection, world: World, files_dir: Path) -> None:
    report_id, photo_id, token = _report_with_photo(client, conn, _with_place(ASTRONAUT))
    photo = conn.exec_driver_sql("SELECT sha256, public_sha256, blurred_regions FROM "
                                 "feedback_photo WHERE id = %(i)s", {"i": photo_id}).one()
    assert (photo.public_sha256, photo.blurred_regions) == (None, None)
    # Its job went on the queue with the photo's row, one run of a photo at a time.
    assert _jobs(conn, photo_id) == [("todo", f"feedback_photo:{photo_id}")]
    public_url = f"/api/feedback/{report_id}/photos/{photo_id}"
    original_url = f"{public_url}/original"
    # Until the job has run the public sees no photo at all.
    assert client.get(f"/api/feedback/{report_id}").json()["photos"] == []
    assert client.get(public_url).status_code == 404

    store = FileStore(files_dir)
    regions = PhotoService(conn, store).publish(photo_id)
    assert regions is not None
    assert regions >= 1
    row = conn.exec_driver_sql("SELECT public_sha256, blurred_regions FROM feedback_photo "
                               "WHERE id = %(i)s", {"i": photo_id}).one()
    assert row.blurred_regions == regions
    assert row.public_sha256 != photo.sha256
    # Run again (a retry, the sweep): nothing new is written.
    files = _stored(files_dir)
    assert PhotoService(conn, store).publish(photo_id) == regions
    assert conn.exec_driver_sql("SELECT public_sha256 FROM feedback_photo WHERE id = %(i)s",
                                {"i": photo_id}).scalar_one() == row.public_sha256
    assert _stored(files_dir) == files

    public = client.get(f"/api/feedback/{report_id}").json()
    assert public["photos"] == [{"id": photo_id, "url": public_url}]
    listed = next(r for r in client.get("/api/feedback?limit=500").json()
                  if r["id"] == report_id)
    assert listed["photos"] == public["photos"]
    shown = client.get(public_url)
    assert shown.status_code == 200
    assert shown.headers["content-type"] == "image/jpeg"
    assert shown.headers["x-content-type-options"] == "nosniff"
    assert shown.headers["etag"] == f'"{row.public_sha256}"'
    assert "immutable" in shown.headers["cache-control"]
    assert "public" in shown.headers["cache-control"]
    assert hashlib.sha256(shown.content).hexdigest() == row.public_sha256
    assert client.get(public_url, headers={"If-None-Match": shown.headers["etag"]}
                      ).status_code == 304
    # The public copy is not the original: inside her face it differs, around it it matches.
    stored = (files_dir / "sha256" / photo.sha256[:2] / photo.sha256[2:4] / photo.sha256)
    inside = _inside(FACE)
    before, after = _grey(stored), _grey(shown.content)
    assert np.abs(before[inside] - after[inside]).mean() > 15
    assert np.abs(before[:, 400:] - after[:, 400:]).mean() < 2

    # The original: the officers of the report's department in its ward, and the reporter.
    officer = client.get(original_url, headers=world.actors["officer"].headers())
    assert officer.status_code == 200, officer.text
    assert hashlib.sha256(officer.content).hexdigest() == photo.sha256
    assert officer.headers["content-type"] == "image/jpeg"
    assert officer.headers["x-content-type-options"] == "nosniff"
    assert officer.headers["cache-control"] == "private, no-store"
    leader = client.get(original_url, headers=world.actors["leader"].headers())
    assert leader.content == officer.content
    reporter = client.get(original_url, headers={"X-Report-Token": token})
    assert reporter.status_code == 200
    assert reporter.content == officer.content
    assert shown.content != officer.content
    # Anyone else: not signed in 401; a stranger or a wrong token 404; another department
    # 403 (the policy says staff out of scope are refused, citizens not told).
    assert client.get(original_url).status_code == 401
    assert client.get(original_url, headers=world.actors["citizen"].headers()
                      ).status_code == 404
    assert client.get(original_url, headers={"X-Report-Token": "x" * 32}).status_code == 404
    assert client.get(original_url, headers=world.actors["officer2"].headers()
                      ).status_code == 403
    # The original's photo id under another report is no way in either.
    other, _, _ = _report_with_photo(client, conn, _with_place(ASTRONAUT))
    assert client.get(f"/api/feedback/{other}/photos/{photo_id}").status_code == 404
    assert client.get(f"/api/feedback/{other}/photos/{photo_id}/original",
                      headers=world.actors["officer"].headers()).status_code == 404
    # Neither copy says where or with what it was taken.
    for data in (shown.content, officer.content):
        assert dict(Image.open(io.BytesIO(data)).getexif()) == {}
    assert "Điện thoại".encode() not in shown.content + officer.content


def test_a_photo_of_a_report_not_public_is_not_shown(
        client: TestClient, conn: Connection, world: World, files_dir: Path) -> None:
    store = FileStore(files_dir)
    waiting, photo_id, token = _report_with_photo(client, conn, ASTRONAUT.read_bytes(),
                                                  confirm=False)
    assert PhotoService(conn, store).publish(photo_id) is not None
    assert client.get(f"/api/feedback/{waiting}/photos/{photo_id}").status_code == 404
    # Its reporter sees it; the department does not yet (as the report itself).
    original = f"/api/feedback/{waiting}/photos/{photo_id}/original"
    assert client.get(original, headers={"X-Report-Token": token}).status_code == 200
    assert client.get(original, headers=world.actors["officer"].headers()).status_code == 404
    # Moderation hides a report: its photos go with its description.
    report_id, photo_id, _ = _report_with_photo(client, conn, ASTRONAUT.read_bytes())
    PhotoService(conn, store).publish(photo_id)
    url = f"/api/feedback/{report_id}/photos/{photo_id}"
    assert client.get(url).status_code == 200
    etag = client.get(f"/api/feedback/{report_id}").headers["etag"]
    hidden = client.post(f"/api/feedback/{report_id}/actions",
                         json={"action": "hide", "note": "Ảnh không phù hợp"},
                         headers={**world.actors["officer"].headers(), "If-Match": etag})
    assert hidden.status_code == 200, hidden.text
    assert hidden.json()["photos"] == []
    assert client.get(url).status_code == 404
    assert client.get(f"{url}/original", headers=world.actors["officer"].headers()
                      ).status_code == 200


def _media_urls(client: TestClient, report_id: int) -> tuple[str | None, str | None]:
    """The report's media_url in Open311's JSON and XML."""
    as_json = client.get(f"/open311/v2/requests/{report_id}.json")
    as_xml = ET.fromstring(client.get(f"/open311/v2/requests/{report_id}.xml").content)
    return as_json.json()[0]["media_url"], as_xml.findtext("request/media_url") or None


def test_open311_links_the_public_copy_of_the_first_photo(
        client: TestClient, conn: Connection, world: World, files_dir: Path) -> None:
    store = FileStore(files_dir)
    report_id, photo_id, token = _report_with_photo(client, conn, _with_place(ASTRONAUT))
    # Not yet blurred: no link (the original is never the public's).
    assert _media_urls(client, report_id) == (None, None)
    assert PhotoService(conn, store).publish(photo_id) is not None
    second = client.post(f"/api/feedback/{report_id}/photos",
                         files={"file": ("b.jpg", ASTRONAUT.read_bytes(), "image/jpeg")},
                         headers={"X-Report-Token": token})
    assert second.status_code == 201, second.text
    PhotoService(conn, store).publish(second.json()["id"])
    link = f"http://testserver/api/feedback/{report_id}/photos/{photo_id}"
    assert _media_urls(client, report_id) == (link, link)
    listed = client.get("/open311/v2/requests.json", params={"service_request_id": report_id})
    assert listed.json()[0]["media_url"] == link
    shown = client.get(link)
    assert shown.status_code == 200
    assert shown.headers["content-type"] == "image/jpeg"
    assert dict(Image.open(io.BytesIO(shown.content)).getexif()) == {}
    # Hidden by moderation, the photos go from Open311 as from the report's page.
    etag = client.get(f"/api/feedback/{report_id}").headers["etag"]
    hidden = client.post(f"/api/feedback/{report_id}/actions",
                         json={"action": "hide", "note": "Ảnh có biển số nhà"},
                         headers={**world.actors["officer"].headers(), "If-Match": etag})
    assert hidden.status_code == 200, hidden.text
    assert _media_urls(client, report_id) == (None, None)


def test_a_png_keeps_its_kind_and_transparency(
        client: TestClient, conn: Connection, files_dir: Path) -> None:
    out = io.BytesIO()
    Image.open(ASTRONAUT).convert("RGBA").save(out, "PNG")
    report_id, photo_id, _ = _report_with_photo(client, conn, out.getvalue(), "anh.png",
                                                "image/png")
    assert (PhotoService(conn, FileStore(files_dir)).publish(photo_id) or 0) >= 1
    shown = client.get(f"/api/feedback/{report_id}/photos/{photo_id}")
    assert shown.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(shown.content))
    assert (image.format, image.mode, image.size) == ("PNG", "RGBA", (512, 512))
    assert np.abs(_grey(out.getvalue())[_inside(FACE)]
                  - _grey(shown.content)[_inside(FACE)]).mean() > 15


def test_the_sweep_keeps_public_copies(client: TestClient, conn: Connection,
                                       files_dir: Path) -> None:
    _, photo_id, _ = _report_with_photo(client, conn, ASTRONAUT.read_bytes())
    store = FileStore(files_dir)
    PhotoService(conn, store).publish(photo_id)
    public = conn.exec_driver_sql("SELECT public_sha256 FROM feedback_photo WHERE id = %(i)s",
                                  {"i": photo_id}).scalar_one()
    assert referenced(conn, [public]) == {public}
    orphan = store.path_of(secrets.token_hex(32))  # a digest no row of any test names
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"no row needs this")
    old = time.time() - 2 * 3600
    for path in (files_dir / "sha256").glob("??/??/*"):
        os.utime(path, (old, old))
    sweep(conn, store)
    assert store.path_of(public).is_file()
    assert not orphan.exists()  # the sweep did run, and removes what nobody needs


def test_photos_the_queue_lost_are_found_by_the_sweep(
        client: TestClient, conn: Connection, files_dir: Path) -> None:
    _, photo_id, _ = _report_with_photo(client, conn, ASTRONAUT.read_bytes())
    service = PhotoService(conn, FileStore(files_dir))
    assert photo_id not in service.pending(600, 1000)  # its job has not had its chance yet
    conn.exec_driver_sql("UPDATE feedback_photo SET created_at = now() - interval '1 hour' "
                         "WHERE id = %(i)s", {"i": photo_id})
    assert photo_id in service.pending(600, 1000)
    service.publish(photo_id)
    assert photo_id not in service.pending(600, 1000)


def test_the_queue_knows_the_blurring_tasks(engine: Engine) -> None:
    queue = platform_queue(libpq_url(engine.url.render_as_string(hide_password=False)), 1)
    assert BLUR_TASK in queue.tasks
    assert "feedback:blur_pending_photos" in queue.tasks
    assert ("feedback:blur_pending_photos", "blur-pending-photos") in \
        queue.periodic_registry.periodic_tasks
