"""Hostile input refused at one place, before any endpoint sees it (docs/reliability.md
"Hostile input").

Every request of every service passes this pure ASGI layer (shared.service.build_app installs
it), so an endpoint added tomorrow is covered without declaring anything. It reads what the
request carries and refuses, with a 422 validation problem naming the field, whatever no field
of this API may hold and what would otherwise reach PostgreSQL, a spreadsheet or a date
computation as a 500:

- a control character (Unicode Cc: NUL, ESC, DEL, the C1 range, ...) or a lone surrogate in a
  path segment, a query parameter, or any string (or key) of a JSON body. Tab, line feed and
  carriage return are accepted in a JSON body's strings only, where multi-line free text lives
  (a handling record, a finding); names refuse them too (shared.validation.OneLine);
- a JSON number that is not a 64-bit integer where it is whole, or not finite;
- a date or an instant (a string that is exactly one, in a body or a query) outside
  1900-01-01 .. 2199-12-31: no legal-aid case lives outside those years, and past them a
  date's arithmetic (a deadline, a suspension's end, an instant shown at +08:00) overflows.

Why here and not in each model: a pydantic type must be chosen by every field of every model
and every `Query`/`Path` parameter, and one forgotten field is a 500; this layer cannot be
forgotten. The domain's own rules (a closure's end date after registration) stay in the domain.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any, get_args
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import Role, route_roles
from shared.http import PROBLEM_BASE, problem

INT64 = (-(2**63), 2**63 - 1)
EARLIEST = date(1900, 1, 1)
LATEST = date(2199, 12, 31)
MULTI_LINE = frozenset("\t\n\r")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_INSTANT = re.compile(r"(\d{4})-(\d{2})-(\d{2})[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?")


def _hostile_char(text: str, *, multi_line: bool) -> str | None:
    """The first character no text of this API may hold, or None."""
    for char in text:
        if char < " " or "\x7f" <= char <= "\x9f" or "\ud800" <= char <= "\udfff":
            if multi_line and char in MULTI_LINE:
                continue
            return char
    return None


def _char_message(char: str) -> str:
    return f"must not contain control characters (found U+{ord(char):04X})"


def _date_message(text: str) -> str | None:
    """Why a string that is exactly a date or an instant is refused, or None."""
    if len(text) > 40 or not text[:4].isdigit():
        return None
    if _DATE.fullmatch(text) is None and _INSTANT.fullmatch(text) is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
    except (ValueError, OverflowError):
        if not EARLIEST.year <= int(text[:4]) <= LATEST.year:
            return f"must lie between {EARLIEST} and {LATEST}"
        return None  # not a date after all (2026-02-30): the field's own validation says so
    if not EARLIEST <= moment.date() <= LATEST:
        return f"must lie between {EARLIEST} and {LATEST}"
    return None


def _text_message(text: str, *, multi_line: bool) -> str | None:
    char = _hostile_char(text, multi_line=multi_line)
    if char is not None:
        return _char_message(char)
    return _date_message(text)


def _walk(value: Any, loc: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str, str]]:
    """(location, message, code) of every hostile part of a parsed JSON document."""
    if isinstance(value, str):
        message = _text_message(value, multi_line=True)
        if message is not None:
            yield loc, message, "hostile_text" if "control" in message else "date_out_of_range"
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if not INT64[0] <= value <= INT64[1]:
            yield loc, "must be a whole number between -2^63 and 2^63-1", "int_out_of_range"
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            yield loc, "must be a finite number", "number_not_finite"
    elif isinstance(value, dict):
        for key, item in value.items():
            char = _hostile_char(key, multi_line=False)
            if char is not None:
                yield (*loc, key), "a field's name " + _char_message(char), "hostile_text"
            else:
                yield from _walk(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*loc, index))


def _field(loc: tuple[str | int, ...]) -> str:
    """Named as shared.http names a validation error's field: a body's path, query.x, path.x."""
    return ".".join(str(p) for p in loc) or "body"


def _printable(name: str) -> str:
    return "".join(c if _hostile_char(c, multi_line=False) is None else "?" for c in name)


def refusal(errors: list[dict[str, str]], path: str) -> JSONResponse:
    fields = ", ".join(sorted({e["field"] for e in errors}))
    return problem(422, "The request is not valid", type_=PROBLEM_BASE + "validation-error",
                   detail=f"Invalid fields: {fields}", instance=_printable(path), errors=errors)


def routes(app: Any) -> list[Any]:
    """The app's routes, each with `matches(scope)` and (API routes) its `dependant`: FastAPI >=
    0.16x keeps included routers as lazy branches, flattened by iter_route_contexts. Read once."""
    cached: list[Any] | None = getattr(app.state, "flat_routes", None)
    if cached is None:
        try:
            from fastapi.routing import iter_route_contexts
            cached = list(iter_route_contexts(app.routes))
        except ImportError:  # older FastAPI: the included routes are app.routes
            cached = list(app.routes)
        app.state.flat_routes = cached
    return cached


def _matched(scope: Scope) -> tuple[Any, dict[str, Any]]:
    """The route a request goes to (or one of its path with another method) and its path's values."""
    app = scope.get("app")
    found: tuple[Any, dict[str, Any]] = (None, {})
    for route in routes(app) if app is not None else []:
        match, child = route.matches(scope)
        if match == Match.FULL:
            return route, child.get("path_params", {})
        if match == Match.PARTIAL and found[0] is None:
            found = (route, child.get("path_params", {}))
    return found


