"""Faces and number plates made unrecognisable in the copy of a photo the public sees.

The detectors are OpenCV's Haar cascades, which ship inside opencv-python-headless 4.x
(`cv2.data`): nothing is downloaded at run time. They look at a grey copy at most
`DETECT_SIDE` pixels on its long side (so the time a photo takes is bounded, whatever its
size); each region found is pixelated, with a margin, on the full-size image. The same photo
always gives the same regions and the same bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import cv2
import cv2.data
import numpy as np
from PIL import Image

JPEG, PNG = "image/jpeg", "image/png"
JPEG_QUALITY = 90  # as the stored original (permits/documents/sniff.py)
# 1280 px keeps a face of 2 % of a 12-megapixel photo's width (75 px of 4000) findable by
# a 24 px detector window, in seconds on one core.
DETECT_SIDE = 1280
# (cascade file, the smallest window in the detection copy, minNeighbors, margin): the two
# frontal-face models see different faces (the union is blurred), side faces by the profile
# model (a mirrored pass for the other side), plates by the one plate model in the package.
FACE_MODELS = (("haarcascade_frontalface_default.xml", (24, 24), 5),
               ("haarcascade_frontalface_alt2.xml", (20, 20), 4))
PROFILE_MODEL = ("haarcascade_profileface.xml", (24, 24), 5)
PLATE_MODELS = (("haarcascade_russian_plate_number.xml", (48, 16), 4),)
FACE_MARGIN, PLATE_MARGIN = 0.25, 0.2  # of the region's side, each way: hair, the plate's rim
# A region becomes at most 6×6 blocks, softened: at 8×8 the face model still found the face
# it had blurred (its eyes and mouth as dark bands); at 6×6 it no longer does.
BLOCKS = 6
MAX_REGIONS = 200  # a pathological photo still ends in bounded time


@dataclass(frozen=True, order=True)
class Region:
    """A box in the full-size image's pixels, with what was found there."""

    x: int
    y: int
    w: int
    h: int
    kind: str  # face | plate


@cache
def _cascade(name: str) -> cv2.CascadeClassifier:
    """A model from inside the package (loaded once per process)."""
    path = Path(cv2.data.haarcascades) / name
    model = cv2.CascadeClassifier(str(path))
    if model.empty():
        raise RuntimeError(f"the detector {name} is missing from opencv-python-headless "
                           f"(looked in {path}); version 4.x ships it")
    return model


def models_present() -> bool:
    """Whether every detector loads (the installed OpenCV ships its cascades)."""
    try:
        for name, _, _ in (*FACE_MODELS, PROFILE_MODEL, *PLATE_MODELS):
            _cascade(name)
    except RuntimeError:
        return False
    return True


