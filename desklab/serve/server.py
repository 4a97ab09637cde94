"""A read-only HTTP server over a run store, on aiohttp.

    GET /api/runs                         the listing: id, name, status, steps, ...
    GET /api/runs/{id}                    one run's meta
    GET /api/runs/{id}/rows?after=C&wait=S
                                          its rows after cursor C (JSON), at most
                                          `rows.LIMITS` per table, and the next cursor;
                                          with nothing new, held up to S seconds (<= 25)
                                          until the writer commits (a long poll)

Why a long poll, not server-sent events or a WebSocket: every answer is a whole,
bounded, compressed piece with its cursor, so a client that lost the connection
(a dropped SSH tunnel, a restarted server) asks again from where it was and nothing
is lost or sent twice; the server keeps no state per client, and it goes through any
HTTP proxy.

Security: a token (random, printed at start, as Jupyter does; or ``$DESKLAB_TOKEN``)
on every request, compared in constant time, else 401 with no run data; 127.0.0.1
unless ``--host`` says otherwise; run ids are opaque names from the listing, never a
path from the client; SQLite opened read-only; responses bounded.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import secrets
import time
from pathlib import Path

from aiohttp import web

from ..runs import RunReader
from ..runs.folder import list_runs, run_status
from ..runs.rows import encode_rows, rows_to_events, valid_cursor

MAX_WAIT_S = 25.0  # a long poll's longest hold (below common proxy timeouts)
POLL_S = 0.05  # how often a held request looks for new commits
LIST_EVERY_S = 1.0  # the listing (run ids) is read again at most this often


def run_id(path: Path, root: Path) -> str:
    """A run's id: a digest of its place in the store (no path ever comes back in)."""
    return hashlib.sha256(str(path.relative_to(root)).encode()).hexdigest()[:16]


class Store:
    """The runs under ``root`` by id, read again at most every `LIST_EVERY_S`."""

    def __init__(self, root: Path):
        self.root = root.resolve()
        self._ids: dict[str, Path] = {}
        self._infos: list = []
        self._read_at = 0.0

    def listing(self) -> list:
        if time.monotonic() - self._read_at >= LIST_EVERY_S:
            self._infos = list_runs(self.root)
            self._ids = {run_id(i.path, self.root): i.path for i in self._infos}
            self._read_at = time.monotonic()
        return self._infos

    def path_of(self, ident: str) -> Path | None:
        self.listing()
        return self._ids.get(ident)


def make_app(root: Path, token: str) -> web.Application:
    """The application serving the run store at ``root`` to holders of ``token``."""
    store = Store(Path(root))

    @web.middleware
    async def require_token(request, handler):
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            return web.json_response({"error": "a valid token is needed"}, status=401)
        return await handler(request)

    async def runs(request):
        infos = await _off_loop(store.listing)
        return _json([{"id": run_id(i.path, store.root), "name": i.name, "source": i.source,
                       "status": i.status, "started": i.started, "steps": i.steps,
                       "problem": i.problem} for i in infos])

    async def meta(request):
        path = await _off_loop(store.path_of, request.match_info["id"])
        if path is None:
            return web.json_response({"error": "no such run"}, status=404)
        try:
            return _json(await _off_loop(_read_meta, path))
        except (OSError, ValueError) as exc:
            return _unreadable(exc)

    async def rows(request):
        path = await _off_loop(store.path_of, request.match_info["id"])
        if path is None:
            return web.json_response({"error": "no such run"}, status=404)
        try:
            after = valid_cursor(json.loads(request.query.get("after", "null")))
            wait = float(request.query.get("wait", "0"))
        except ValueError:
            after = None
        if after is None or not 0.0 <= wait < float("inf"):  # (NaN fails this too)
            return web.json_response({"error": "bad cursor or wait"}, status=400)
        end = time.monotonic() + min(wait, MAX_WAIT_S)
        try:
            reader = await _off_loop(RunReader, path)
        except (OSError, ValueError) as exc:  # gone, or damaged (RunFileError)
            return _unreadable(exc)
        try:
            while True:
                try:
                    piece = await _off_loop(_piece, reader, after)
                except ValueError as exc:  # a damaged row (RunFileError)
                    return _unreadable(exc)
                if piece["events"] or time.monotonic() >= end or piece["ended"]:
                    del piece["events"]
                    return _json(piece)
                await asyncio.sleep(POLL_S)
        finally:
            reader.close()

    app = web.Application(middlewares=[require_token])
    app.add_routes([web.get("/api/runs", runs), web.get("/api/runs/{id}", meta),
                    web.get("/api/runs/{id}/rows", rows)])
    return app


def _unreadable(exc: Exception) -> web.Response:
    """A run that cannot be read: why, in one line (no traceback, no path of the
    server's beyond the run's own name)."""
    why = str(exc).split(": ", 1)[-1]
    return web.json_response({"error": f"the run cannot be read: {why}"}, status=409)


def _read_meta(path: Path) -> dict:
    reader = RunReader(path)
    try:
        return reader.read_meta()
    finally:
        reader.close()


def _piece(reader: RunReader, after: dict) -> dict:
    """The rows after ``after``, checked here too (damage is the server's error, never
    the client's surprise), the next cursor and whether the writer is done."""
    rows = reader.rows(after)
    events, cursor = rows_to_events(rows, reader.layout, after, reader.path)
    status = run_status(reader.read_meta(("status", "pid")))
    cursor.pop("written", None)
    piece = {"rows": encode_rows(rows), "cursor": cursor, "events": len(events),
             "status": status, "ended": status != "running"}
    if after["snapshots"] == -1 and reader.layout is not None:  # once: the client has none
        piece["layout"] = reader.read_meta(("layout",))["layout"]
    return piece


async def _off_loop(fn, *args):
    """SQLite reads in a worker thread: a slow disk never stalls other clients."""
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)


def _json(data) -> web.Response:
    response = web.json_response(data)
    response.enable_compression()
    return response


def new_token() -> str:
    """``$DESKLAB_TOKEN`` when set (a restarted server keeps its clients), else random."""
    return os.environ.get("DESKLAB_TOKEN") or secrets.token_urlsafe(24)
