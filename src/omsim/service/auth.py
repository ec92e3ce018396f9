"""API keys with a role: ``Authorization: Bearer <key>``, compared in constant time, never logged.

Browsers (the operations page) may send the key as the password of HTTP
Basic authentication instead; the user name is ignored.
"""
from __future__ import annotations

import base64
import hmac
from typing import Annotated

from fastapi import Depends, Request

from omsim.service.problems import Problem
from omsim.service.settings import ROLES

__all__ = ["AdminKey", "ReadKey", "WriteKey", "authorize", "role_of"]


def role_of(keys: dict[str, str], presented: str) -> str | None:
    """The role of ``presented``, comparing it with every key in constant time (no early exit)."""
    found = None
    p = presented.encode()
    for key, role in keys.items():
        if hmac.compare_digest(key.encode(), p):
            found = role
    return found


def authorize(keys: dict[str, str], header: str, role: str) -> str:
    """The role of the key an ``Authorization`` header presents, if it may act as ``role``; else a 401/403
    problem."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "basic":           # a browser: any user name, the key as the password
        try:
            token = base64.b64decode(token.strip(), validate=True).decode().partition(":")[2]
        except (ValueError, UnicodeDecodeError):
            token = ""
    elif scheme.lower() != "bearer":
        token = ""
    if not token.strip():
        raise Problem(401, "an API key is required: Authorization: Bearer <key>", "Authorization")
    got = role_of(keys, token.strip())
    if got is None:
        raise Problem(401, "unknown API key", "Authorization")
    if ROLES.index(got) < ROLES.index(role):
        raise Problem(403, f"this key's role is {got}; this needs {role}", "Authorization")
    return got


def _require(role: str):
    async def check(request: Request) -> str:      # async: FastAPI runs a sync dependency in a worker thread
        return authorize(request.app.state.svc.settings.keys, request.headers.get("authorization", ""), role)
    return check


ReadKey = Annotated[str, Depends(_require("read"))]
WriteKey = Annotated[str, Depends(_require("write"))]
AdminKey = Annotated[str, Depends(_require("admin"))]
