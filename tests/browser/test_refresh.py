"""Refresh now in a real browser: htmx posts, a Celery worker syncs every source, the widget polls to the end."""

import re

from playwright.sync_api import expect

from t5g.sync.registry import refreshed


def test_it_shows_the_progress_of_a_refresh_until_it_is_done(member_page, stack, watch):
    page = member_page
    polls = []
    page.on("response", lambda r: re.search(r"/refresh/\d+/", r.url) and polls.append(r))
    page.goto("/")
    widget = page.locator("#refresh .refresh")
    expect(widget).to_have_attribute("data-state", re.compile(r"idle|done|failed"))

    page.get_by_role("button", name="Refresh now").click()

    # The POST answers with the running widget at once, whatever the worker is doing.
    progress = page.locator("#refresh progress")
    expect(progress).to_be_visible()
    expect(widget).to_have_attribute("data-state", re.compile(r"queued|running"))
    # Then it polls every second until the worker has synced every source (the fragment drops the bar).
    expect(widget).to_have_attribute("data-state", "done", timeout=60_000)
    expect(progress).to_have_count(0)
    assert polls, "the widget never polled its refresh"
    assert all(r.status == 200 for r in polls)
    # The bar only ever moves forward, and the last answer is the finished widget.
    bodies = [r.text() for r in polls]
    values = [int(v) for body in bodies for v in re.findall(r'<progress max="100" value="(\d+)"', body)]
    assert values == sorted(values), values
    assert 'data-state="done"' in bodies[-1]

    # It ended under the user's eyes: every source's outcome is shown, open, and the page shows the new data in
    # place (t5g:refreshed), with no reload link to find.
    panel = widget.locator("details.last-refresh")
    expect(panel).to_have_attribute("open", "")
    lines = widget.locator(".refresh-summary li")
    expect(lines).to_have_count(len(refreshed()))
    # One line per source, in the order they ran, none failed.
    shown = {line.split(":", 1)[0]: line for line in lines.all_inner_texts()}
    assert list(shown) == [job.label for job in refreshed()]
    for label, line in shown.items():
        assert re.fullmatch(rf"{label}: \d+ new, \d+ updated( \(.*\))?", line.strip()), line
    expect(widget.get_by_role("link", name=re.compile("Reload"))).to_have_count(0)
    expect(page.locator("#live-note")).to_have_text(re.compile(r"updated \d\d:\d\d"))
    expect(widget.locator("summary")).to_have_text("Refreshed just now")
    watch.check()
