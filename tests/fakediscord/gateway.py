"""The fake gateway: HELLO/IDENTIFY/READY/GUILD_CREATE, heartbeats, RESUME and dispatches."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import zlib
from collections import deque
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .patience import patient

if TYPE_CHECKING:
    from .server import FakeDiscord
    from .state import EventData

log = logging.getLogger(__name__)


class Intent:
    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_PRESENCES = 1 << 8
    GUILD_MESSAGES = 1 << 9
    GUILD_MESSAGE_REACTIONS = 1 << 10
    DIRECT_MESSAGES = 1 << 12
    DIRECT_MESSAGE_REACTIONS = 1 << 13
    MESSAGE_CONTENT = 1 << 15
    GUILD_SCHEDULED_EVENTS = 1 << 16

    PRIVILEGED = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT


# Application flags telling which privileged intents are enabled for the app.
_APP_FLAG_FOR_INTENT = {
    Intent.GUILD_PRESENCES: 1 << 12,
    Intent.GUILD_MEMBERS: 1 << 14,
    Intent.MESSAGE_CONTENT: 1 << 18,
}

_EVENT_INTENTS: dict[str, tuple[int, int]] = {
    # event: (intent in a guild, intent in a DM)
    "MESSAGE_CREATE": (Intent.GUILD_MESSAGES, Intent.DIRECT_MESSAGES),
    "MESSAGE_UPDATE": (Intent.GUILD_MESSAGES, Intent.DIRECT_MESSAGES),
    "MESSAGE_DELETE": (Intent.GUILD_MESSAGES, Intent.DIRECT_MESSAGES),
    "MESSAGE_DELETE_BULK": (Intent.GUILD_MESSAGES, Intent.DIRECT_MESSAGES),
    "MESSAGE_REACTION_ADD": (Intent.GUILD_MESSAGE_REACTIONS, Intent.DIRECT_MESSAGE_REACTIONS),
    "MESSAGE_REACTION_REMOVE": (Intent.GUILD_MESSAGE_REACTIONS, Intent.DIRECT_MESSAGE_REACTIONS),
    "GUILD_MEMBER_ADD": (Intent.GUILD_MEMBERS, 0),
    "GUILD_MEMBER_UPDATE": (Intent.GUILD_MEMBERS, 0),
    "GUILD_MEMBER_REMOVE": (Intent.GUILD_MEMBERS, 0),
    "THREAD_MEMBERS_UPDATE": (Intent.GUILDS, 0),
    "GUILD_SCHEDULED_EVENT_CREATE": (Intent.GUILD_SCHEDULED_EVENTS, 0),
    "GUILD_SCHEDULED_EVENT_UPDATE": (Intent.GUILD_SCHEDULED_EVENTS, 0),
    "GUILD_SCHEDULED_EVENT_DELETE": (Intent.GUILD_SCHEDULED_EVENTS, 0),
    "INTERACTION_CREATE": (0, 0),
}
_CONTENT_FIELDS = ("content", "embeds", "attachments", "components", "poll")


class GatewaySession:
    """One identified gateway session; survives a dropped connection until resumed."""

    def __init__(self, hub: GatewayHub, intents: int, shard: tuple[int, int] | None) -> None:
        self.hub = hub
        self.id = secrets.token_hex(16)
        self.intents = intents
        self.shard = shard
        self.seq = 0
        self.buffer: deque[dict[str, Any]] = deque(maxlen=10000)
        self.connection: GatewayConnection | None = None
        self.invalidated = False
        self.presence: dict[str, Any] | None = None
        #: Every (event name, data) sent to this session, for assertions.
        self.events: list[tuple[str, dict[str, Any]]] = []

    @property
    def connected(self) -> bool:
        return self.connection is not None and not self.connection.closed

    @property
    def gets_all_members(self) -> bool:
        """Like Discord: GUILD_CREATE carries every member only with the presences intent."""
        return bool(self.intents & Intent.GUILD_PRESENCES)

    def has_guild(self, guild_id: int) -> bool:
        guild = self.hub.fake.guilds.get(guild_id)
        if guild is None or self.hub.fake.bot_user.id not in guild.members:
            return False
        return self.shard is None or (guild_id >> 22) % self.shard[1] == self.shard[0]

    def wants(self, event: str, guild_id: int | None) -> bool:
        if guild_id is not None and not self.has_guild(guild_id):
            return False
        guild_intent, dm_intent = _EVENT_INTENTS.get(event, (Intent.GUILDS, 0))
        needed = guild_intent if guild_id is not None else dm_intent
        return not needed or bool(self.intents & needed)

    def push(self, event: str, data: dict[str, Any]) -> None:
        self.seq += 1
        frame = {"op": 0, "t": event, "s": self.seq, "d": data}
        self.buffer.append(frame)
        self.events.append((event, data))
        if self.connection is not None:
            self.connection.send(frame)

    def redact(self, event: str, data: dict[str, Any], guild_id: int | None) -> dict[str, Any]:
        """Blank message content like Discord does without the MESSAGE_CONTENT intent."""
        if (
            event not in ("MESSAGE_CREATE", "MESSAGE_UPDATE")
            or self.intents & Intent.MESSAGE_CONTENT
        ):
            return data
        bot_id = str(self.hub.fake.bot_user.id)
        author = (data.get("author") or {}).get("id")
        mentioned = any(u.get("id") == bot_id for u in data.get("mentions") or [])
        if guild_id is None or author == bot_id or mentioned:
            return data
        redacted = dict(data)
        for key in _CONTENT_FIELDS:
            if key in redacted:
                redacted[key] = "" if key == "content" else []
        redacted.pop("poll", None)
        return redacted


class GatewayConnection:
    """A websocket plus its ordered writer and optional zlib-stream compressor."""

    def __init__(self, ws: web.WebSocketResponse, compress: str | None) -> None:
        self.ws = ws
        self.compress = compress
        self.closed = False
        #: True when the fake closed the connection (a client close code does not apply).
        self.server_closed = False
        self._queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._zlib = zlib.compressobj() if compress == "zlib-stream" else None
        self._waiters: list[asyncio.Future[None]] = []
        self._writer = asyncio.create_task(self._write())

    def send(self, frame: dict[str, Any]) -> None:
        if not self.closed:
            self._queue.put_nowait(frame)

    async def _write(self) -> None:
        while True:
            frame = await self._queue.get()
            if frame is None:
                return
            waiter = frame.pop("_waiter", None)
            text = json.dumps(frame, separators=(",", ":"))
            try:
                if self._zlib is not None:
                    chunk = self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
                    await self.ws.send_bytes(chunk)
                else:
                    await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                log.debug("gateway write failed; connection is gone")
                self.closed = True
                return
            if waiter is not None:
                self._waiters.append(waiter)

    def heartbeat_received(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def barrier(self, timeout: float) -> None:  # noqa: ASYNC109
        """Wait until the client has processed every frame queued so far (op 1 round trip)."""
        if self.closed:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait({"op": 1, "d": None, "_waiter": waiter})
        await asyncio.wait_for(waiter, patient(timeout))

    async def close(self, code: int = 1000, message: str = "", *, by_server: bool = True) -> None:
        if by_server and not self.ws.closed:
            self.server_closed = True
        self.closed = True
        if not self._writer.done():
            self._queue.put_nowait(None)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._writer, 1)
        if not self.ws.closed:
            with contextlib.suppress(Exception):
                await self.ws.close(code=code, message=message.encode())


class GatewayHub:
    """Accepts gateway connections and fans dispatches out to the sessions."""

    def __init__(self, fake: FakeDiscord, *, heartbeat_interval: float = 41.25) -> None:
        self.fake = fake
        self.heartbeat_interval = heartbeat_interval
        self.sessions: dict[str, GatewaySession] = {}
        self.connections: set[GatewayConnection] = set()
        self.identify_count = 0
        self.resume_count = 0
        self._changed = asyncio.Event()

    @property
    def live_sessions(self) -> list[GatewaySession]:
        return [s for s in self.sessions.values() if not s.invalidated]

    # ----- dispatching --------------------------------------------------------------------

    def dispatch(self, event: str, data: EventData, *, guild_id: int | None = None) -> None:
        for session in self.live_sessions:
            if not session.wants(event, guild_id):
                continue
            payload = data(session) if callable(data) else data
            if payload is not None:
                session.push(event, session.redact(event, payload, guild_id))

    async def sync(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Barrier: return once every connected client has processed all queued events."""
        conns = [s.connection for s in self.live_sessions if s.connected]
        await asyncio.gather(*(c.barrier(timeout) for c in conns if c is not None))

    async def wait_for_sessions(self, count: int = 1, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until ``count`` sessions are identified and connected."""
        async with asyncio.timeout(patient(timeout)):
            while len([s for s in self.live_sessions if s.connected]) < count:
                self._changed.clear()
                await self._changed.wait()

    async def reconnect(self, session: GatewaySession) -> None:
        """Ask the client to reconnect (op 7); discord.py then resumes the session."""
        if session.connection is not None:
            session.connection.send({"op": 7, "d": None})

    async def drop(self, session: GatewaySession, code: int = 4000) -> None:
        """Close the session's connection abruptly, as a network failure would."""
        if session.connection is not None:
            await session.connection.close(code, "dropped by test")

    def invalidate(self, session: GatewaySession) -> None:
        session.invalidated = True
        if session.connection is not None:
            session.connection.send({"op": 9, "d": False})

    async def close_all(self) -> None:
        for conn in list(self.connections):
            await conn.close(1001, "fake discord shutting down")

    # ----- connection handling ------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        compress = request.query.get("compress")
        if compress not in (None, "zlib-stream"):
            log.warning("gateway compression %r unsupported; sending plain text frames", compress)
            compress = None
        conn = GatewayConnection(ws, compress)
        self.connections.add(conn)
        session: GatewaySession | None = None
        try:
            if request.query.get("encoding", "json") != "json" or request.query.get("v") != "10":
                await conn.close(4012, "Invalid API version or encoding")
                return ws
            conn.send({"op": 10, "d": {"heartbeat_interval": int(self.heartbeat_interval * 1000)}})
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    if msg.type == WSMsgType.BINARY:
                        await conn.close(4002, "Decode error")
                    continue
                try:
                    payload = json.loads(msg.data)
                except ValueError:
                    await conn.close(4002, "Decode error")
                    break
                session = await self._on_frame(conn, session, payload)
        finally:
            self.connections.discard(conn)
            await conn.close(by_server=False)
            client_code = None if conn.server_closed else ws.close_code
            log.debug("gateway connection closed (client code %s)", client_code)
            if session is not None and session.connection is conn:
                session.connection = None
                if client_code in (1000, 1001):
                    # Discord forgets sessions closed normally by the client.
                    session.invalidated = True
            self._changed.set()
        return ws

    async def _on_frame(
        self, conn: GatewayConnection, session: GatewaySession | None, payload: dict[str, Any]
    ) -> GatewaySession | None:
        op, data = payload.get("op"), payload.get("d")
        if op == 1:
            conn.send({"op": 11})
            conn.heartbeat_received()
        elif op == 2:
            if session is not None:
                await conn.close(4005, "Already authenticated")
                return session
            return await self._identify(conn, data or {})
        elif op == 6:
            return await self._resume(conn, data or {})
        elif session is None:
            await conn.close(4003, "Not authenticated")
        elif op == 3:
            session.presence = data
        elif op == 8:
            self._request_members(session, data or {})
        elif op == 4:
            log.debug("ignoring voice state update %s", data)
        else:
            await conn.close(4001, "Unknown opcode")
        return session

    async def _identify(
        self, conn: GatewayConnection, data: dict[str, Any]
    ) -> GatewaySession | None:
        fake = self.fake
        if data.get("token") != fake.token:
            await conn.close(4004, "Authentication failed")
            return None
        intents = data.get("intents")
        if intents is None:
            await conn.close(4013, "Invalid intent(s)")
            return None
        if intents & Intent.PRIVILEGED & ~fake.privileged_intents:
            await conn.close(4014, "Disallowed intent(s)")
            return None
        shard = tuple(data["shard"]) if data.get("shard") else None
        if shard is not None and not 0 <= shard[0] < shard[1]:
            await conn.close(4010, "Invalid shard")
            return None
        session = GatewaySession(self, intents, shard)  # type: ignore[arg-type]
        session.presence = data.get("presence")
        session.connection = conn
        self.sessions[session.id] = session
        self.identify_count += 1
        guilds = [g for g in fake.guilds.values() if session.has_guild(g.id)]
        app_flags = 0
        for intent, flag in _APP_FLAG_FOR_INTENT.items():
            if fake.privileged_intents & intent:
                app_flags |= flag
        ready: dict[str, Any] = {
            "v": 10,
            "user": {**fake.bot_user.payload(), "verified": True, "mfa_enabled": False},
            "user_settings": {},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": fake.gateway_url,
            "relationships": [],
            "private_channels": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "application": {"id": str(fake.application_id), "flags": app_flags},
            "auth": {},
            "_trace": ["fake-discord"],
        }
        if shard is not None:
            ready["shard"] = list(shard)
        session.push("READY", ready)
        for guild in guilds:
            session.push(
                "GUILD_CREATE",
                fake.guild_create_payload(guild, all_members=session.gets_all_members),
            )
        log.debug("session %s identified (intents=%s, shard=%s)", session.id, intents, shard)
        self._changed.set()
        return session

    async def _resume(self, conn: GatewayConnection, data: dict[str, Any]) -> GatewaySession | None:
        session = self.sessions.get(data.get("session_id") or "")
        seq = data.get("seq") or 0
        oldest = session.buffer[0]["s"] if session is not None and session.buffer else 1
        if (
            session is None
            or session.invalidated
            or data.get("token") != self.fake.token
            or seq + 1 < oldest
        ):
            conn.send({"op": 9, "d": False})
            return None
        if session.connection is not None and session.connection is not conn:
            await session.connection.close(4000, "Session resumed elsewhere")
        session.connection = conn
        for frame in session.buffer:
            if frame["s"] > seq:
                conn.send(frame)
        session.push("RESUMED", {"_trace": ["fake-discord"]})
        self.resume_count += 1
        self._changed.set()
        return session

    def _request_members(self, session: GatewaySession, data: dict[str, Any]) -> None:
        guild = self.fake.guilds.get(int(data.get("guild_id", 0)))
        if guild is None:
            return
        members = list(guild.members.values())
        user_ids = {int(u) for u in data.get("user_ids") or []}
        query = (data.get("query") or "").lower()
        if user_ids:
            members = [m for m in members if m.user.id in user_ids]
        elif query:
            members = [m for m in members if m.user.username.lower().startswith(query)]
        limit = data.get("limit") or 0
        if limit:
            members = members[:limit]
        chunks = [members[i : i + 1000] for i in range(0, len(members), 1000)] or [[]]
        for index, chunk in enumerate(chunks):
            payload: dict[str, Any] = {
                "guild_id": str(guild.id),
                "members": [m.payload() for m in chunk],
                "chunk_index": index,
                "chunk_count": len(chunks),
                "not_found": [],
            }
            if data.get("nonce"):
                payload["nonce"] = data["nonce"]
            if data.get("presences"):
                payload["presences"] = []
            session.push("GUILD_MEMBERS_CHUNK", payload)
