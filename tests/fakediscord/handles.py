"""Handles on injected interactions: await what the bot answered, read its messages."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .messages import LOADING
from .models import Channel, Member, Message, User
from .patience import patient

if TYPE_CHECKING:
    from .rest import UploadedFile
    from .server import FakeDiscord

log = logging.getLogger(__name__)


@dataclass
class Upload:
    """A file a user attaches to a slash command option of type attachment."""

    filename: str
    data: bytes
    content_type: str | None = None


@dataclass
class CallbackRecord:
    """The bot's answer to an interaction (``POST /interactions/{id}/{token}/callback``)."""

    type: int
    data: dict[str, Any] | None
    files: list[UploadedFile] = field(default_factory=list)
    at: float = field(default_factory=time.monotonic)

    @property
    def ephemeral(self) -> bool:
        return bool((self.data or {}).get("flags", 0) & 64)


class InteractionHandle:
    """One injected interaction and everything the bot did with it."""

    def __init__(
        self,
        fake: FakeDiscord,
        payload: dict[str, Any],
        *,
        channel: Channel,
        user: User,
        source_message_id: int | None = None,
        command_name: str | None = None,
    ) -> None:
        self.fake = fake
        self.payload = payload
        self.id = int(payload["id"])
        self.token: str = payload["token"]
        self.type: int = payload["type"]
        self.channel_id = channel.id
        self.guild_id = channel.guild_id
        self.user = user
        self.source_message_id = source_message_id
        self.command_name = command_name
        self.created = time.monotonic()
        self.callbacks: list[CallbackRecord] = []
        self.original_message_id: int | None = None
        self.followup_ids: list[int] = []
        self._changed = asyncio.Event()

    def __repr__(self) -> str:
        return f"<InteractionHandle id={self.id} type={self.type} callbacks={len(self.callbacks)}>"

    @property
    def age(self) -> float:
        return time.monotonic() - self.created

    def notify(self) -> None:
        self._changed.set()

    async def _wait(self, predicate: Callable[[], Any], limit: float, what: str) -> None:
        deadline = time.monotonic() + patient(limit)
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"interaction {self.id}: timed out waiting for {what}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                continue

    # ----- what the bot answered ----------------------------------------------------------

    @property
    def responded(self) -> bool:
        return bool(self.callbacks)

    async def response(self, timeout: float = 5.0) -> CallbackRecord:  # noqa: ASYNC109
        """The initial callback (type 4/5/6/7/8/9 and its data), waiting for it if needed."""
        await self._wait(lambda: self.callbacks, timeout, "the interaction response")
        return self.callbacks[0]

    @property
    def message(self) -> Message | None:
        """The message created or updated by the response (type 4, 5, 6, 7), as it is now."""
        if self.original_message_id is None:
            return None
        return self.fake.messages.get(self.original_message_id)

    @property
    def followups(self) -> list[Message]:
        return [self.fake.messages[m] for m in self.followup_ids]

    async def wait_followups(self, count: int = 1, timeout: float = 5.0) -> list[Message]:  # noqa: ASYNC109
        await self._wait(lambda: len(self.followup_ids) >= count, timeout, f"{count} follow-ups")
        return self.followups

    async def wait_answer(self, timeout: float = 5.0) -> Message:  # noqa: ASYNC109
        """The message that answers the interaction: a type 4 response, or, after a "thinking"
        defer, the loading message once a follow-up or an edit of ``@original`` replaced it."""
        await self.response(timeout=timeout)
        await self._wait(
            lambda: self.message is not None and not self.message.flags & LOADING,
            timeout,
            "the answer (a response, or the loading message replaced)",
        )
        assert self.message is not None
        return self.message

    async def wait_message_edits(self, count: int = 1, timeout: float = 5.0) -> Message:  # noqa: ASYNC109
        """Wait until the original response message was edited ``count`` times."""
        await self._wait(
            lambda: self.message is not None and self.message.edits >= count,
            timeout,
            f"{count} edits of the original response",
        )
        assert self.message is not None
        return self.message

    @property
    def choices(self) -> list[dict[str, Any]]:
        """Autocomplete choices the bot returned (type 8)."""
        if not self.callbacks or self.callbacks[0].type != 8:
            raise AssertionError(f"no autocomplete answer: {self.callbacks!r}")
        return list((self.callbacks[0].data or {}).get("choices") or [])

    @property
    def modal(self) -> dict[str, Any] | None:
        """The modal the bot opened (type 9 data), if any."""
        for cb in self.callbacks:
            if cb.type == 9:
                return cb.data
        return None

    def submit_modal(
        self, values: dict[str, str | list[str]], *, user: Member | User | None = None
    ) -> InteractionHandle:
        """Submit the modal this interaction opened, with values by input custom_id."""
        return self.fake.injector.submit_modal(self, values, user=user)

    def metadata(self) -> dict[str, Any]:
        """``interaction_metadata`` of messages this interaction created."""
        meta: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "user": self.user.payload(),
            "authorizing_integration_owners": self.payload.get(
                "authorizing_integration_owners", {}
            ),
        }
        if self.command_name is not None:
            meta["name"] = self.command_name
            meta["command_type"] = (self.payload.get("data") or {}).get("type", 1)
        if self.source_message_id is not None:
            meta["interacted_message_id"] = str(self.source_message_id)
        if self.original_message_id is not None:
            meta["original_response_message_id"] = str(self.original_message_id)
        return meta
