"""Turning create/edit payloads into stored messages (shared by channel, interaction and
webhook routes)."""

from __future__ import annotations

import logging
import mimetypes
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from . import errors
from .models import Attachment, Channel, Message, now
from .validation import validate_message

if TYPE_CHECKING:
    from .rest import UploadedFile
    from .server import FakeDiscord

log = logging.getLogger(__name__)

#: Flags a sender may set (ephemeral only through interactions and webhooks of them).
USER_FLAGS = 4 | 4096 | 8192 | (1 << 15)
EPHEMERAL = 64
LOADING = 128
MAX_UPLOAD = 10 * 1024 * 1024
NONCE_WINDOW = 120.0


def _file_index(upload: UploadedFile) -> int | None:
    name = upload.field
    if name.startswith("files[") and name.endswith("]"):
        return int(name[6:-1])
    if name.startswith("file"):
        digits = "".join(ch for ch in name if ch.isdigit())
        return int(digits) if digits else 0
    return None


def _content_type(upload: UploadedFile) -> str | None:
    if upload.content_type and upload.content_type != "application/octet-stream":
        return upload.content_type
    return mimetypes.guess_type(upload.filename)[0] or upload.content_type


def build_attachments(
    fake: FakeDiscord,
    channel_id: int,
    payload: dict[str, Any],
    files: list[UploadedFile],
    *,
    ephemeral: bool,
    existing: list[Attachment] | None = None,
) -> list[Attachment] | None:
    """Attachments after a create/edit; None means "keep the existing ones unchanged"."""
    if sum(len(f.data) for f in files) > MAX_UPLOAD:
        raise errors.ApiError(413, 40005, "Request entity too large")
    by_index = {_file_index(f): f for f in files}
    described = payload.get("attachments")
    if described is None:
        if not files:
            return None
        kept = list(existing or [])
        described = [{"id": i} for i in range(len(files))]
    else:
        kept = []
    result: list[Attachment] = []
    existing_ids = {a.id: a for a in existing or []}
    for item in described:
        raw_id = int(item.get("id", -1))
        upload = by_index.get(raw_id)
        if raw_id in existing_ids:
            result.append(existing_ids[raw_id])
        elif upload is not None:
            result.append(
                fake.store_attachment(
                    channel_id,
                    item.get("filename") or upload.filename,
                    upload.data,
                    content_type=_content_type(upload),
                    description=item.get("description"),
                    ephemeral=ephemeral,
                )
            )
        else:
            raise errors.ApiError(
                400,
                50035,
                "Invalid Form Body",
                {
                    "attachments": {
                        "_errors": [{"code": "ATTACHMENT_NOT_FOUND", "message": "Unknown"}]
                    }
                },
            )
    return kept + result


def _normalize_embeds(embeds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"type": "rich", **e} for e in embeds]


def _resolve_reference(fake: FakeDiscord, channel: Channel, ref: dict[str, Any]) -> dict[str, Any]:
    target = fake.messages.get(int(ref.get("message_id") or 0))
    ref_channel = int(ref.get("channel_id") or channel.id)
    if target is None or target.deleted or target.channel_id != ref_channel:
        if ref.get("fail_if_not_exists", True):
            raise errors.ApiError(
                400,
                50035,
                "Invalid Form Body",
                {
                    "message_reference": {
                        "_errors": [
                            {
                                "code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                                "message": "Unknown message",
                            }
                        ]
                    }
                },
            )
        return {}
    resolved = {
        "type": ref.get("type", 0),
        "message_id": str(target.id),
        "channel_id": str(ref_channel),
    }
    if target.guild_id is not None:
        resolved["guild_id"] = str(target.guild_id)
    return resolved


