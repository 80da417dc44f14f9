"""Sign-in through the sandbox IdP in a real browser: the cookies, redirects and POSTs Chromium really makes.

Each test runs against both of the IdP's attribute shapes (sandbox/idp_shapes.py): the company's (rhatUUID,
memberOf DNs) with the stack's web process, which has T5G's default SAML settings, and eduPerson's
(isMemberOf names, the persistent NameID) with a second web process whose only difference is its SAML settings.
"""

import re

import pytest
from playwright.sync_api import expect

from sandbox import idp_shapes
from tests.browser.conftest import TIMEOUT_MS, Watch


@pytest.fixture(params=idp_shapes.SHAPES)
def site(request, stack) -> str:
    """The URL of T5G reading the IdP in this shape; the sandbox's IdP speaks it for the test."""
    shape = request.param
    url = stack.url if shape == idp_shapes.DEFAULT else request.getfixturevalue("eduperson_web")
    stack.sandbox.idp_shape(shape)
    yield url
    stack.sandbox.idp_shape(idp_shapes.DEFAULT)


@pytest.fixture
def watch(site):
    return Watch(site)


@pytest.fixture
def context(chromium, site, watch):
    """A fresh browser profile on `site`; every page it opens is watched."""
    ctx = chromium.new_context(base_url=site)
    ctx.set_default_timeout(TIMEOUT_MS)
    ctx.on("page", watch.attach)
    yield ctx
    ctx.close()
    watch.check()


def sign_in_at_idp(page, username: str) -> None:
    """From /saml2/login/ to the IdP's form, and back with its signed answer."""
    page.goto("/saml2/login/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert "/idp/" in page.url, f"expected the IdP's form, got {page.url}"
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(username)
    page.get_by_role("button", name="Sign in").click()


def test_it_signs_a_member_in_through_the_idp_and_lands_on_home(page, site, watch):
    sign_in_at_idp(page, "member")

    page.wait_for_url(f"{site}/")
    expect(page.locator("header .user")).to_have_text("Mia Member")
    expect(page.get_by_role("heading", name=re.compile(r"opened in the last 7 days"))).to_be_visible()
    # The session is a real one: another page opens without going back to the IdP.
    response = page.goto("/stats/")
    assert response.status == 200 and page.url == f"{site}/stats/"
    watch.check()


@pytest.mark.parametrize("username", ["outsider", "leaver"])
def test_it_refuses_an_outsider_and_keeps_the_cases_out_of_reach(page, site, watch, username):
    refusals = []
    page.on("response", lambda r: r.url.startswith(f"{site}/saml2/acs/") and refusals.append(r.status))
    sign_in_at_idp(page, username)

    page.wait_for_load_state()
    assert refusals == [403], f"the ACS answered {refusals}"
    expect(page.get_by_role("heading", name="Sign-in refused")).to_be_visible()
    expect(page.locator("main")).to_contain_text("t5g-team")
    expect(page.locator("header .user")).to_have_count(0)

    # No session was made: the cases table sends the browser back to sign in.
    response = page.goto("/cases/")
    assert not page.url.startswith(f"{site}/cases/"), f"{username} reached {page.url} ({response.status})"
    watch.check()


def test_it_signs_out_of_t5g_and_the_idp(page, site, watch):
    sign_in_at_idp(page, "admin")
    page.wait_for_url(f"{site}/")

    page.get_by_role("button", name=re.compile("sign out", re.I)).click()

    page.wait_for_url(f"{site}/saml2/signed-out/")
    response = page.goto("/cases/")
    assert not page.url.startswith(f"{site}/cases/"), f"still signed in: {page.url} ({response.status})"
    watch.check()
