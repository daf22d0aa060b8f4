"""Serving a simulator's WSGI app on loopback, shared by the NetSuite and Shopify simulators: make the threaded
server, run it in the foreground until interrupted, or start it on a daemon thread (tests, benchmarks)."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _QuietRequestHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def make_wsgi_server(app: WsgiApp, host: str, port: int, *, quiet: bool) -> BaseWSGIServer:
    """A threaded server (one thread per request): concurrent clients race for the simulated limits the way
    they do against the real API. Port 0 picks a free port (`server.port`); `server.app` is `app`."""
    return make_server(host, port, app, threaded=True, request_handler=_QuietRequestHandler if quiet else None)


def serve_forever(server: BaseWSGIServer, banner: str) -> None:
    """Print the banner, then serve until interrupted (Ctrl-C ends it quietly) and close the socket."""
    print(banner, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def start_in_thread(app: WsgiApp, host: str, port: int, *, name: str) -> BaseWSGIServer:
    """Serve `app` quietly on a daemon thread named `name`; stop it with `server.shutdown()`, release the port with
    `server.server_close()`."""
    server = make_wsgi_server(app, host, port, quiet=True)
    threading.Thread(target=server.serve_forever, name=name, daemon=True).start()
    return server


def drop_connection(request: Request) -> Response:
    """Close the client's connection without an answer. Shutting the socket makes werkzeug's write fail as a
    dropped connection, so the client sees the connection close with no response at all."""
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    return Response(status=500)


def json_response(
    status: int, body: Any, headers: dict[str, str] | None = None, *, content_type: str = "application/json"
) -> Response:
    """A JSON answer with the given status and extra headers."""
    response = Response(json.dumps(body), status=status, content_type=content_type)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def json_body(request: Request, default: Any = None, kinds: tuple[type, ...] = (dict,)) -> Any:
    """The request's JSON body, which must be one of `kinds` (dict: an object, list: a list); an empty body is
    `default`, or a ValueError when there is none. For control endpoints, whose errors answer 400."""
    data = request.get_data(cache=True)
    if not data.strip():
        if default is None:
            raise ValueError("a JSON body is required")
        return default
    body = json.loads(data)
    if not isinstance(body, kinds):
        raise ValueError(f"the body must be a JSON {' or '.join('object' if k is dict else 'list' for k in kinds)}")
    return body
