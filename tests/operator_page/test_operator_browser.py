"""The operator page in a real browser (Debian's Chromium, driven by Playwright) against the
hiring example running under `raw up`: sign in, watch a CV become a process without
reloading, follow its timeline, retry a real dead letter and watch the process advance,
read deliveries and failed runs; axe-core on every view, on a laptop and on a phone.

Screenshots go to ``$RAW_ARTIFACTS_DIR/operator/`` when set, else to
``<pytest basetemp>/operator-screenshots/``, with ``axe-<view>.json`` beside them
(every violation axe reported, of any impact, and the rules it passed or could not
decide). Needs `chromium` (``apt-get install -y chromium``): without it these tests
skip, saying so, and with ``CI=true`` they fail.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
import pytest
from tests.examples.conftest import copy_hiring
from tests.examples.hiring_up import HiringUp, booking, candidate_id, cv

from .chromium import CHROMIUM_ARGS

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300), pytest.mark.xdist_group("operator")]

LAPTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
LIVE_WAIT_MS = 45_000


@pytest.fixture(scope="module")
def hiring(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> Iterator[HiringUp]:
    up = HiringUp(copy_hiring(tmp_path_factory.mktemp("operator") / "hiring"), fast_dispatcher=True)
    try:
        up.start()
        yield up
    finally:
        up.stop()


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def sign_in(context: BrowserContext, hiring: HiringUp) -> None:
    page = context.new_page()
    page.goto(f"{hiring.base}/operator/sign-in")
    page.get_by_label("API token").fill(hiring.token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{hiring.base}/operator")
    page.close()


@pytest.fixture(scope="module")
def laptop(browser: Browser, hiring: HiringUp) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport=LAPTOP)
    sign_in(context, hiring)
    yield context
    context.close()


@pytest.fixture(scope="module")
def phone(browser: Browser, hiring: HiringUp) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    sign_in(context, hiring)
    yield context
    context.close()


def check_axe(page: Page, name: str, folder: Path) -> None:
    """Run axe-core on the page: nothing serious or critical; everything reported is kept."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    violations: list[dict[str, Any]] = results.response["violations"]
    report = {
        "url": page.url,
        "violations": violations,
        "incomplete": {
            i["id"]: [n["target"] for n in i["nodes"]] for i in results.response["incomplete"]
        },
        "passes": sorted({p["id"] for p in results.response["passes"]}),
    }
    (folder / f"axe-{name}.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    assert "color-contrast" in [*report["passes"], *report["incomplete"]], "axe did not run"
    severe = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
    assert severe == [], f"{name}: " + "\n".join(severe)


def shoot(page: Page, name: str, folder: Path) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def no_secrets(page: Page, hiring: HiringUp) -> None:
    html = page.content()
    leaked = [s[:4] + "…" for s in hiring.secrets() if len(s) >= 6 and s in html]
    assert leaked == [], f"secrets on {page.url}: {leaked}"


def test_sign_in_refuses_a_wrong_token_then_opens_the_overview(
    browser: Browser, hiring: HiringUp, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport=PHONE, is_mobile=True)
    page = context.new_page()
    page.goto(f"{hiring.base}/operator/processes")
    assert page.url.startswith(f"{hiring.base}/operator/sign-in?next=")
    check_axe(page, "sign-in", screenshots)
    shoot(page, "sign-in-phone", screenshots)

    page.get_by_label("API token").fill("not-the-token-at-all-0000")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("That is not the API token")
    check_axe(page, "sign-in-refused", screenshots)

    page.get_by_label("API token").fill(hiring.token)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{hiring.base}/operator/processes")
    expect(page.get_by_role("heading", level=1)).to_have_text("Processes")
    cookie = next(c for c in context.cookies() if c["name"] == "raw_operator")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/operator"
    assert page.evaluate("document.cookie") == ""  # no script can read the session
    context.close()


def test_a_cv_through_the_webhook_appears_without_a_reload_and_its_timeline_tells_the_story(
    laptop: BrowserContext, phone: BrowserContext, hiring: HiringUp, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    page = laptop.new_page()
    page.goto(f"{hiring.base}/operator/processes?state=running")
    page.evaluate("window.__stillTheSamePage = true")
    answer = hiring.send("cv-submission", cv("ada@example.com", "Ada Lovelace"))
    pid = answer["response"]["target"]
    assert pid == f"hiring-process/{candidate_id('ada@example.com')}"

    live = page.locator("#live")
    row = live.get_by_role("row").filter(has_text=pid)
    expect(row).to_contain_text("calendar-booking", timeout=LIVE_WAIT_MS)
    expect(row).to_contain_text("awaiting-booking")
    assert page.evaluate("window.__stillTheSamePage") is True  # refreshed in place
    assert int(live.get_attribute("data-refreshes") or 0) >= 1
    check_axe(page, "processes", screenshots)
    shoot(page, "processes-laptop", screenshots)

    page.get_by_role("link", name=pid).click()
    page.wait_for_url(f"{hiring.base}/operator/processes/{quote(pid, safe='/')}")
    timeline = page.locator("ol.timeline")
    expect(timeline).to_contain_text("Webhook cv-submission", timeout=LIVE_WAIT_MS)
    expect(timeline).to_contain_text("RAW run analyze-cv", timeout=LIVE_WAIT_MS)
    expect(timeline).to_contain_text("Step awaiting-booking")
    expect(timeline).to_contain_text("Waits for 'calendar-booking'")
    expect(timeline).to_contain_text("Deadline:")
    expect(page.locator("dl.facts")).to_contain_text(
        candidate_id("ada@example.com") + " in candidates"
    )

    temporal = page.get_by_role("link", name="Open in the Temporal UI")
    href = temporal.get_attribute("href") or ""
    assert re.match(r"http://127\.0\.0\.1:\d+/namespaces/default/workflows/", href), href
    assert quote(pid, safe="") in href
    assert httpx.get(href, timeout=10).status_code == 200  # the dev server's UI answers it
    check_axe(page, "process-timeline", screenshots)
    shoot(page, "process-timeline-laptop", screenshots)
    no_secrets(page, hiring)

    page.locator("ol.timeline").get_by_role("link", name=re.compile("^Run ")).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Run ")
    expect(page.locator("main")).to_contain_text('"qualified": true')
    check_axe(page, "run", screenshots)
    shoot(page, "run-laptop", screenshots)

    small = phone.new_page()
    small.goto(f"{hiring.base}/operator/processes/{quote(pid, safe='/')}")
    expect(small.locator("ol.timeline")).to_contain_text("Step awaiting-booking")
    check_axe(small, "process-timeline-phone", screenshots)
    shoot(small, "process-timeline-phone", screenshots)
    assert small.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_a_dead_letter_is_retried_from_the_page_and_the_booking_advances_the_process(
    laptop: BrowserContext, hiring: HiringUp, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    email = "grace@example.com"
    pid = f"hiring-process/{candidate_id(email)}"
    start = datetime.now(UTC) + timedelta(days=2)
    # The booking arrives before the CV: its signal finds no process, twice, and is given up.
    hiring.send(
        "calendar-booking",
        booking(email, start.isoformat(), (start + timedelta(minutes=20)).isoformat()),
    )
    page = laptop.new_page()
    page.goto(f"{hiring.base}/operator/dead-letters")
    letter = page.locator("article").filter(has_text=pid)
    expect(letter).to_contain_text("No process", timeout=LIVE_WAIT_MS)
    expect(letter).to_contain_text("signal 'booked'")
    record = (letter.get_attribute("id") or "").removeprefix("dead-")
    check_axe(page, "dead-letters", screenshots)
    shoot(page, "dead-letters-laptop", screenshots)

    overview = laptop.new_page()
    overview.goto(f"{hiring.base}/operator")
    expect(overview.locator(".card-alert").first).to_contain_text("dead letter")
    overview.close()

    hiring.send("cv-submission", cv(email, "Grace Hopper"))
    story = laptop.new_page()
    story.goto(f"{hiring.base}/operator/processes/{quote(pid, safe='/')}")
    expect(story.locator("ol.timeline")).to_contain_text(
        "Step awaiting-booking", timeout=LIVE_WAIT_MS
    )

    retry = page.get_by_role("button", name=f"Retry dead letter {record} (calendar-booking)")
    retry.focus()
    page.keyboard.press("Enter")  # by keyboard, as an operator without a mouse would
    expect(page.get_by_role("status")).to_have_text(
        f"Dead letter {record} went back to the dispatcher."
    )
    expect(page.locator("article").filter(has_text=pid)).to_have_count(0)
    check_axe(page, "dead-letters-after-retry", screenshots)

    timeline = story.locator("ol.timeline")
    expect(timeline).to_contain_text("Step call-scheduled", timeout=LIVE_WAIT_MS)
    booked = timeline.get_by_role("listitem").filter(has_text="Webhook calendar-booking")
    expect(booked).to_contain_text("signal 'booked' went through")
    expect(story.locator("dl.facts")).to_contain_text("call-time")
    shoot(story, "process-advanced-laptop", screenshots)


def test_deliveries_and_failed_runs_show_what_happened_and_hide_secrets(
    laptop: BrowserContext, hiring: HiringUp, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    failed = hiring.raw("run", "generate-report", "--date", "not-a-date", "--json")
    assert failed.returncode != 0
    run_id = json.loads(failed.stdout)["run_id"]
    refused = httpx.post(
        f"{hiring.base}/webhooks/cv-submission",
        content=b"name=Mallory",
        headers={"content-type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert refused.status_code == 401
    hiring.send("cv-submission", cv("linus@example.com", "Linus"))

    page = laptop.new_page()
    page.goto(f"{hiring.base}/operator/runs")
    article = page.locator(f"#run-{run_id}")
    expect(article).to_contain_text("invalid input", timeout=LIVE_WAIT_MS)
    expect(article).to_contain_text("use 'today' or a date")
    article.get_by_text("Log (its end)").click()
    check_axe(page, "failed-runs", screenshots)
    shoot(page, "failed-runs-laptop", screenshots)

    page.goto(f"{hiring.base}/operator/deliveries")
    first = page.locator("article").first
    expect(first).to_contain_text("cv-submission")
    expect(first).to_contain_text("verified standard-webhooks")
    expect(first).to_contain_text("202 accepted")
    first.get_by_text("Body and answer").click()
    expect(first.locator("pre").first).to_contain_text("linus@example.com")
    refused_table = page.get_by_role("table", name=re.compile("Requests refused"))
    expect(refused_table).to_contain_text("bad signature")
    check_axe(page, "deliveries", screenshots)
    shoot(page, "deliveries-laptop", screenshots)
    no_secrets(page, hiring)

    page.goto(f"{hiring.base}/operator/outbox")  # what the SMTP catcher caught
    email = page.get_by_role("article").filter(has_text="linus@example.com").first
    expect(email).to_contain_text("Book your screening call", timeout=LIVE_WAIT_MS)
    email.get_by_text("Message").click()
    expect(email.locator("pre")).to_contain_text("Please book a 20-minute call")
    check_axe(page, "outbox", screenshots)
    shoot(page, "outbox-laptop", screenshots)
    no_secrets(page, hiring)


def test_overview_on_a_phone_and_by_keyboard(
    phone: BrowserContext, hiring: HiringUp, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    page = phone.new_page()
    page.goto(f"{hiring.base}/operator")
    expect(page.get_by_role("table", name=re.compile("candidates by status"))).to_be_visible()
    schedules = page.get_by_role("table", name=re.compile("next run and last result"))
    expect(schedules).to_contain_text("daily-report")
    expect(schedules).to_contain_text("0 18 * * *")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    check_axe(page, "overview-phone", screenshots)
    shoot(page, "overview-phone", screenshots)

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    toggle = page.get_by_role("button", name="Pause live refresh")
    toggle.click()
    expect(page.get_by_role("button", name="Resume live refresh")).to_have_attribute(
        "aria-pressed", "true"
    )
    for view in ("processes", "deliveries", "dead-letters", "runs"):
        page.goto(f"{hiring.base}/operator/{view}")
        check_axe(page, f"{view}-phone", screenshots)
        shoot(page, f"{view}-phone", screenshots)
    page.goto(f"{hiring.base}/operator/no-such-view")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    check_axe(page, "not-found", screenshots)


def test_overview_on_a_laptop_shows_a_schedules_last_result(
    laptop: BrowserContext, hiring: HiringUp, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    triggered = hiring.raw("schedules", "trigger", "daily-report")
    assert triggered.returncode == 0, triggered.stdout + triggered.stderr
    page = laptop.new_page()
    page.goto(f"{hiring.base}/operator")
    expect(page.get_by_role("heading", name="Processes by state")).to_be_visible()
    expect(page.get_by_role("link", name="Open the Temporal UI")).to_be_visible()
    schedules = page.get_by_role("table", name=re.compile("next run and last result"))
    row = schedules.get_by_role("row").filter(has_text="daily-report")
    expect(row).to_contain_text("completed", timeout=LIVE_WAIT_MS)  # its last result
    last = row.get_by_role("link", name="Timeline of the last run of daily-report")
    check_axe(page, "overview", screenshots)
    shoot(page, "overview-laptop", screenshots)
    no_secrets(page, hiring)

    last.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("raw-schedule-daily-report")
    expect(page.locator("ol.timeline")).to_contain_text("RAW run generate-report")
    expect(page.locator("ol.timeline")).to_contain_text("Ended: completed")


def test_system_view_draws_the_hiring_map_with_live_figures_on_a_laptop_and_a_phone(
    laptop: BrowserContext, phone: BrowserContext, hiring: HiringUp, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    hiring.send("cv-submission", cv("alan@example.com", "Alan Turing"))
    page = laptop.new_page()
    page.goto(f"{hiring.base}/operator/system")
    expect(page.get_by_role("heading", level=1)).to_have_text("System")
    drawing = page.locator("svg.system-map")
    for part in (
        "route:cv-submission",
        "route:calendar-booking",
        "route:call-status",
        "route:withdrawal",
        "schedule:daily-report",
        "workflow:analyze-cv",
        "integration:telephony",
        "entity:candidates",
    ):
        expect(drawing.locator(f'[data-node="{part}"]')).to_be_visible()
    process = drawing.locator('[data-node="process:HiringProcess"]')
    # The process waits for the calendar webhook: counted on the signal that route sends.
    expect(process).to_contain_text(
        re.compile(r"[1-9]\d* waiting for 'booked'"), timeout=LIVE_WAIT_MS
    )
    expect(process).to_contain_text(re.compile(r"[1-9]\d* running"))
    cv_route = drawing.locator('[data-node="route:cv-submission"]')
    expect(cv_route).to_contain_text(re.compile(r"deliveries/min \([1-9]\d* in 10 min\)"))
    check_axe(page, "system", screenshots)
    shoot(page, "system-laptop", screenshots)
    no_secrets(page, hiring)

    drawing.get_by_role("link", name="webhook route cv-submission").click()
    page.wait_for_url(f"{hiring.base}/operator/deliveries?route=cv-submission")
    expect(page.locator("article").first).to_contain_text("cv-submission")

    small = phone.new_page()
    small.goto(f"{hiring.base}/operator/system")
    expect(small.locator("svg.system-map")).to_be_visible()
    parts = small.get_by_role("heading", name="The parts, as a list")
    expect(parts).to_be_visible()
    expect(small.locator('.parts [data-node="process:HiringProcess"]')).to_contain_text(
        "waiting for 'booked'"
    )
    assert small.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    check_axe(small, "system-phone", screenshots)
    shoot(small, "system-phone", screenshots)

    # raw up's worker serves the Temporal SDK's metrics; they count the process's tasks.
    line = next(line for line in hiring.lines if "Worker metrics:" in line)
    found = re.search(r"http://127\.0\.0\.1:\d+/metrics", line)
    assert found is not None, line
    metrics = httpx.get(found.group(0), timeout=10).text
    assert "temporal_workflow_task_execution_latency_count{" in metrics
    assert 'workflow_type="HiringProcess"' in metrics
