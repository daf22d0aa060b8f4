"""Serving a simulator's WSGI app on loopback, shared by the NetSuite and Shopify simulators: make the server, run
it in the foreground until interrupted, or start it on a daemon thread (tests, benchmarks).

The server is cheroot's (CherryPy's production WSGI server): HTTP/1.1 with keep-alive, as the real Shopify and
NetSuite endpoints are, so a client's pooled connections are reused across calls the way they are in production.
werkzeug's development server, used before, closed every connection after one response, which put a TCP connect and
a new server thread inside every NetSuite slot."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

from cheroot import wsgi as cheroot_wsgi
from werkzeug.wrappers import Request, Response

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Requests served at once. Above any cap a simulator enforces (NetSuite's account-wide cap plus the slots another
# integration holds, in every test and bench): a request waits for a thread only beyond this, where the simulated
# limit has long since answered 429.
SERVER_THREADS = 64
# Connections waiting to be accepted (cheroot's default is 5): a fleet starting at once opens dozens.
LISTEN_BACKLOG = 128
# An idle keep-alive connection is closed after this many seconds; the client's pool notices and reconnects.
IDLE_TIMEOUT_S = 30
SOCKET_KEY = "simulator.socket"


class _Gateway(cheroot_wsgi.Gateway_10):
    """cheroot's WSGI 1.0 gateway, with the connection's socket in the environ for the dropped-connection fault."""

    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        environ[SOCKET_KEY] = self.req.conn.socket
        return environ


def _access_log(app: WsgiApp) -> WsgiApp:
    """The app with one line per request on stdout (`METHOD path status`), for a simulator run in a terminal."""

    def logged(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            print(f"{environ['REQUEST_METHOD']} {environ.get('PATH_INFO', '')} {status.split()[0]}", flush=True)
            return start_response(status, headers, exc_info)

        return app(environ, start)

    return logged


class SimulatorServer:
    """A keep-alive HTTP/1.1 server for one WSGI app, bound at construction (port 0 picks a free port:
    `server.port`); `server.app` is the app. `serve_forever()` serves until `shutdown()`, which also releases the
    port; `server_close()` is there for callers written against socketserver and does nothing more."""

    def __init__(self, app: WsgiApp, host: str, port: int, *, quiet: bool = True) -> None:
        self.app = app
        self._server = cheroot_wsgi.Server(
            (host, port),
            app if quiet else _access_log(app),
            numthreads=SERVER_THREADS,
            request_queue_size=LISTEN_BACKLOG,
            timeout=IDLE_TIMEOUT_S,
        )
        self._server.gateway = _Gateway
        self._server.keep_alive_conn_limit = None  # every client's pool keeps its connections, as in production
        self._server.prepare()  # binds and listens now: the port is known and accepting before serving starts

    @property
    def port(self) -> int:
        return int(self._server.bind_addr[1])

    def serve_forever(self) -> None:
        self._server.serve()

    def shutdown(self) -> None:
        self._server.stop()

    def server_close(self) -> None:
        self._server.stop()


def make_wsgi_server(app: WsgiApp, host: str, port: int, *, quiet: bool) -> SimulatorServer:
    """A simulator's server (one pool thread per request in flight): concurrent clients race for the simulated
    limits the way they do against the real API."""
    return SimulatorServer(app, host, port, quiet=quiet)


def serve_forever(server: SimulatorServer, banner: str) -> None:
    """Print the banner, then serve until interrupted (Ctrl-C ends it quietly) and close the socket."""
    print(banner, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()


def start_in_thread(app: WsgiApp, host: str, port: int, *, name: str) -> SimulatorServer:
    """Serve `app` quietly on a daemon thread named `name`; stop it and release the port with `server.shutdown()`."""
    server = make_wsgi_server(app, host, port, quiet=True)
    threading.Thread(target=server.serve_forever, name=name, daemon=True).start()
    return server


def drop_connection(request: Request) -> Response:
    """Close the client's connection without an answer. Shutting the socket makes the server's write fail as a
    dropped connection, so the client sees the connection close with no response at all."""
    sock = request.environ.get(SOCKET_KEY)
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