def new_message_fields(
    fake: FakeDiscord,
    channel: Channel,
    payload: dict[str, Any] | None,
    files: list[UploadedFile],
    *,
    allow_ephemeral: bool = False,
) -> dict[str, Any]:
    """Validate a create payload and return keyword arguments for ``create_message``."""
    payload = payload or {}
    validate_message(payload, new_files=len(files))
    mask = USER_FLAGS | (EPHEMERAL if allow_ephemeral else 0)
    flags = int(payload.get("flags") or 0) & mask
    fields: dict[str, Any] = {
        "content": payload.get("content") or "",
        "embeds": _normalize_embeds(payload.get("embeds") or []),
        "components": payload.get("components") or [],
        "flags": flags,
        "tts": bool(payload.get("tts", False)),
        "nonce": payload.get("nonce"),
        "allowed_mentions": payload.get("allowed_mentions"),
    }
    fields["attachments"] = (
        build_attachments(fake, channel.id, payload, files, ephemeral=bool(flags & EPHEMERAL)) or []
    )
    if payload.get("poll"):
        fields["poll"] = new_poll(payload["poll"])
    ref = payload.get("message_reference")
    if ref:
        resolved = _resolve_reference(fake, channel, ref)
        if resolved:
            fields["message_reference"] = resolved
            fields["type"] = 19
    return fields


def edit_changes(
    fake: FakeDiscord, msg: Message, payload: dict[str, Any] | None, files: list[UploadedFile]
) -> dict[str, Any]:
    """Validate an edit payload against ``msg``; return the attribute changes."""
    payload = payload or {}
    attachments = build_attachments(
        fake, msg.channel_id, payload, files, ephemeral=msg.ephemeral, existing=msg.attachments
    )
    validate_message(
        payload,
        existing=msg,
        kept_attachments=None if attachments is None else len(attachments),
    )
    changes: dict[str, Any] = {}
    if "content" in payload:
        changes["content"] = payload["content"] or ""
    if "embeds" in payload:
        changes["embeds"] = _normalize_embeds(payload["embeds"] or [])
    if "components" in payload:
        changes["components"] = payload["components"] or []
    if "allowed_mentions" in payload:
        changes["allowed_mentions"] = payload["allowed_mentions"]
    if payload.get("flags") is not None:
        keep = msg.flags & (EPHEMERAL | (1 << 15))
        changes["flags"] = keep | (int(payload["flags"]) & 4)
    if msg.flags & LOADING:
        changes["flags"] = changes.get("flags", msg.flags) & ~LOADING
    if attachments is not None:
        changes["attachments"] = attachments
    return changes


def find_by_nonce(
    fake: FakeDiscord, channel: Channel, author_id: int, nonce: Any
) -> Message | None:
    """Discord returns the earlier message when ``enforce_nonce`` repeats a recent nonce."""
    horizon = time.time() - NONCE_WINDOW
    for msg in reversed(list(fake.messages.values())):
        if msg.created_at.timestamp() < horizon:
            break
        if (
            msg.channel_id == channel.id
            and msg.author.id == author_id
            and msg.nonce == nonce
            and not msg.deleted
        ):
            return msg
    return None


POLL_QUESTION_MAX = 300
POLL_ANSWER_MAX = 55
POLL_ANSWERS_MAX = 10
POLL_HOURS_MAX = 768  # 32 days


def new_poll(poll: Any) -> dict[str, Any]:
    """Validate a poll create request (Discord's limits) and store it with answer ids 1..n and
    its expiry."""
    if not isinstance(poll, dict):
        raise errors.ApiError(400, 50035, "Invalid Form Body", {"poll": {"_errors": []}})
    question = (poll.get("question") or {}).get("text") or ""
    answers = poll.get("answers") or []
    duration = int(poll.get("duration") or 24)
    problems = []
    if not question or len(question) > POLL_QUESTION_MAX:
        problems.append("question")
    if not 1 <= len(answers) <= POLL_ANSWERS_MAX:
        problems.append("answers")
    for answer in answers:
        text = ((answer or {}).get("poll_media") or {}).get("text") or ""
        if not text or len(text) > POLL_ANSWER_MAX:
            problems.append("answers.poll_media.text")
    if not 1 <= duration <= POLL_HOURS_MAX:
        problems.append("duration")
    if problems:
        raise errors.ApiError(
            400,
            50035,
            "Invalid Form Body",
            {p: {"_errors": [{"code": "BASE_TYPE_BAD"}]} for p in problems},
        )
    return {
        "question": {"text": question},
        "answers": [
            {"answer_id": i, "poll_media": dict(answer["poll_media"])}
            for i, answer in enumerate(answers, start=1)
        ],
        "expiry": now() + timedelta(hours=duration),
        "allow_multiselect": bool(poll.get("allow_multiselect", False)),
        "layout_type": int(poll.get("layout_type") or 1),
    }
