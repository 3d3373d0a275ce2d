"""The site and the calendars over HTTP (aiohttp.web handlers): the agenda, a page per chantier
and per atelier (Jinja2, autoescaped), the ``.ics`` files and the private feeds. A request only
reads: nothing here writes to the database. Unknown ids and tokens get a bare 404. Conditional
GETs (ETag, Last-Modified) answer 304 after one light query; rendered feeds are kept in a small
cache keyed by their version."""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from aiohttp import web

from bot.i18n import I18n, Translations
from cogs.calendrier import text
from cogs.calendrier.cache import EventCache
from cogs.calendrier.service import CalendrierService, Feed, Stamp, token_hash

if TYPE_CHECKING:
    from jinja2 import Environment

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
#: Rendered feeds kept (by kind, key, language and version): a chantier of 200 ateliers is
#: about 240 kB, so at most some 15 MB.
CACHE_SIZE = 64
ICS_TYPE = "text/calendar"
#: The pages run no script: should escaping ever fail, the browser still runs nothing.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _not_found() -> web.Response:
    return web.Response(status=404, text="404", content_type="text/plain")


class DocumentLike(Protocol):
    """What the page needs of a document of the library (``BibliothequeService.of_atelier``
    hands such rows; the calendars do not import the questions feature)."""

    titre: str
    url: str | None
    channel_id: int | None
    message_id: int | None


#: The atelier's documents, by atelier id (``bot.services.bibliotheque.of_atelier``).
DocumentsOf = Callable[[int], Awaitable[Sequence[DocumentLike]]]


@dataclass(frozen=True)
class ShownDocument:
    titre: str
    href: str


def shown_documents(guild_id: int, documents: Sequence[DocumentLike]) -> list[ShownDocument]:
    """Each document's title and link: a link as given (https only), a file by its Discord
    message's jump URL; a file whose message is unknown is left out."""
    shown = []
    for doc in documents:
        if doc.url and doc.url.lower().startswith(("https://", "http://")):
            href = doc.url
        elif doc.channel_id and doc.message_id:
            href = f"https://discord.com/channels/{guild_id}/{doc.channel_id}/{doc.message_id}"
        else:
            continue
        shown.append(ShownDocument(doc.titre, href))
    return shown


