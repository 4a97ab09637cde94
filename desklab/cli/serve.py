"""``desklab serve``: the run store over HTTP, read-only, for watching from elsewhere.

    desklab serve [--runs DIR] [--port 6008] [--host 127.0.0.1]

It prints the URL and a token; on the laptop, with an SSH tunnel
(``ssh -L 6008:localhost:6008 server``): ``desklab runs list --remote
http://localhost:6008 --token T``.
"""

from __future__ import annotations

import argparse
import ipaddress
import socket
import sys

from pathlib import Path

from .common import CliError


def add_serve_parser(sub) -> None:
    p = sub.add_parser("serve", help="serve the run store over HTTP (read-only, with a token)")
    p.add_argument("--runs", metavar="DIR", help="the runs folder (default: $DESKLAB_RUNS "
                   "or the user data folder)")
    p.add_argument("--port", type=int, default=6008, help="TCP port (default 6008)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default "
                   "127.0.0.1: this machine only; reach it through an SSH tunnel)")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        from aiohttp import web
    except ImportError:
        raise CliError("desklab serve needs aiohttp: pip install 'desklab[serve]'") from None
    from ..runs.folder import runs_root
    from ..serve.server import make_app, new_token
    root = runs_root() if args.runs is None else Path(args.runs)
    if not root.is_dir():
        raise CliError(f"--runs {root}: no such folder")
    if not 0 < args.port < 65536:
        raise CliError(f"--port {args.port}: a port is 1 to 65535")
    if not _loopback(args.host):
        print(f"warning: listening on {args.host}: anyone who can reach this machine and "
              "has the token can read every run; prefer 127.0.0.1 and an SSH tunnel",
              file=sys.stderr)
    token = new_token()
    try:
        sock = socket.create_server((args.host, args.port))
    except OSError as exc:
        raise CliError(f"cannot listen on {args.host}:{args.port} ({exc.strerror or exc})") \
            from None
    print(f"serving {root} read-only at http://{args.host}:{args.port}", flush=True)
    print(f"token: {token}", flush=True)
    web.run_app(make_app(root, token), sock=sock, print=None, handle_signals=True)
    return 0


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
