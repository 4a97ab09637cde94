"""A run read from `desklab serve` on another machine: the `RunReader` interface
(``meta``, ``layout``, ``events(after)``, ``history()``) over HTTP, stdlib only.

The server is as untrusted as a file: its rows go through the same checks
(`rows.rows_to_events`), bodies are read up to a bound, and every failure is one
`RemoteError` naming the URL. The token travels in the Authorization header, never in
the URL (it would land in logs).
"""

from __future__ import annotations

import http.client
import json
import os
import urllib.error
import urllib.parse
import urllib.request
import zlib

from ..errors import DeskLabError
from .checks import layout_from_meta
from .rows import EventSource, decode_rows, rows_to_events

MAX_BODY = 256 * 2 ** 20  # the most one answer may hold, decompressed
TIMEOUT_S = 40.0  # beyond the server's longest hold (25 s)


class RemoteError(DeskLabError, ValueError):
    """The server cannot be reached, refused the token, or sent something unusable."""


def _token(token: str | None) -> str:
    token = token or os.environ.get("DESKLAB_TOKEN", "")
    if not token:
        raise RemoteError("a remote run needs the token `desklab serve` printed "
                          "(--token or $DESKLAB_TOKEN)")
    return token


def check_url(url: str) -> str:
    """``url`` if it is http(s)://host[:port][/path], else a `RemoteError`."""
    parts = urllib.parse.urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname \
            or parts.query or parts.fragment:
        raise RemoteError(f"--remote {url!r} is not a server address like "
                          "http://localhost:6008")
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        raise RemoteError(f"--remote {url!r} has a bad port") from None
    return url.rstrip("/")


def get_json(url: str, token: str | None, timeout: float = TIMEOUT_S):
    """GET ``url`` with the token; its JSON, or a `RemoteError` in plain words."""
    request = urllib.request.Request(url, headers={
        "Authorization": f"Bearer {_token(token)}", "Accept-Encoding": "deflate, gzip"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(MAX_BODY + 1)
            encoding = response.headers.get("Content-Encoding", "")
    except urllib.error.HTTPError as exc:
        why = {401: "refused the token", 404: "has no such run",
               400: "refused the request"}.get(exc.code, f"answered {exc.code}")
        if exc.code == 409:  # the server's own one line
            try:
                why = str(json.loads(exc.read(4096))["error"])
            except (ValueError, KeyError, TypeError):
                why = "cannot read the run"
        raise RemoteError(f"{_base(url)} {why}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        # (an HTTPException: the server went away in the middle of an answer)
        reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
        raise RemoteError(f"cannot reach {_base(url)} ({reason})") from None
    try:
        if encoding in ("gzip", "deflate"):
            inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header
            body = inflater.decompress(body, MAX_BODY + 1)
        if len(body) > MAX_BODY:
            raise RemoteError(f"{_base(url)} sent more than {MAX_BODY >> 20} MB")
        return json.loads(body)
    except (zlib.error, ValueError) as exc:
        if isinstance(exc, RemoteError):
            raise
        raise RemoteError(f"{_base(url)} sent something that is not a run ({exc})") from None


def _base(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def remote_runs(url: str, token: str | None = None,
                timeout: float = TIMEOUT_S) -> list[dict]:
    """The server's listing, newest first."""
    runs = get_json(f"{check_url(url)}/api/runs", token, timeout)
    if not isinstance(runs, list) or not all(isinstance(r, dict) and isinstance(
            r.get("id"), str) and isinstance(r.get("name"), str) for r in runs):
        raise RemoteError(f"{_base(url)} sent a listing that is not one")
    return runs


def find_remote(url: str, run: str, token: str | None = None) -> dict:
    """The listed run whose id is ``run`` or whose name holds it (the newest)."""
    runs = remote_runs(url, token)
    for r in runs:
        if r["id"] == run:
            return r
    named = [r for r in runs if run in r["name"]]
    if not named:
        raise RemoteError(f"{_base(url)} has no run {run!r} (see 'desklab runs list "
                          f"--remote {url}')")
    return named[0]


class RemoteRun(EventSource):
    """One run on a server, read like a local `RunReader`."""

    def __init__(self, url: str, run_id: str, token: str | None = None,
                 name: str = ""):
        self.url, self.token = check_url(url), _token(token)
        self.base = f"{self.url}/api/runs/{urllib.parse.quote(run_id, safe='')}"
        self.path = f"{_base(self.url)}/{name or run_id}"  # what messages name
        self.wal_missing = False
        self.meta = get_json(self.base, self.token)
        if not isinstance(self.meta, dict):
            raise RemoteError(f"{self.path}: the server sent no meta")
        self._layout = None
        self.status, self.ended = self.meta.get("status", "?"), False
        self.cursor: dict | None = None  # after the last piece read (see `events`)

    @property
    def layout(self):
        if self._layout is None and self.meta.get("layout"):
            self._layout = layout_from_meta(self.meta["layout"], self.path)
        return self._layout

    def read_meta(self, keys=None) -> dict:
        self.meta = get_json(self.base, self.token)
        return self.meta if keys is None else {k: self.meta[k] for k in keys
                                               if k in self.meta}

    def events(self, after: dict | None = None, wait: float = 0.0):
        """The events after ``after`` (see `RunReader.events`); with ``wait``, the
        server holds the request up to that long for new ones."""
        query = urllib.parse.urlencode({"after": json.dumps(after), "wait": wait})
        piece = get_json(f"{self.base}/rows?{query}", self.token, TIMEOUT_S + wait)
        if not isinstance(piece, dict) or not isinstance(piece.get("cursor"), dict):
            raise RemoteError(f"{self.path}: the server sent a malformed piece")
        if piece.get("layout") and self._layout is None:
            self._layout = layout_from_meta(piece["layout"], self.path)
        events, cursor = rows_to_events(decode_rows(piece.get("rows"), self.path),
                                        self.layout, after, self.path)
        self.status, self.ended = str(piece.get("status")), bool(piece.get("ended"))
        self.cursor = cursor
        return events, cursor

    def last_step(self) -> int | None:
        return None

    def close(self) -> None:
        pass


def follow(run: RemoteRun, on_events, on_status, stop=lambda: False, wait: float = 5.0,
           sleep=None) -> None:
    """Read ``run`` to its end as it is written: ``on_events(events)`` for each piece
    (in order, none twice), ``on_status(text)`` when the server is lost ("disconnected
    …") and found again ("reconnected"). A lost server is asked again after 0.5, 1, 2…
    10 s; a refused token or a vanished run ends the follow with its `RemoteError`."""
    import time
    sleep = sleep or time.sleep
    cursor, delay, lost = None, 0.5, False
    while not stop():
        try:
            events, cursor_next = run.events(cursor, wait=wait)
        except RemoteError as exc:
            if not str(exc).startswith("cannot reach"):
                raise
            lost = True
            on_status(f"disconnected: {exc}; trying again in {delay:g} s")
            sleep(delay)
            delay = min(delay * 2, 10.0)
            continue
        if lost:
            on_status("reconnected")
            lost, delay = False, 0.5
        cursor = cursor_next
        if events:
            on_events(events)
        elif run.ended:
            return