class Site:
    """Every route of the feature, registered on the bot's web server."""

    def __init__(
        self,
        service: CalendrierService,
        i18n: I18n,
        *,
        zone: str,
        base_url: str,
        documents: DocumentsOf | None = None,
    ) -> None:
        self.service = service
        self.documents = documents
        self.i18n = i18n
        self.zone = zone
        self.base_url = base_url.rstrip("/")
        parts = urlsplit(self.base_url)
        self.domain = parts.hostname or "partage"
        self.base_path = parts.path.rstrip("/")
        self._cache = EventCache(CACHE_SIZE)  # the last public files, by key and version
        #: Each atelier's VEVENTs, so that a feed after one change renders one atelier.
        self.events = EventCache()
        #: Feeds rendered (not served from the cache): tests and the benchmark read it.
        self.renders = 0

    @functools.cached_property
    def env(self) -> Environment:
        """The templates, autoescaped (Jinja2 is loaded at the first page, not at start-up)."""
        from jinja2 import Environment, FileSystemLoader, select_autoescape

        return Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )

    # --- routes -------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        pages: list[tuple[str, Callable[[web.Request], Awaitable[web.StreamResponse]]]] = [
            ("/", self.agenda),
            (r"/chantiers/{slug:[a-z0-9-]{1,40}}.ics", self.chantier_ics),
            (r"/chantiers/{slug:[a-z0-9-]{1,40}}", self.chantier_page),
            (r"/ateliers/{id:\d{1,18}}.ics", self.atelier_ics),
            (r"/ateliers/{id:\d{1,18}}", self.atelier_page),
            (r"/calendrier/{token:[A-Za-z0-9_-]{20,100}}.ics", self.member_ics),
        ]
        routes = [web.get(path, handler) for path, handler in pages]
        # With several servers, each path is also served under /s/<guild id>/.
        routes += [
            web.get(r"/s/{guild:\d{1,20}}" + ("" if path == "/" else path), handler)
            for path, handler in pages
        ]
        routes.append(web.get(r"/s/{guild:\d{1,20}}/", self.agenda))
        return routes

    async def _guild(self, request: web.Request) -> int | None:
        given = request.match_info.get("guild")
        if given is None:
            return await self.service.default_guild()
        guild_id = int(given)
        return guild_id if await self.service.known_guild(guild_id) else None

    def _prefix(self, request: web.Request) -> str:
        given = request.match_info.get("guild")
        return self.base_path + (f"/s/{given}" if given else "")

    def _lang(self, request: web.Request) -> str:
        return "en" if request.query.get("lang") == "en" else "fr"

    def _tr(self, lang: str) -> Translations:
        return self.i18n.for_locale(lang)

    # --- pages --------------------------------------------------------------------------

    async def agenda(self, request: web.Request) -> web.StreamResponse:
        guild_id = await self._guild(request)
        if guild_id is None:
            return _not_found()
        lang = self._lang(request)
        chantiers = await self.service.chantiers(guild_id)
        ateliers = await self.service.upcoming(guild_id)
        by_chantier = {
            c.slug: [a for a in ateliers if a.chantier_slug == c.slug] for c in chantiers
        }
        others = [a for a in ateliers if a.chantier_slug not in by_chantier]
        return self._page(
            request,
            "agenda.html",
            lang,
            chantiers=chantiers,
            by_chantier=by_chantier,
            others=others,
        )

    async def chantier_page(self, request: web.Request) -> web.StreamResponse:
        guild_id = await self._guild(request)
        if guild_id is None:
            return _not_found()
        chantier = await self.service.chantier(guild_id, request.match_info["slug"])
        if chantier is None:
            return _not_found()
        lang = self._lang(request)
        ateliers = await self.service.upcoming(guild_id, slug=chantier.slug)
        return self._page(request, "chantier.html", lang, chantier=chantier, ateliers=ateliers)

    async def atelier_page(self, request: web.Request) -> web.StreamResponse:
        guild_id = await self._guild(request)
        if guild_id is None:
            return _not_found()
        atelier = await self.service.atelier(guild_id, int(request.match_info["id"]))
        if atelier is None:
            return _not_found()
        lang = self._lang(request)
        documents = (
            shown_documents(guild_id, await self.documents(atelier.id))
            if self.documents is not None
            else []
        )
        return self._page(request, "atelier.html", lang, atelier=atelier, documents=documents)

    def _page(self, request: web.Request, name: str, lang: str, **values: Any) -> web.Response:
        tr = self._tr(lang)
        prefix = self._prefix(request)
        suffix = "?lang=en" if lang == "en" else ""

        def link(path: str, *, keep_lang: bool = True) -> str:
            return prefix + path + (suffix if keep_lang else "")

        body = self.env.get_template(name).render(
            lang=lang,
            t=text.labels(tr),
            when=lambda s: text.when(tr, s),
            places=lambda c: text.places(tr, c),
            cancelled_line=lambda a: text.cancelled_line(tr, a),
            genre=lambda g: text.genre_label(tr, g),
            link=link,
            here=request.path,
            **values,
        )
        data = body.encode()
        etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
        headers = {"ETag": etag, "Cache-Control": "no-cache", **PAGE_HEADERS}
        if _matches(request, etag):
            return web.Response(status=304, headers=headers)
        return web.Response(body=data, content_type="text/html", charset="utf-8", headers=headers)

    # --- calendars ----------------------------------------------------------------------

    async def atelier_ics(self, request: web.Request) -> web.StreamResponse:
        guild_id = await self._guild(request)
        if guild_id is None:
            return _not_found()
        atelier_id = int(request.match_info["id"])
        lang = self._lang(request)

        async def feed() -> Feed | None:
            atelier = await self.service.atelier(guild_id, atelier_id, counts=False)
            return None if atelier is None else Feed(atelier.titre, (atelier,))

        return await self._ics(
            request,
            ("atelier", guild_id, atelier_id, lang),
            lambda: self.service.atelier_stamp(guild_id, atelier_id),
            feed,
            lang,
            filename=f"atelier-{atelier_id}.ics",
        )

    async def chantier_ics(self, request: web.Request) -> web.StreamResponse:
        guild_id = await self._guild(request)
        if guild_id is None:
            return _not_found()
        slug = request.match_info["slug"]
        lang = self._lang(request)
        return await self._ics(
            request,
            ("chantier", guild_id, slug, lang),
            lambda: self.service.chantier_stamp(guild_id, slug),
            lambda: self.service.chantier_feed(guild_id, slug),
            lang,
        )

    async def member_ics(self, request: web.Request) -> web.StreamResponse:
        guild_id = await self._guild(request)
        if guild_id is None:
            return _not_found()
        token = request.match_info["token"]
        lang = self._lang(request)
        return await self._ics(
            request,
            ("membre", guild_id, token_hash(token), lang),
            lambda: self.service.member_stamp(guild_id, token),
            lambda: self.service.member_feed(guild_id, token),
            lang,
            private=True,
        )

    async def _ics(
        self,
        request: web.Request,
        key: tuple[Any, ...],
        stamp_of: Callable[[], Awaitable[Stamp | None]],
        feed_of: Callable[[], Awaitable[Feed | None]],
        lang: str,
        *,
        filename: str | None = None,
        private: bool = False,
    ) -> web.StreamResponse:
        stamp = await stamp_of()
        if stamp is None:
            return _not_found()
        etag = f'"{stamp.version}"'
        headers = {
            "ETag": etag,
            "Cache-Control": "private, no-cache" if private else "no-cache",
            "X-Content-Type-Options": "nosniff",
        }
        if stamp.last_modified is not None:
            headers["Last-Modified"] = format_datetime(stamp.last_modified, usegmt=True)
        if filename is not None:
            headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        if _matches(request, etag) or _not_modified_since(request, stamp.last_modified):
            return web.Response(status=304, headers=headers)
        given = request.match_info.get("guild")
        prefix = f"/s/{given}" if given else ""
        cache_key = (*key, prefix, stamp.version)
        data = self._cache.get(cache_key)
        if data is None:
            feed = await feed_of()
            if feed is None:
                return _not_found()
            data = self.render(feed, lang, prefix=prefix)
            self._cache.put(cache_key, data)
        return web.Response(body=data, content_type=ICS_TYPE, charset="utf-8", headers=headers)

    def page_url(self, guild_prefix: str = "") -> Callable[[int], str]:
        origin = self.base_url
        return lambda atelier_id: f"{origin}{guild_prefix}/ateliers/{atelier_id}"

    def render(self, feed: Feed, lang: str = "fr", *, prefix: str = "") -> bytes:
        """The ``.ics`` file of ``feed`` (also attached to confirmations and promotions);
        ``prefix``: ``/s/<guild id>`` when the server is not the default one."""
        from cogs.calendrier.ics import calendar_of  # icalendar: loaded at the first file

        self.renders += 1
        tr = self._tr(lang)
        page_url = self.page_url(prefix)
        return calendar_of(
            feed,
            domain=self.domain,
            zone=self.zone,
            page_url=page_url,
            describe=text.describer(tr, page_url),
            cache=(self.events, lang),
        )

    def feed_url(self, token: str, guild_prefix: str = "", lang: str = "fr") -> str:
        """A member's private feed address (``guild_prefix``: ``/s/<guild id>`` when the
        server is not the default one), in their language."""
        query = "?lang=en" if lang == "en" else ""
        return f"{self.base_url}{guild_prefix}/calendrier/{token}.ics{query}"


def _matches(request: web.Request, etag: str) -> bool:
    given = request.headers.get("If-None-Match")
    if not given:
        return False
    return given.strip() == "*" or etag in [t.strip().removeprefix("W/") for t in given.split(",")]


def _not_modified_since(request: web.Request, last: datetime | None) -> bool:
    if last is None or "If-None-Match" in request.headers:
        return False
    given = request.headers.get("If-Modified-Since")
    if not given:
        return False
    try:
        since = parsedate_to_datetime(given)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        return False
    return last.replace(microsecond=0) <= since
