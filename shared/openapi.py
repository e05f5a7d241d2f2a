"""What every service's OpenAPI document says beyond what FastAPI infers, and where it is shown.

- Errors as the services answer them (shared/http.py): every operation lists its error responses,
  each `application/problem+json` with the one `Problem` schema (RFC 9457's members and this
  project's `errors` and `rule`). 422 replaces FastAPI's `HTTPValidationError`, which no service
  ever sends; 401 and 403 where a token is needed (the roles `allow(...)` declares, Role.public
  excepted), 429 where it is not (public endpoints are rate-limited); 404 where the path names
  something; 409 on commands; 413 where there is a body; 500 everywhere.
- Tag descriptions: the service's (`ServiceSpec.tags`) and the kernel's (audit).
- Swagger UI served by the service itself from the swagger-ui-bundle package: no CDN, so /docs
  works on an intranet without Internet access (docs/api.md).
- `render(app)`: the document as committed under docs/openapi/ (tests/contract/openapi.py).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

# swagger-ui-bundle ships no type information (no py.typed): its path is Any here.
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

from shared.auth import Role, route_roles
from shared.http import DOCS_URL, PROBLEM, PROBLEM_BASE

COMMANDS = frozenset({"post", "put", "patch", "delete"})
METHODS = frozenset({"get", "head", "options", "trace"}) | COMMANDS
SCHEMAS = "#/components/schemas/"
RESPONSES = "#/components/responses/"
# FastAPI's own 422 schemas: describe a body no service sends (shared.http answers a Problem).
FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")

PROBLEM_SCHEMAS: dict[str, dict[str, Any]] = {
    "Problem": {
        "title": "Problem",
        "type": "object",
        "description": (
            "Every error answer of every service: RFC 9457 problem details, media type "
            f"`{PROBLEM}`. Clients dispatch on `status` and `type`, show `detail`, and ignore "
            "members they do not know."
        ),
        "required": ["type", "title", "status"],
        "properties": {
            "type": {
                "type": "string", "format": "uri-reference",
                "description": (
                    "What kind of problem: `about:blank` for a plain HTTP error (401, 403, 404 of an "
                    f"unknown path, 413, 500); `{PROBLEM_BASE}validation-error` for a request "
                    f"that does not fit the schema (422, with `errors`); `{PROBLEM_BASE}<refusal>` "
                    "for a refusal of the domain, named after its class (e.g. `already-closed`, "
                    "`not-found`), with `rule` when it breaks a numbered rule"
                ),
            },
            "title": {"type": "string",
                      "description": "The HTTP reason phrase, or the refusal's name (e.g. `AlreadyClosed`)"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599,
                       "description": "The HTTP status code of this answer"},
            "detail": {"type": "string", "description": "What went wrong, for a person"},
            "instance": {"type": "string", "format": "uri-reference",
                         "description": "The path of the request that failed"},
            "errors": {
                "type": "array", "items": {"$ref": SCHEMAS + "ProblemFieldError"},
                "description": "422 of a request that does not fit the schema: one entry per problem",
            },
            "rule": {
                "type": "string",
                "description": "The rule of the domain the command would break (docs/rules.md), "
                               "on refusals that name one",
                "examples": ["R-ASG-4"],
            },
        },
    },
    "ProblemFieldError": {
        "title": "ProblemFieldError",
        "type": "object",
        "description": "One field of a request that does not fit the schema.",
        "required": ["field", "message", "code"],
        "properties": {
            "field": {"type": "string",
                      "description": "The field, dotted, from the body's root (`aided_person.name`); "
                                     "`query.<name>`, `path.<name>` or `header.<name>` for a parameter"},
            "message": {"type": "string", "description": "What is wrong with it"},
            "code": {"type": "string", "description": "The validator's error code (`missing`, "
                                                      "`string_too_short`, `extra_forbidden`, ...)"},
        },
    },
}


def _problem(status: int, title: str, detail: str, *, type_: str = "about:blank",
             **extensions: Any) -> dict[str, Any]:
    return {"type": type_, "title": title, "status": status, "detail": detail,
            "instance": "/api/v1/cases/C-2024-0001", **extensions}


def _content(**examples: dict[str, Any]) -> dict[str, Any]:
    return {PROBLEM: {"schema": {"$ref": SCHEMAS + "Problem"},
                      "examples": {name: {"value": value} for name, value in examples.items()}}}


_CHALLENGE = {"WWW-Authenticate": {"description": "The bearer challenge (RFC 6750 §3)",
                                   "schema": {"type": "string"}}}

# By status: the name under components/responses and the response itself.
PROBLEM_RESPONSES: dict[str, tuple[str, dict[str, Any]]] = {
    "401": ("Unauthorized", {
        "description": "No bearer token, or one that is expired, badly signed or not for this service",
        "headers": _CHALLENGE,
        "content": _content(missing=_problem(401, "Unauthorized", "A bearer token is required.")),
    }),
    "403": ("Forbidden", {
        "description": "The token holds none of the roles this operation admits (its `x-roles`)",
        "headers": _CHALLENGE,
        "content": _content(role=_problem(403, "Forbidden",
                                          "This needs one of the roles: agency_staff, quality_lead.")),
    }),
    "404": ("NotFound", {
        "description": "What the path names does not exist, or is not the caller's to see",
        "content": _content(unknown=_problem(404, "NotFound", "no case C-2024-0001",
                                             type_=PROBLEM_BASE + "not-found")),
    }),
    "409": ("Conflict", {
        "description": "The command contradicts what has already happened (`rule` names the rule "
                       "when it is a numbered one); reading the resource again shows its state",
        "content": _content(state=_problem(409, "AlreadyClosed", "case C-2024-0001 is already closed",
                                           type_=PROBLEM_BASE + "already-closed")),
    }),
    "413": ("ContentTooLarge", {
        "description": "The request body is larger than the service accepts (FAYUAN_MAX_BODY_BYTES)",
        "content": _content(limit=_problem(413, "Content Too Large",
                                           "The request body is larger than 1048576 bytes.")),
    }),
    "422": ("UnprocessableContent", {
        "description": "The request does not fit the schema (`errors` names each field), or the "
                       "command breaks a rule of the domain whatever the state (`rule`)",
        "content": _content(
            fields=_problem(422, "The request is not valid", "Invalid fields: aided_person.name",
                            type_=PROBLEM_BASE + "validation-error",
                            errors=[{"field": "aided_person.name", "message": "Field required",
                                     "code": "missing"}]),
            rule=_problem(422, "HandlerNotEligible", "the handler has reached the monthly cap of 10 cases",
                          type_=PROBLEM_BASE + "handler-not-eligible", rule="R-ASG-4"),
        ),
    }),
    "429": ("TooManyRequests", {
        "description": "A public endpoint's rate limit per client address is spent "
                       "(FAYUAN_PUBLIC_RATE_LIMIT); `Retry-After` says when to try again",
        "headers": {"Retry-After": {"description": "Seconds to wait before the next request",
                                    "schema": {"type": "integer"}}},
        "content": _content(limit=_problem(429, "Too Many Requests", "Rate limit exceeded: 60 per 1 minute")),
    }),
    "500": ("InternalServerError", {
        "description": "An unexpected error; the service logged it with the request's correlation id",
        "headers": {"X-Correlation-ID": {"description": "Quote it when reporting the error",
                                         "schema": {"type": "string"}}},
        "content": _content(unexpected=_problem(
            500, "Internal Server Error", "The error was logged with this request's correlation id.")),
    }),
}


def error_statuses(method: str, operation: Mapping[str, Any], roles: Iterable[Role]) -> list[str]:
    """The error statuses an operation can answer with, from what it is: who may call it, what
    its path names, whether it changes state and whether it takes a body."""
    roles = tuple(roles)
    parameters = operation.get("parameters", [])
    body = "requestBody" in operation
    command = method in COMMANDS
    statuses = []
    if roles and Role.public not in roles:
        statuses += ["401", "403"]
    if any(p.get("in") == "path" for p in parameters):
        statuses.append("404")
    if command:
        statuses.append("409")
    if body:
        statuses.append("413")
    if parameters or body or command:
        statuses.append("422")
    if Role.public in roles:  # limited per client address (shared/ratelimit.py)
        statuses.append("429")
    return [*statuses, "500"]


def _is_fastapi_validation(response: Mapping[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref") == SCHEMAS + "HTTPValidationError")


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            found.add(node["$ref"])
        node = list(node.values())
    if isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def document_errors(schema: dict[str, Any], roles: Mapping[tuple[str, str], tuple[Role, ...]]) -> None:
    """Add the problem responses to every operation of `schema` (in place). `roles`: the roles of
    each (method, path), as shared.auth.route_roles reads them from the routes."""
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {}).update(copy.deepcopy(PROBLEM_SCHEMAS))
    responses = components.setdefault("responses", {})
    for name, response in PROBLEM_RESPONSES.values():
        responses[name] = copy.deepcopy(response)
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            answers = operation.setdefault("responses", {})
            for status in error_statuses(method, operation, roles.get((method.upper(), path), ())):
                declared = answers.get(status)
                if declared is None or _is_fastapi_validation(declared):
                    answers[status] = {"$ref": RESPONSES + PROBLEM_RESPONSES[status][0]}
                elif "$ref" not in declared:  # the operation's own words, the kernel's body
                    declared["content"] = copy.deepcopy(PROBLEM_RESPONSES[status][1]["content"])
            operation["responses"] = dict(sorted(answers.items()))
    schemas = components["schemas"]
    for name in FASTAPI_VALIDATION:  # HTTPValidationError first: it is what refers to the other
        others = {k: v for k, v in schemas.items() if k != name}
        if SCHEMAS + name not in _refs({**schema, "components": {**components, "schemas": others}}):
            schemas.pop(name, None)


def install_openapi(app: FastAPI, tags: Mapping[str, str], *, public_docs_prefix: str = "") -> None:
    """Describe `tags` (name -> description, in this order) and every operation's problem
    responses in the app's OpenAPI document; serve Swagger UI locally at /docs (`public_docs_prefix`:
    install_docs)."""
    app.openapi_tags = [{"name": name, "description": text} for name, text in tags.items()]
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        document_errors(schema, {(m, p): r for m, p, r in route_roles(app)})
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    install_docs(app, public_prefix=public_docs_prefix)


def render(app: FastAPI) -> str:
    """The app's OpenAPI document as committed under docs/openapi/: JSON, two-space indents,
    Chinese as written, one newline at the end."""
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\n"


# --- Swagger UI, served by the service ----------------------------------------------------

ASSETS_URL = DOCS_URL + "/static"
# Swagger UI as swagger-ui-bundle ships it reads OpenAPI 3.0 only (it refuses a document whose
# `openapi` is 3.1.0, which FastAPI writes): the page is given the same document told in 3.0's
# words (openapi_30). The services' document itself, /openapi.json, stays 3.1.
DOCS_SPEC_URL = DOCS_URL + "/openapi-3.0.json"
# The three files the page loads; nothing else of the package (its demo index.html among them)
# is served.
ASSETS = {"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"}


class _Assets(StaticFiles):
    """Swagger UI's files, revalidated by their ETag on each load (instead of the no-store of
    every other answer: they hold no data, and the bundle is 1 MB)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if path not in ASSETS:
            raise HTTPException(404)
        response = await super().get_response(path, scope)
        response.headers["cache-control"] = "no-cache"
        return response


