"""Answers in the two formats GeoReport v2 speaks: XML (required; the spec's elements, no
namespace) and JSON (the Spark convention's mapping of the same tree), both UTF-8."""

from __future__ import annotations

import enum
import json
from typing import Any
from xml.etree import ElementTree

from starlette.responses import Response


class Format(enum.StrEnum):
    """A resource's suffix."""

    XML = "xml"
    JSON = "json"


MEDIA_TYPES = {Format.XML: "text/xml; charset=utf-8",
               Format.JSON: "application/json; charset=utf-8"}
# A list's elements are named by the list (the spec's plural and singular pairs).
ITEMS = {"services": "service", "service_requests": "request", "errors": "error",
         "attributes": "attribute", "values": "value", "endpoints": "endpoint",
         "formats": "format"}
DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'


def format_of(path: str) -> Format:
    """The format a path asks for (XML, the spec's required one, unless it ends in .json)."""
    return Format.JSON if path.endswith(".json") else Format.XML


def _element(name: str, value: Any) -> ElementTree.Element:
    node = ElementTree.Element(name)
    if isinstance(value, dict):
        node.extend(_element(k, v) for k, v in value.items())
    elif isinstance(value, list):
        node.extend(_element(ITEMS[name], v) for v in value)
    elif isinstance(value, bool):
        node.text = "true" if value else "false"
    elif value is not None:  # None: an empty element, as in the spec's examples
        node.text = str(value)
    return node


def xml_text(root: str, value: Any) -> str:
    """The document: the declaration, then `root` holding the value."""
    return DECLARATION + ElementTree.tostring(_element(root, value), encoding="unicode")


def answer(fmt: Format, root: str, value: Any, status_code: int = 200,
           headers: dict[str, str] | None = None) -> Response:
    """The HTTP answer in the format asked for."""
    body = (xml_text(root, value) if fmt is Format.XML
            else json.dumps(value, ensure_ascii=False))
    return Response(body.encode(), status_code=status_code, headers=headers,
                    media_type=MEDIA_TYPES[fmt])