def _grey(pixels: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    if pixels.ndim == 2:
        return pixels
    channels = pixels.shape[2]
    if channels == 2:  # grey with alpha
        return np.ascontiguousarray(pixels[:, :, 0])
    return cv2.cvtColor(pixels, cv2.COLOR_RGBA2GRAY if channels == 4 else cv2.COLOR_RGB2GRAY)


def _found(model: str, grey: np.ndarray[Any, Any], min_size: tuple[int, int],
           neighbours: int) -> list[tuple[int, int, int, int]]:
    boxes = _cascade(model).detectMultiScale(grey, scaleFactor=1.1, minNeighbors=neighbours,
                                             minSize=min_size)
    return [(int(x), int(y), int(w), int(h)) for x, y, w, h in boxes]


def detect(pixels: np.ndarray[Any, Any]) -> list[Region]:
    """Faces and plates in the image (an H×W or H×W×C array of 8 bits), in its pixels."""
    height, width = pixels.shape[:2]
    scale = min(1.0, DETECT_SIDE / max(height, width))
    grey = _grey(pixels)
    if scale < 1.0:
        grey = cv2.resize(grey, (max(1, round(width * scale)), max(1, round(height * scale))),
                          interpolation=cv2.INTER_AREA)
    grey = cv2.equalizeHist(grey)
    found: list[tuple[str, float, tuple[int, int, int, int]]] = []
    for model, size, neighbours in FACE_MODELS:
        found += [("face", FACE_MARGIN, b) for b in _found(model, grey, size, neighbours)]
    model, size, neighbours = PROFILE_MODEL
    found += [("face", FACE_MARGIN, b) for b in _found(model, grey, size, neighbours)]
    mirrored = cv2.flip(grey, 1)
    side = grey.shape[1]
    found += [("face", FACE_MARGIN, (side - x - w, y, w, h))
              for x, y, w, h in _found(model, mirrored, size, neighbours)]
    for model, size, neighbours in PLATE_MODELS:
        found += [("plate", PLATE_MARGIN, b) for b in _found(model, grey, size, neighbours)]
    regions = []
    for kind, margin, (x, y, w, h) in found:
        pad_x, pad_y = w * margin, h * margin
        x0 = max(0, math.floor((x - pad_x) / scale))
        y0 = max(0, math.floor((y - pad_y) / scale))
        x1 = min(width, math.ceil((x + w + pad_x) / scale))
        y1 = min(height, math.ceil((y + h + pad_y) / scale))
        regions.append(Region(x0, y0, x1 - x0, y1 - y0, kind))
    return merged(regions)[:MAX_REGIONS]


def _overlap(a: Region, b: Region) -> float:
    """The shared area, as a share of the smaller box."""
    w = min(a.x + a.w, b.x + b.w) - max(a.x, b.x)
    h = min(a.y + a.h, b.y + b.h) - max(a.y, b.y)
    if w <= 0 or h <= 0:
        return 0.0
    return (w * h) / min(a.w * a.h, b.w * b.h)


def merged(regions: list[Region]) -> list[Region]:
    """One box for what several models (or scales) found in the same place, so that the count
    is of things, not of detections; sorted, so the result never depends on the models'
    order."""
    boxes = sorted(regions)
    changed = True
    while changed:
        changed = False
        out: list[Region] = []
        for box in boxes:
            for i, kept in enumerate(out):
                if _overlap(box, kept) >= 0.5:
                    x0, y0 = min(box.x, kept.x), min(box.y, kept.y)
                    x1 = max(box.x + box.w, kept.x + kept.w)
                    y1 = max(box.y + box.h, kept.y + kept.h)
                    kind = "face" if "face" in (box.kind, kept.kind) else "plate"
                    out[i] = Region(x0, y0, x1 - x0, y1 - y0, kind)
                    changed = True
                    break
            else:
                out.append(box)
        boxes = sorted(out)
    return boxes


def pixelate(pixels: np.ndarray[Any, Any], regions: list[Region]) -> None:
    """Each region (in place) made of at most BLOCKS×BLOCKS flat blocks, softened: what was
    there cannot be read back from 36 colours."""
    for r in regions:
        patch = pixels[r.y:r.y + r.h, r.x:r.x + r.w]
        if patch.size == 0:
            continue
        block = max(1, math.ceil(max(r.w, r.h) / BLOCKS))
        small = cv2.resize(patch, (max(1, math.ceil(r.w / block)),
                                   max(1, math.ceil(r.h / block))),
                           interpolation=cv2.INTER_AREA)
        coarse = cv2.resize(small, (r.w, r.h), interpolation=cv2.INTER_NEAREST)
        soft = (2 * block) | 1  # an odd kernel of two blocks hides the blocks' edges
        coarse = cv2.GaussianBlur(coarse, (soft, soft), 0)
        pixels[r.y:r.y + r.h, r.x:r.x + r.w] = coarse.reshape(patch.shape)


def _pixels_of(image: Image.Image) -> tuple[Image.Image, bool]:
    """The image in a mode OpenCV handles (L, LA, RGB, RGBA), and whether it was converted
    (a colour profile then no longer describes it)."""
    if image.mode in ("L", "LA", "RGB", "RGBA"):
        return image, False
    clear = image.mode in ("PA", "RGBa") or "transparency" in image.info
    return image.convert("RGBA" if clear else "RGB"), True


def blur_file(src: Path, kind: str, out: Path) -> int:
    """Write to `out` the photo at `src` (a stored original: upright, without EXIF) with its
    faces and plates pixelated, as the same kind (JPEG or PNG) and with no metadata but its
    colour profile; the number of regions blurred (0: `out` is left empty, the original is
    the public copy)."""
    with Image.open(src, formats=["JPEG" if kind == JPEG else "PNG"]) as opened:
        opened.load()
        profile = opened.info.get("icc_profile")
        transparency = opened.info.get("transparency")
        image, converted = _pixels_of(opened)
        pixels = np.array(image)
    regions = detect(pixels)
    if not regions:
        return 0
    pixelate(pixels, regions)
    public = Image.fromarray(pixels)
    options: dict[str, Any] = {}
    if profile and not converted:
        options["icc_profile"] = profile
    if kind == JPEG:
        if public.mode not in ("RGB", "L"):
            public = public.convert("RGB")
        public.save(out, "JPEG", quality=JPEG_QUALITY, **options)
    else:
        if transparency is not None and not converted:
            options["transparency"] = transparency
        public.save(out, "PNG", **options)
    return len(regions)
