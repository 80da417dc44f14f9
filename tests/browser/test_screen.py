"""The screens around the data in a real browser: the admin's pages without a console error (the periodic-task
form and the stats export's "Select all" work under the Content-Security-Policy), the favicon, T5G's 404 page and
the account index at a laptop's and a phone's width."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import signed_in_cookie

SIZES = {"laptop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
NO_SIDEWAYS_SCROLL = "() => document.scrollingElement.scrollWidth <= window.innerWidth"


class Console:
    """Every console error and failed request of our origin's pages, but those a test expects."""

    def __init__(self, page, origin: str):
        self.problems: list[str] = []
        self.expected: set[str] = set()
        page.on("console", lambda msg: msg.type == "error" and self._problem(page.url, f"console: {msg.text}"))
        page.on("requestfailed", lambda request: self._problem(request.url, f"failed: {request.url}"))
        page.on("response", lambda r: r.status >= 400 and self._problem(r.url, f"{r.status}: {r.url}"))
        self.origin = origin

    def _problem(self, url: str, text: str) -> None:
        if url.startswith(self.origin) and url not in self.expected:
            self.problems.append(text)

    def check(self) -> None:
        assert not self.problems, self.problems


@pytest.fixture
def staff_page(context, stack, django_db_blocker):
    from django.contrib.auth import get_user_model

    from t5g.sync.schedules import setup_schedules

    with django_db_blocker.unblock():
        cookie = signed_in_cookie("browser-staff")
        get_user_model().objects.filter(username="browser-staff").update(is_staff=True, is_superuser=True)
        setup_schedules()
    context.add_cookies([{**cookie, "url": stack.url}])
    return context.new_page()


def test_it_opens_the_admin_s_pages_without_a_console_error(staff_page, stack, orm):
    from django_celery_beat.models import PeriodicTask

    page = staff_page
    console = Console(page, stack.url)
    task = PeriodicTask.objects.get(name="stats_daily")
    for path in ("/admin/", "/admin/django_celery_beat/periodictask/", "/admin/t5g/syncrun/",
                 "/admin/django_celery_beat/periodictask/add/"):  # fmt: skip
        assert page.goto(path).status == 200, path
    expect(page.locator("#site-name")).to_have_text("T5G admin")

    # The periodic-task form: choosing a crontab shows it in words under the field (the script ran).
    page.goto(f"/admin/django_celery_beat/periodictask/{task.pk}/change/")
    crontab = page.locator("#id_crontab")
    expect(page.locator(".field-crontab .help")).to_contain_text("Translation:")
    crontab.select_option(index=0)  # "---------": no words
    expect(page.locator(".field-crontab .help")).not_to_contain_text("Translation:")

    # The stats export's "Select all" unticks and ticks every field.
    page.goto("/admin/stats/dailystats/export/")
    toggle = page.locator("input.select-toggle")
    fields = page.locator('.selectable-field-export-row input[type="checkbox"]')
    assert fields.count() > 5
    toggle.uncheck()
    assert fields.evaluate_all("boxes => boxes.filter(b => b.checked).length") == 0
    toggle.check()
    assert fields.evaluate_all("boxes => boxes.every(b => b.checked)")
    console.check()


def test_it_serves_the_favicon_every_page_names(member_page, stack):
    page = member_page
    page.goto("/")
    icon = page.locator('link[rel="icon"]').get_attribute("href")
    assert icon.endswith(".svg")
    response = page.request.get("/favicon.ico")  # what browsers ask for whatever the page says
    assert response.ok and response.headers["content-type"].startswith("image/svg+xml")
    assert page.request.get(icon).ok


@pytest.mark.parametrize("size", SIZES)
def test_it_shows_t5g_s_own_404_page(member_page, stack, size, tmp_path):
    page = member_page
    page.set_viewport_size(SIZES[size])
    console = Console(page, stack.url)
    console.expected.add(f"{stack.url}/no/such/page/")

    response = page.goto("/no/such/page/")

    assert response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.locator("header .user")).to_be_visible()  # in T5G's frame, signed in
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    page.screenshot(path=tmp_path / f"404-{size}.png")
    # The 404 itself is logged by Chromium as "Failed to load resource": nothing else may be.
    assert [p for p in console.problems if "Failed to load resource" not in p] == []


@pytest.mark.parametrize("size", SIZES)
def test_it_filters_the_account_index_and_fits_the_screen(member_page, stack, size):
    page = member_page
    page.set_viewport_size(SIZES[size])
    console = Console(page, stack.url)
    page.goto("/accounts/")
    rows = page.locator(".index-table tbody tr")
    everyone = rows.count()
    assert everyone > 1
    assert page.evaluate(NO_SIDEWAYS_SCROLL)

    first = rows.first.locator("th a").inner_text()
    with page.expect_request("**/accounts/?q=*") as typed:
        page.get_by_label("Account name contains").fill(first)  # the list follows the typing
    page.wait_for_url("**/accounts/?q=*")
    expect(rows).not_to_have_count(everyone)
    assert 1 <= rows.count() < everyone and typed.value.headers.get("hx-request") == "true"
    sent = []
    page.on("request", lambda request: "/accounts/?q=" in request.url and sent.append(request.url))
    page.get_by_label("Account name contains").press("Enter")
    page.wait_for_timeout(1000)  # longer than the typing delay: a second request would be out by now
    assert len(sent) == 1, sent  # one request, nothing aborted (the console check below)
    rows.first.locator("th a").click()
    expect(page.get_by_role("heading", name=f"Account: {first}")).to_be_visible()
    console.check()
