"""Fixtures: real server processes (see server.py)."""
from service.server import db_url, make_server, server, shared_server  # noqa: F401
