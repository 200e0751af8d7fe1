"""The HTTP protocol our uvicorn runs: a tile held in memory is answered as its headers arrive."""

from __future__ import annotations

from typing import cast

from uvicorn.protocols.http.httptools_impl import (
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)

from tiles.http import hot_tile


class _NoEvent:
    def set(self) -> None:
        """Nothing waits on an answered request."""


class _Answered:
    """Stands for the cycle of a request answered in the protocol: complete, nothing to wake."""

    response_complete = True
    keep_alive = True
    disconnected = False
    message_event = _NoEvent()


ANSWERED = cast(RequestResponseCycle, _Answered())


class HotTileProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, answering hot tiles without an ASGI task.

    Measured on 2 cores against nginx serving the same files: a trivial ASGI app under uvicorn
    peaks at 0.52 of nginx's rate, so no ASGI path reaches the 0.5 goal with tiles' real work;
    a constant answer written here reached 0.78, hot tiles 0.65-0.75 (`make bench`). Anything
    else goes the usual way.
    """

    def on_headers_complete(self) -> None:
        """Answer a hot tile now, or hand the request to the app."""
        if not self._answer_hot():
            # A hot answer earlier in this same read armed the keep-alive timeout: the app's
            # request must not be cut by it.
            self._unset_keepalive_if_required()
            super().on_headers_complete()

    def _answer_hot(self) -> bool:
        parser = self.parser
        # The usual way keeps the order behind a request still being answered, and waits for
        # a client that is not reading (written answers would otherwise pile up in memory).
        if ((self.cycle is not None and not self.cycle.response_complete) or self.pipeline
                or self.flow.write_paused or self.root_path or parser.should_upgrade()
                or not parser.should_keep_alive() or parser.get_http_version() != "1.1"):
            return False
        method = parser.get_method()
        path, _, query = self.url.partition(b"?")
        if_none_match = accept_encoding = b""
        for name, value in self.headers:
            if name == b"if-none-match":
                if_none_match = value
            elif name == b"accept-encoding":
                accept_encoding = value
        answer = hot_tile(method.decode("latin-1"), path.decode("latin-1"), query,
                          if_none_match.decode("latin-1"), accept_encoding.decode("latin-1"))
        if answer is None:
            return False
        status, headers, body = answer
        head = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:  # date, server
            head += [name, b": ", value, b"\r\n"]
        for key, text in headers.items():
            head.append(f"{key}: {text}\r\n".encode("latin-1"))
        head.append(b"content-length: %d\r\n\r\n" % len(body))
        if method != b"HEAD":
            head.append(body)
        self.transport.write(b"".join(head))
        self.cycle = ANSWERED
        self.on_response_complete()  # counts it, arms the keep-alive timeout
        return True
