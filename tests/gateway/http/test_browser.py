"""A real browser (Debian's headless Chromium, driven by Selenium) on the office console.

It logs in as the office, keeps the declarations page open while an agent submits through
the API, sees the live feed announce the arrival and the answer without a reload, then
opens the declaration's page and the charts. Screenshots go to the test's tmp directory.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from edi_formats.codec import WireFormat, render_declaration
from gateway.demo import DEMO_PASSWORD
from gateway.node import Node
from tests.gateway.http.rig import client
from tests.gateway.pipeline.helpers import OFFICE, declaration
from tests.tools import needs

pytestmark = [pytest.mark.slow, needs("chromium"), needs("chromedriver")]

webdriver = pytest.importorskip("selenium.webdriver")

from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,1000",
)


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[webdriver.Chrome]:
    monkeypatch.setenv("SE_OFFLINE", "true")  # never let Selenium Manager go online
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    service = Service(executable_path=shutil.which("chromedriver") or "chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
    finally:
        driver.quit()


async def test_office_console_in_a_real_browser(
    rig: Node, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    base = f"http://127.0.0.1:{rig.port('http')}"
    shots = tmp_path / "screenshots"
    shots.mkdir()

    def log_in() -> None:
        browser.get(f"{base}/")
        browser.find_element(By.ID, "usuario").send_keys(OFFICE)
        browser.find_element(By.ID, "clave").send_keys(DEMO_PASSWORD)
        browser.find_element(By.ID, "ingresar").click()
        WebDriverWait(browser, 20).until(expected_conditions.url_contains("/declaraciones"))
        # The feed is subscribed once its stream is open: nothing submitted later is missed.
        WebDriverWait(browser, 20).until(
            expected_conditions.presence_of_element_located(
                (By.CSS_SELECTOR, "#feed[data-state=abierto]")
            )
        )
        browser.save_screenshot(str(shots / "1-declaraciones.png"))

    await asyncio.to_thread(log_in)
    marker = browser.execute_script("window.notReloaded = true; return window.notReloaded;")
    assert marker is True

    body = render_declaration(declaration(reference="NAVEGADOR-1"), WireFormat.JSON)
    async with client(rig) as agent:
        assert (await agent.post("/api/declarations", content=body)).status_code == 202
        state = (await agent.get("/api/declarations/NAVEGADOR-1", params={"wait": 20})).json()
    assert state["status"] == "accepted"

    def watch_feed() -> str:
        feed = (By.ID, "feed")
        WebDriverWait(browser, 20).until(
            expected_conditions.text_to_be_present_in_element(feed, "NAVEGADOR-1 ACEPTADA")
        )
        browser.save_screenshot(str(shots / "2-en-vivo.png"))
        text: str = browser.find_element(*feed).text
        return text

    feed = await asyncio.to_thread(watch_feed)
    assert "llegada: trabajo" in feed
    assert state["number"] in feed
    # The same page, never reloaded: the marker set before the submission is still there.
    assert browser.execute_script("return window.notReloaded === true;") is True

    def open_pages() -> tuple[str, int]:
        browser.get(f"{base}/declaraciones/{state['number']}")
        status = browser.find_element(By.ID, "estado").text
        browser.save_screenshot(str(shots / "3-declaracion.png"))
        browser.get(f"{base}/graficos")
        bars = len(browser.find_elements(By.CSS_SELECTOR, "svg#por-dia rect"))
        browser.save_screenshot(str(shots / "4-graficos.png"))
        return status, bars

    status, bars = await asyncio.to_thread(open_pages)
    assert status == "ACEPTADA"
    assert bars >= 1
    assert sorted(p.name for p in shots.iterdir()) == [
        "1-declaraciones.png",
        "2-en-vivo.png",
        "3-declaracion.png",
        "4-graficos.png",
    ]