def install_docs(app: FastAPI, *, public_prefix: str = "") -> None:
    """/docs: Swagger UI from the service's own files; the Content-Security-Policy of the page
    (shared.http.DOCS_CSP) admits scripts and styles from 'self' only.

    The page's addresses start with the path under which the browser reached it:
    - behind a proxy that serves the whole service under a path (the ASGI root_path, uvicorn's
      --root-path), that path, as FastAPI's own docs do; "Try it out" calls the API under it too;
    - else `public_prefix` (FAYUAN_PUBLIC_DOCS_PREFIX): the Gateway serves only the docs under it
      (/api-docs/<service>/docs, .../openapi.json), rewritten to /docs and /openapi.json, while
      the API keeps its own paths on the same host. A setting, not the request's
      X-Forwarded-Prefix: a header any client can send must not decide what the page loads."""
    app.mount(ASSETS_URL, _Assets(directory=str(swagger_ui_path)), name="swagger-ui")
    public_prefix = public_prefix.rstrip("/")

    def root_path(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        prefix = root_path(request) or public_prefix
        return get_swagger_ui_html(
            openapi_url=prefix + DOCS_SPEC_URL, title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{prefix}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{prefix}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{prefix}{ASSETS_URL}/favicon-32x32.png",
        )

    # /docs/ otherwise gets FastAPI's slash redirect to an absolute /docs, which is not the page
    # under a prefix; a relative address is right whatever the prefix.
    @app.get(DOCS_URL + "/", include_in_schema=False)
    async def swagger_ui_with_a_slash() -> RedirectResponse:
        return RedirectResponse("../docs", status_code=307)

    @app.get(DOCS_SPEC_URL, include_in_schema=False)
    async def openapi_for_swagger_ui(request: Request) -> JSONResponse:
        document = openapi_30(app.openapi())
        root = root_path(request)
        if root and not document.get("servers"):
            document["servers"] = [{"url": root}]  # "Try it out" calls the API through the proxy too
        return JSONResponse(document)


def openapi_30(document: Mapping[str, Any]) -> dict[str, Any]:
    """An OpenAPI 3.1 document in OpenAPI 3.0's words, for Swagger UI 4: `null` among the types
    becomes `nullable`, `const` a one-value `enum`, a schema's `examples` its `example`, numeric
    exclusive bounds 3.0's boolean ones; what 3.0 cannot say (`propertyNames`) is left out."""
    converted = copy.deepcopy(dict(document))
    converted["openapi"] = "3.0.3"
    converted.pop("jsonSchemaDialect", None)
    converted.pop("webhooks", None)
    _walk_30(converted)
    return converted


# Where a schema holds schemas.
_SUBSCHEMA = ("items", "not", "additionalProperties", "contains")
_SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs")
# Values, not schemas: an example may well hold a key named `schema`.
_DATA = ("example", "examples")


def _walk_30(node: Any) -> None:
    """Convert every schema under `node`, a part of the document that is not a schema (in place)."""
    if isinstance(node, list):
        for item in node:
            _walk_30(item)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "schema" and isinstance(value, dict):
            _schema_30(value)
        elif key == "schemas" and isinstance(value, dict):  # components
            for schema in value.values():
                _schema_30(schema)
        elif key not in _DATA:
            _walk_30(value)


def _schema_30(schema: dict[str, Any]) -> None:
    for alternatives in ("anyOf", "oneOf"):
        options = schema.get(alternatives)
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [o for o in options if o != {"type": "null"}]
            schema["nullable"] = True
            del schema[alternatives]
            if len(rest) == 1 and "$ref" in rest[0]:
                schema["allOf"] = rest  # 3.0: nothing may stand beside a $ref
            elif len(rest) == 1:
                schema.update({k: v for k, v in rest[0].items() if k not in schema})
            else:
                schema[alternatives] = rest
    types = schema.get("type")
    if isinstance(types, list):
        named = [t for t in types if t != "null"]
        if len(named) < len(types):
            schema["nullable"] = True
        schema["type"] = named[0] if len(named) == 1 else named
    if "const" in schema:
        schema["enum"] = [schema.pop("const")]
    examples = schema.get("examples")
    if isinstance(examples, list):
        del schema["examples"]
        if examples:
            schema.setdefault("example", examples[0])
    for bound, inclusive in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        value = schema.get(bound)
        if isinstance(value, int | float) and not isinstance(value, bool):
            schema[inclusive] = value
            schema[bound] = True
    schema.pop("propertyNames", None)
    schema.pop("$schema", None)
    for key in _SUBSCHEMA:
        if isinstance(schema.get(key), dict):
            _schema_30(schema[key])
    for key in _SUBSCHEMA_LISTS:
        for item in schema.get(key, []):
            _schema_30(item)
    for key in _SUBSCHEMA_MAPS:
        for item in schema.get(key, {}).values():
            _schema_30(item)
