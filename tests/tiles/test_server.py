"""Hot tiles answered by our uvicorn protocol, over a real socket: bytes, headers, order."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import BinaryIO

import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

import tiles.service as tiles_service
from gisapi.server import HotTileProtocol
from tiles.service import LayerState, Tile

KEY = ("roads", 41, 14, 13059, 7649)
HOT = "/tiles/roads/14/13059/7649.mvt"
FAKE = Tile(b"\x1a\x00" * 400, '"hot"')


async def _app(scope: Scope, receive: Receive, send: Send) -> None:
    """What the rest of the app answers, recognisably."""
    if scope["type"] != "http":
        return
    if scope["path"] == "/slow":  # longer than the keep-alive timeout
        await asyncio.sleep(1.5)
    body = f"app {scope['method']} {scope['path']}".encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
def port() -> Iterator[int]:
    saved = tiles_service._state
    tiles_service._state = (time.monotonic() + 3600, LayerState({"roads": 41}, {}))
    tiles_service.MEMORY.put(KEY, FAKE)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(_app, host="127.0.0.1", port=free, http=HotTileProtocol,
                                           timeout_keep_alive=1, log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield free
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        tiles_service.MEMORY.items.pop(KEY, None)
        tiles_service.MEMORY.size -= len(FAKE.data)
        tiles_service._state = saved


def _response(reader: BinaryIO, head: bool = False) -> tuple[int, dict[str, str], bytes]:
    status = int(reader.readline().split()[1])
    headers = {}
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    length = 0 if head or status == 304 else int(headers.get("content-length", "0"))
    return status, headers, reader.read(length)


def _connect(port: int) -> tuple[socket.socket, BinaryIO]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    return sock, sock.makefile("rb")


def test_a_hot_tile_is_answered_with_the_apps_bytes_and_headers(port: int) -> None:
    sock, reader = _connect(port)
    with sock:
        sock.sendall(f"GET {HOT}?v=41 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        status, headers, body = _response(reader)
        assert (status, body) == (200, FAKE.data)
        assert headers["etag"] == '"hot"'
        assert headers["cache-control"] == "public, max-age=31536000, immutable"
        assert headers["content-type"] == "application/vnd.mapbox-vector-tile"
        assert headers["content-length"] == str(len(FAKE.data))
        assert "date" in headers
        # gzip when asked, under its own ETag; the same connection carries on
        sock.sendall(f"GET {HOT}?v=40 HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n"
                     .encode())
        status, headers, body = _response(reader)
        assert (status, headers["etag"], headers["content-encoding"]) == (200, '"hot-gz"', "gzip")
        assert body == FAKE.gzipped
        assert headers["cache-control"] == "public, max-age=300"  # not the current version
        sock.sendall(f"GET {HOT} HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"hot\"\r\n\r\n".encode())
        assert _response(reader)[0] == 304
        sock.sendall(f"HEAD {HOT} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        status, headers, body = _response(reader, head=True)
        assert (status, headers["content-length"]) == (200, str(len(FAKE.data)))
        sock.sendall(f"GET {HOT} HTTP/1.1\r\nHost: x\r\n\r\n".encode())  # HEAD sent no body
        assert _response(reader)[2] == FAKE.data


def test_anything_else_reaches_the_app_and_pipelined_answers_keep_their_order(port: int) -> None:
    sock, reader = _connect(port)
    with sock:
        sock.sendall((f"GET {HOT} HTTP/1.1\r\nHost: x\r\n\r\n"
                      "GET /tiles/roads/14/13059/7650.mvt HTTP/1.1\r\nHost: x\r\n\r\n"
                      f"GET {HOT} HTTP/1.1\r\nHost: x\r\n\r\n"
                      f"POST {HOT} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab"
                      f"GET {HOT} HTTP/1.1\r\nHost: x\r\n\r\n").encode())
        assert _response(reader)[2] == FAKE.data
        assert _response(reader)[2] == b"app GET /tiles/roads/14/13059/7650.mvt"  # a miss
        # behind a request the app is still answering, a hot tile waits its turn there
        assert _response(reader)[2] in (FAKE.data, f"app GET {HOT}".encode())
        assert _response(reader)[2] == f"app POST {HOT}".encode()
        assert _response(reader)[2] in (FAKE.data, f"app GET {HOT}".encode())
    sock, reader = _connect(port)
    with sock:  # a slow answer right behind a hot one is not cut by the keep-alive timeout
        sock.sendall(f"GET {HOT} HTTP/1.1\r\nHost: x\r\n\r\nGET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
                     .encode())
        assert _response(reader)[2] == FAKE.data
        assert _response(reader)[2] == b"app GET /slow"
    sock, reader = _connect(port)
    with sock:  # a client closing after this answer is answered the usual way
        sock.sendall(f"GET {HOT} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        assert _response(reader)[2] == f"app GET {HOT}".encode()
