"""Sign-in through the sandbox IdP in a real browser: the cookies, redirects and POSTs Chromium really makes."""

import re

from playwright.sync_api import expect


def sign_in_at_idp(page, username: str) -> None:
    """From /saml2/login/ to the IdP's form, and back with its signed answer."""
    page.goto("/saml2/login/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert "/idp/" in page.url, f"expected the IdP's form, got {page.url}"
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(username)
    page.get_by_role("button", name="Sign in").click()


def test_it_signs_a_member_in_through_the_idp_and_lands_on_home(page, stack, watch):
    sign_in_at_idp(page, "member")

    page.wait_for_url(f"{stack.url}/")
    expect(page.locator("header .user")).to_have_text("Mia Member")
    expect(page.get_by_role("heading", name=re.compile(r"opened in the last 7 days"))).to_be_visible()
    # The session is a real one: another page opens without going back to the IdP.
    response = page.goto("/stats/")
    assert response.status == 200 and page.url == f"{stack.url}/stats/"
    watch.check()


def test_it_refuses_an_outsider_and_keeps_the_cases_out_of_reach(page, stack, watch):
    refusals = []
    page.on("response", lambda r: r.url.startswith(f"{stack.url}/saml2/acs/") and refusals.append(r.status))
    sign_in_at_idp(page, "outsider")

    page.wait_for_load_state()
    assert refusals == [403], f"the ACS answered {refusals}"
    expect(page.get_by_role("heading", name="Sign-in refused")).to_be_visible()
    expect(page.locator("main")).to_contain_text("t5g-team")
    expect(page.locator("header .user")).to_have_count(0)

    # No session was made: the cases table sends the browser back to sign in.
    response = page.goto("/cases/")
    assert not page.url.startswith(f"{stack.url}/cases/"), f"an outsider reached {page.url} ({response.status})"
    watch.check()