def _whole_numbers(route: Any) -> set[str]:
    """The path and query parameters the route reads as whole numbers (int, or int | None)."""
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return set()
    params: list[Any] = []
    todo = [dependant]
    while todo:
        current = todo.pop()
        params += [*current.path_params, *current.query_params]
        todo += current.dependencies
    return {p.alias or p.name for p in params
            if p.field_info.annotation is int or set(get_args(p.field_info.annotation)) == {int, type(None)}}


_LONG_NUMBER = re.compile(r"[+-]?\d{19,}")


def _path_errors(scope: Scope) -> list[dict[str, str]]:
    path: str = scope["path"]
    message = _text_message(path, multi_line=False)
    if message is None or "control" not in message:
        return []
    # Name the path parameter that holds it, as the route declares it.
    for name, value in _matched(scope)[1].items():
        if isinstance(value, str) and _hostile_char(value, multi_line=False) is not None:
            return [{"field": f"path.{name}", "message": message, "code": "hostile_text"}]
    return [{"field": "path", "message": message, "code": "hostile_text"}]


def _number_errors(scope: Scope, query: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Whole numbers past 64 bits in the path or the query, where the route reads a number."""
    long_query = [(n, v) for n, v in query if _LONG_NUMBER.fullmatch(v.strip())]
    if not long_query and not _LONG_NUMBER.search(scope["path"]):
        return []
    route, path_params = _matched(scope)
    numbers = _whole_numbers(route)
    candidates = [("path", n, v) for n, v in path_params.items() if isinstance(v, str)]
    candidates += [("query", n, v) for n, v in long_query]
    return [{"field": f"{where}.{name}", "message": "must be a whole number between -2^63 and 2^63-1",
             "code": "int_out_of_range"}
            for where, name, value in candidates
            if name in numbers and _LONG_NUMBER.fullmatch(value.strip())
            and not INT64[0] <= int(value) <= INT64[1]]


def _query(scope: Scope) -> list[tuple[str, str]]:
    raw: bytes = scope.get("query_string", b"")
    return parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="utf-8",
                     errors="replace") if raw else []


def _query_errors(query: list[tuple[str, str]]) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    for name, value in query:
        char = _hostile_char(name, multi_line=False)
        if char is not None:
            errors.append({"field": "query", "message": "a parameter's name " + _char_message(char),
                           "code": "hostile_text"})
            continue
        message = _text_message(value, multi_line=False)
        if message is not None:
            errors.append({"field": f"query.{name}", "message": message,
                           "code": "hostile_text" if "control" in message else "date_out_of_range"})
    return errors


async def read_body(receive: Receive) -> bytes:
    """The whole body (shared.http's body limit still counts it: it wraps `receive`)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives `body` once, then whatever the client sends next (a disconnect)."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


async def http_problem(exc: StarletteHTTPException, scope: Scope, receive: Receive, send: Send) -> None:
    """An HTTPException raised while a layer outside the routes reads the body (the body limit's
    413) answered as the routes would answer it."""
    response = problem(exc.status_code, "Content Too Large" if exc.status_code == 413 else "Bad Request",
                       detail=exc.detail if isinstance(exc.detail, str) else None, instance=scope["path"])
    await response(scope, receive, send)


def _is_json(scope: Scope) -> bool:
    for key, value in scope["headers"]:
        if key == b"content-type":
            kind = value.split(b";")[0].strip().lower()
            return bool(kind == b"application/json" or kind.endswith(b"+json"))
    return False


def _unauthenticated(scope: Scope) -> bool:
    """No token, for an endpoint that is not public: the endpoint answers 401 before it reads
    anything, and a caller without a token learns nothing about what it would have refused."""
    if any(k == b"authorization" for k, _ in scope["headers"]):
        return False
    route, _ = _matched(scope)
    app = scope.get("app")
    if route is None or app is None or not hasattr(route, "dependant"):
        return False
    roles: dict[tuple[str, str], tuple[Role, ...]] | None = getattr(app.state, "route_roles", None)
    if roles is None:
        roles = app.state.route_roles = {(m, p): r for m, p, r in route_roles(app)}
    declared = roles.get((scope["method"], route.path))
    return bool(declared) and Role.public not in (declared or ())


class InputGuard:
    """The layer: path and query of every request, the body of every JSON request."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = _query(scope)
        errors = _path_errors(scope) + _query_errors(query) + _number_errors(scope, query)
        if errors and not _unauthenticated(scope):
            await refusal(errors, scope["path"])(scope, receive, send)
            return
        if errors:  # no token for an endpoint that needs one: its 401 comes first, and nothing runs
            await self.app(scope, receive, send)
            return
        if scope["method"] not in ("POST", "PUT", "PATCH") or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        try:
            body = await read_body(receive)
        except StarletteHTTPException as exc:
            await http_problem(exc, scope, receive, send)
            return
        try:
            document = json.loads(body) if body.strip() else None
        except (ValueError, RecursionError):
            document = None  # not JSON: the route's own parsing answers with its problem
        errors = [{"field": _field(loc), "message": message, "code": code}
                  for loc, message, code in _walk(document, ())]
        if errors and not _unauthenticated(scope):
            await refusal(errors, scope["path"])(scope, receive, send)
            return
        await self.app(scope, replaying(body, receive), send)
