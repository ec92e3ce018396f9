"""Errors as RFC 9457 problem details (``application/problem+json``), naming the field or line at fault."""
from __future__ import annotations

from http import HTTPStatus

import orjson
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from omsim.errors import OmsimError

__all__ = ["JSON", "MEDIA", "Problem", "install", "problem_body", "problem_response"]

MEDIA = "application/problem+json"
_ORJSON = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def render(content) -> bytes:
    """A response body as every route renders it (orjson: several times faster than the standard library)."""
    return orjson.dumps(content, option=_ORJSON)


class JSON(JSONResponse):
    """A JSON response rendered by :func:`render`."""

    def render(self, content) -> bytes:
        return render(content)


class Problem(Exception):
    """An error a client caused (or a refusal), with its HTTP status and the field it concerns."""

    def __init__(self, status: int, detail: str, field: str | None = None, title: str | None = None, **extra):
        super().__init__(detail)
        self.status, self.detail, self.field, self.extra = int(status), detail, field, extra
        self.title = title or HTTPStatus(self.status).phrase

    def body(self) -> dict:
        return problem_body(self.status, self.detail, self.field, self.title, **self.extra)


def problem_body(status: int, detail: str, field: str | None = None, title: str | None = None, **extra) -> dict:
    """The problem document: type, title, status, detail (+ ``field`` and extra members)."""
    out = {"type": "about:blank", "title": title or HTTPStatus(status).phrase, "status": status, "detail": detail}
    if field is not None:
        out["field"] = field
    out.update(extra)
    return out


def problem_response(status: int, body: dict, headers=None) -> JSON:
    return JSON(body, status_code=status, media_type=MEDIA, headers=headers)


def _loc(loc) -> str:
    """A pydantic location as ``lines[0].qty`` (without the leading ``body``/``query``)."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "body"


async def _validation(request: Request, exc: RequestValidationError):
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return problem_response(400, problem_body(400, "the request body is not valid JSON", "body"))
    items = [{"field": _loc(e.get("loc", ())), "detail": str(e.get("msg", ""))} for e in errors]
    first = items[0] if items else {"field": "body", "detail": "invalid request"}
    return problem_response(422, problem_body(422, f"{first['field']}: {first['detail']}", first["field"],
                                              errors=items))


async def _problem(request: Request, exc: Problem):
    r = problem_response(exc.status, exc.body())
    if exc.status == 401:       # a browser (the ops page) may answer the Basic challenge with the key as password
        r.headers.append("WWW-Authenticate", "Bearer")
        r.headers.append("WWW-Authenticate", 'Basic realm="omsim"')
    return r


async def _omsim(request: Request, exc: OmsimError):
    return problem_response(422, problem_body(422, exc.message))


async def _http(request: Request, exc: StarletteHTTPException):
    return problem_response(exc.status_code, problem_body(exc.status_code, str(exc.detail)),
                            headers=getattr(exc, "headers", None))


async def _crash(request: Request, exc: Exception):
    return problem_response(500, problem_body(500, "internal error (logged on the server)"))


def install(app) -> None:
    """Register the handlers: every error leaves as a problem document."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(Problem, _problem)
    app.add_exception_handler(OmsimError, _omsim)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _crash)
