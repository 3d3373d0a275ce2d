"""The web agenda in a real browser (headless chromium at a phone's width): it renders, its
links lead where they say, nothing overflows sideways, the text has its contrast, the page
says its language. ``PARTAGE_SCREENSHOTS=<folder>`` keeps the screenshots there."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.browser import chromium, chromium_path
from tests.e2e.harness import Server, partage, settle
from tests.e2e.test_ateliers_support import create_atelier
from tests.fakediscord import FakeDiscord

LONG_TITLE = (
    "Accueil et intégration des personnes immigrantes en région : "
    "retour d'expérience de Rimouski, Saint-Jean-sur-Richelieu et Rouyn-Noranda"
)

#: What a phone page must not do: be wider than the screen.
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"

#: WCAG contrast ratio of an element's text on the page's background.
CONTRAST = """
(() => {
  const rgb = s => s.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
  const lum = c => {
    const [r, g, b] = c.map(v => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => {
    const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  const out = {};
  for (const sel of ["body", "a", ".meta", "h1", ".atelier h3 a", "footer"]) {
    const el = document.querySelector(sel);
    if (!el) continue;
    let bgEl = el, bg = getComputedStyle(bgEl).backgroundColor;
    while (bgEl && (bg === "rgba(0, 0, 0, 0)" || bg === "transparent")) {
      bgEl = bgEl.parentElement;
      bg = bgEl ? getComputedStyle(bgEl).backgroundColor : "rgb(255, 255, 255)";
    }
    out[sel] = ratio(rgb(getComputedStyle(el).color), rgb(bg));
  }
  return out;
})()
"""


def shots_dir(tmp_path: Path) -> Path:
    wanted = os.environ.get("PARTAGE_SCREENSHOTS")
    folder = Path(wanted) if wanted else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def test_the_agenda_in_a_phone_browser(
    fake_discord: FakeDiscord, server: Server, settings, tmp_path: Path
) -> None:
    chromium_path()  # skips (or fails under PARTAGE_REQUIRE_BROWSER) without a browser
    fake = fake_discord
    shots = shots_dir(tmp_path)
    async with partage(fake, settings) as bot:
        await create_atelier(fake, server, titre=LONG_TITLE, capacite=12)
        await create_atelier(
            fake,
            server,
            titre='Atelier <script>alert("x")</script> « référentiel »',
            chantier="accueil-integration",
            dates="15 janvier 2031 9 h 30",
            lieu="Hôtel de ville de Sherbrooke, salle du conseil",
        )
        await settle(fake, bot)
        assert bot.web is not None
        origin = f"http://127.0.0.1:{bot.web.port}"
        async with chromium() as page:
            await page.goto(origin + "/")
            assert await page.evaluate("document.documentElement.lang") == "fr-CA"
            assert await page.evaluate("document.querySelectorAll('h1').length") == 1
            assert await page.evaluate("document.querySelector('h1').textContent") == (
                "Agenda des ateliers"
            )
            assert await page.evaluate(OVERFLOW) <= 0
            titles = await page.evaluate(
                "[...document.querySelectorAll('.atelier h3 a')].map(a => a.textContent)"
            )
            assert LONG_TITLE in titles
            assert any("<script>" in t for t in titles)  # shown as text, not run
            assert await page.evaluate("!document.querySelector('main script')")
            links = await page.evaluate(
                "[...document.querySelectorAll('a')].map(a => [a.textContent.trim(), a.href])"
            )
            assert all(text for text, _ in links), links  # every link says where it goes
            contrast = await page.evaluate(CONTRAST)
            assert min(contrast.values()) >= 4.5, contrast
            await page.screenshot(str(shots / "agenda-fr-390.png"))

            # Every link of the agenda answers (the pages, the chantiers, the language).
            for _, href in links:
                status = await page.evaluate(f"fetch({json.dumps(href)}).then(r => r.status)")
                assert status == 200, href

            # Following the long title's link opens its page.
            await page.evaluate(
                "[...document.querySelectorAll('.atelier h3 a')]"
                f".find(a => a.textContent === {json.dumps(LONG_TITLE)}).click()"
            )
            await page.wait_load()
            assert (await page.evaluate("location.pathname")).startswith("/ateliers/")
            assert await page.evaluate("document.querySelector('h1').textContent") == LONG_TITLE
            assert await page.evaluate(OVERFLOW) <= 0
            ics = await page.evaluate(
                "fetch(document.querySelector('a[type=\"text/calendar\"]').href)"
                ".then(r => [r.status, r.headers.get('content-type')])"
            )
            assert ics[0] == 200 and ics[1].startswith("text/calendar")
            await page.screenshot(str(shots / "atelier-fr-390.png"))

            # English, and the chantier page.
            await page.evaluate("document.querySelector('a[hreflang=en]').click()")
            await page.wait_load()
            assert await page.evaluate("document.documentElement.lang") == "en-CA"
            assert "Sessions" in await page.evaluate("document.body.innerText")
            await page.screenshot(str(shots / "atelier-en-390.png"))
            await page.goto(origin + "/chantiers/accueil-integration")
            assert await page.evaluate(OVERFLOW) <= 0
            await page.screenshot(str(shots / "chantier-fr-390.png"))


@pytest.mark.parametrize("width", [320, 1280])
async def test_no_sideways_scrolling_from_small_phones_to_desktops(
    fake_discord: FakeDiscord, server: Server, settings, width: int, tmp_path: Path
) -> None:
    chromium_path()
    fake = fake_discord
    async with partage(fake, settings) as bot:
        await create_atelier(fake, server, titre="x" * 200, lieu="y" * 150)
        await settle(fake, bot)
        assert bot.web is not None
        async with chromium(width=width, height=800) as page:
            await page.goto(f"http://127.0.0.1:{bot.web.port}/")
            assert await page.evaluate(OVERFLOW) <= 0
            await page.screenshot(str(shots_dir(tmp_path) / f"agenda-unbroken-{width}.png"))
