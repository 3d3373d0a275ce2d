"""REST plumbing: routing, request recording, failure injection and rate-limit buckets."""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aiohttp import web

from .errors import ApiError

if TYPE_CHECKING:
    from .server import FakeDiscord

log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"
#: Interaction callbacks and webhook-token routes need no bot token and skip the global limit.
_UNAUTHENTICATED = re.compile(r"^/(interactions/[^/]+/[^/]+/callback|webhooks/[^/]+/[^/]+)")


@dataclass
class UploadedFile:
    field: str
    filename: str
    content_type: str | None
    data: bytes


@dataclass
class RequestRecord:
    """One REST request as the fake saw it."""

    method: str
    path: str
    route: str | None
    params: dict[str, str]
    query: dict[str, str]
    json: Any
    files: list[UploadedFile]
    reason: str | None
    status: int = 0
    response: Any = None
    at: float = field(default_factory=time.monotonic)

    def __repr__(self) -> str:
        return f"<{self.method} {self.path} -> {self.status}>"


@dataclass
class Reply:
    """A handler result other than a plain 200 JSON body."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class RestRequest:
    """What a route handler receives."""

    fake: FakeDiscord
    method: str
    path: str
    route: str
    params: dict[str, str]
    query: dict[str, str]
    json: Any
    files: list[UploadedFile]
    reason: str | None

    def id(self, name: str) -> int:
        """A snowflake path parameter; a non-numeric one is a 404 like on Discord."""
        try:
            return int(self.params[name])
        except ValueError:
            raise ApiError(404, 0, "404: Not Found") from None

    @property
    def body(self) -> dict[str, Any]:
        return self.json if isinstance(self.json, dict) else {}


Handler = Callable[[RestRequest], Awaitable[Any]]


class RouteSet:
    """Handlers declared at module level: ``routes = RouteSet()`` then ``@routes("GET", ...)``."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, str, Handler]] = []

    def __call__(self, method: str, template: str) -> Callable[[Handler], Handler]:
        def decorator(handler: Handler) -> Handler:
            self.routes.append((method, template, handler))
            return handler

        return decorator


class Router:
    """Routes in Discord's template syntax; literal segments beat parameters."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, str, list[str], Handler]] = []

    def add(self, method: str, template: str, handler: Handler) -> None:
        self._routes.append((method, template, template.strip("/").split("/"), handler))

    def include(self, routes: RouteSet) -> None:
        for method, template, handler in routes.routes:
            self.add(method, template, handler)

    def match(self, method: str, path: str) -> tuple[str, dict[str, str], Handler] | None:
        segments = [unquote(s) for s in path.strip("/").split("/")]
        best: tuple[int, str, dict[str, str], Handler] | None = None
        for route_method, template, parts, handler in self._routes:
            if route_method != method or len(parts) != len(segments):
                continue
            params: dict[str, str] = {}
            literals = 0
            for part, seg in zip(parts, segments, strict=True):
                if part.startswith("{"):
                    params[part[1:-1]] = seg
                elif part == seg:
                    literals += 1
                else:
                    break
            else:
                if best is None or literals > best[0]:
                    best = (literals, template, params, handler)
        return None if best is None else best[1:]


@dataclass
class FailureRule:
    """A failure the fake will serve instead of handling matching requests."""

    method: str
    route: str | re.Pattern[str]
    status: int
    times: int
    retry_after: float
    code: int | None
    message: str | None
    global_: bool
    body: Any = None
    served: int = 0
    until: float | None = None  # time.monotonic() past which the rule no longer applies

    def matches(self, method: str, path: str, template: str | None) -> bool:
        if self.served >= self.times or self.method not in ("*", method):
            return False
        if self.until is not None and time.monotonic() >= self.until:
            return False
        if isinstance(self.route, re.Pattern):
            return bool(self.route.search(path))
        return self.route in (template, path)

    def reply(self) -> Reply:
        if self.status == 429:
            return rate_limited_reply(self.retry_after, self.global_, "user", "injected")
        if self.body is not None:
            return Reply(self.status, self.body)
        defaults = {
            400: (50035, "Invalid Form Body"),
            401: (0, "401: Unauthorized"),
            403: (50013, "Missing Permissions"),
            404: (0, "404: Not Found"),
        }
        code, message = defaults.get(self.status, (0, f"{self.status}: Server Error"))
        if self.code == 50007 and self.message is None:
            message = "Cannot send messages to this user"
        body = {
            "message": self.message or message,
            "code": self.code if self.code is not None else code,
        }
        return Reply(self.status, body)


@dataclass
class RateLimitBucket:
    """Fixed-window bucket. ``scope='route'`` splits per major parameter like Discord's
    per-channel buckets; ``'shared'`` is one bucket for all of them (discord.py cannot
    predict it, so 429s happen)."""

    method: str
    route: str
    limit: int
    per: float
    scope: str = "route"
    name: str = ""
    hits: int = 0
    limited: int = 0
    _windows: dict[str, tuple[float, int]] = field(default_factory=dict)

    def matches(self, method: str, template: str | None) -> bool:
        return self.method in ("*", method) and self.route == template

    def take(self, params: dict[str, str]) -> tuple[bool, dict[str, str], float]:
        """Consume one request; return (allowed, headers, retry_after)."""
        major = "+".join(params[k] for k in ("channel_id", "guild_id", "webhook_id") if k in params)
        key = major if self.scope == "route" else ""
        now = time.monotonic()
        reset_at, used = self._windows.get(key, (0.0, 0))
        if now >= reset_at:
            reset_at, used = now + self.per, 0
        reset_after = max(reset_at - now, 0.001)
        if used >= self.limit:
            self.limited += 1
            headers = ratelimit_headers(self.limit, 0, reset_after, self.name)
            headers["X-RateLimit-Scope"] = "shared" if self.scope == "shared" else "user"
            return False, headers, reset_after
        used += 1
        self.hits += 1
        self._windows[key] = (reset_at, used)
        return True, ratelimit_headers(self.limit, self.limit - used, reset_after, self.name), 0.0


def ratelimit_headers(
    limit: int, remaining: int, reset_after: float, bucket: str
) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        "X-RateLimit-Bucket": bucket or "fake",
    }


def rate_limited_reply(retry_after: float, global_: bool, scope: str, bucket: str) -> Reply:
    headers = ratelimit_headers(1, 0, retry_after, bucket)
    headers.update(
        {
            "Retry-After": str(math.ceil(retry_after)),
            "Via": "1.1 google",
            "X-RateLimit-Scope": "global" if global_ else scope,
        }
    )
    if global_:
        headers["X-RateLimit-Global"] = "true"
    body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": global_}
    return Reply(429, body, headers)


def json_response(reply: Reply) -> web.Response:
    if reply.status == 204 or (reply.body is None and reply.status < 300):
        return web.Response(status=204, headers=reply.headers)
    body = json.dumps(reply.body).encode()
    headers = {**reply.headers, "Content-Type": "application/json"}
    return web.Response(status=reply.status, body=body, headers=headers)


async def read_body(request: web.Request) -> tuple[Any, list[UploadedFile]]:
    """JSON body, or multipart ``payload_json`` + ``files[n]`` parts."""
    if not request.can_read_body:
        return None, []
    ctype = request.content_type
    if ctype == "multipart/form-data":
        payload: Any = None
        files: list[UploadedFile] = []
        reader = await request.multipart()
        async for part in reader:
            name = part.name or ""  # type: ignore[union-attr]
            data = await part.read()  # type: ignore[union-attr]
            if name == "payload_json":
                payload = json.loads(data)
            else:
                files.append(
                    UploadedFile(
                        field=name,
                        filename=part.filename or name,  # type: ignore[union-attr]
                        content_type=part.headers.get("Content-Type"),  # type: ignore[union-attr]
                        data=bytes(data),
                    )
                )
        return payload, files
    raw = await request.read()
    if not raw:
        return None, []
    try:
        return json.loads(raw), []
    except ValueError:
        return raw.decode(errors="replace"), []


class GlobalLimit:
    def __init__(self, limit: int, per: float) -> None:
        self.limit = limit
        self.per = per
        self._reset_at = 0.0
        self._used = 0

    def take(self) -> float:
        """Return 0 if allowed, else the retry_after of the global 429."""
        now = time.monotonic()
        if now >= self._reset_at:
            self._reset_at, self._used = now + self.per, 0
        if self._used >= self.limit:
            return max(self._reset_at - now, 0.001)
        self._used += 1
        return 0.0


class RestApi:
    """Turns aiohttp requests into handler calls, with all the cross-cutting behaviour."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.router = Router()
        self.requests: list[RequestRecord] = []
        self.unknown_requests: list[RequestRecord] = []
        self.internal_errors: list[str] = []
        self.failures: list[FailureRule] = []
        self.buckets: list[RateLimitBucket] = []
        self.global_limit: GlobalLimit | None = None
        self.served_429 = 0
        self.served_5xx = 0
        #: Called with each handled request, before its reply leaves the fake.
        self.observers: list[Callable[[RequestRecord], None]] = []

    async def handle(self, request: web.Request) -> web.Response:
        path = request.raw_path.split("?", 1)[0][len(API_PREFIX) :] or "/"
        payload, files = await read_body(request)
        matched = self.router.match(request.method, path)
        record = RequestRecord(
            method=request.method,
            path=unquote(path),
            route=matched[0] if matched else None,
            params=matched[1] if matched else {},
            query=dict(request.query),
            json=payload,
            files=files,
            reason=request.headers.get("X-Audit-Log-Reason"),
        )
        self.requests.append(record)
        reply = await self._process(request, record, matched)
        record.status, record.response = reply.status, reply.body
        if reply.status == 429:
            self.served_429 += 1
        elif reply.status >= 500:
            self.served_5xx += 1
        for observer in list(self.observers):
            observer(record)
        return json_response(reply)

    async def _process(
        self,
        request: web.Request,
        record: RequestRecord,
        matched: tuple[str, dict[str, str], Handler] | None,
    ) -> Reply:
        if matched is None:
            log.warning("unknown REST call %s %s", record.method, record.path)
            self.unknown_requests.append(record)
            return Reply(404, {"message": "404: Not Found", "code": 0})
        template, params, handler = matched
        webhook_route = bool(_UNAUTHENTICATED.match(record.path))
        if not webhook_route and request.headers.get("Authorization") != f"Bot {self.fake.token}":
            return Reply(401, {"message": "401: Unauthorized", "code": 0})
        for rule in self.failures:
            if rule.matches(record.method, record.path, template):
                rule.served += 1
                log.info("injecting %s on %s %s", rule.status, record.method, record.path)
                return rule.reply()
        if self.global_limit is not None and not webhook_route:
            retry_after = self.global_limit.take()
            if retry_after:
                return rate_limited_reply(retry_after, True, "global", "global")
        headers: dict[str, str] = {}
        for bucket in self.buckets:
            if bucket.matches(record.method, template):
                allowed, headers, retry_after = bucket.take(params)
                if not allowed:
                    reply = rate_limited_reply(retry_after, False, "user", bucket.name)
                    reply.headers.update(headers)
                    return reply
        ctx = RestRequest(
            fake=self.fake,
            method=record.method,
            path=record.path,
            route=template,
            params=params,
            query=record.query,
            json=record.json,
            files=record.files,
            reason=record.reason,
        )
        try:
            result = await handler(ctx)
        except ApiError as exc:
            return Reply(exc.status, exc.body(), headers)
        except Exception as exc:
            log.exception("fake discord handler crashed on %s %s", record.method, record.path)
            self.internal_errors.append(f"{record.method} {record.path}: {exc!r}")
            return Reply(500, {"message": "500: Internal Server Error (fake)", "code": 0})
        reply = (
            result
            if isinstance(result, Reply)
            else Reply(200 if result is not None else 204, result)
        )
        reply.headers = {**headers, **reply.headers}
        return reply
