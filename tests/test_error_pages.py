"""T5G's own error pages (400, 403, 404, 500) and JSON errors under /api/, the favicon, and the admin's
answer to a signed-in member without staff rights."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import path

from t5g import urls as t5g_urls

pytestmark = pytest.mark.django_db


def boom(request):
    raise RuntimeError("secret-looking detail that must not reach the page")


def forbidden(request):
    raise PermissionDenied


def suspicious(request):
    raise SuspiciousOperation("bad")


def only_get(request):
    return HttpResponse("ok") if request.method == "GET" else HttpResponse(status=405, headers={"Allow": "GET"})


# The real urls with a few failing views added, under the site and under /api/.
urlpatterns = [
    path("boom/", boom),
    path("forbidden/", forbidden),
    path("suspicious/", suspicious),
    path("api/boom/", boom),
    path("api/forbidden/", forbidden),
    path("api/only-get/", only_get),
    *t5g_urls.urlpatterns,
]
handler400, handler403 = t5g_urls.handler400, t5g_urls.handler403
handler404, handler500 = t5g_urls.handler404, t5g_urls.handler500


@pytest.fixture
def member():
    client = Client(raise_request_exception=False)
    client.force_login(get_user_model().objects.create_user("member", "member@example.com", "pw"))
    return client


def test_it_answers_an_unknown_page_with_t5g_s_404(member):
    response = member.get("/no/such/page/")

    assert response.status_code == 404
    page = response.content.decode()
    assert "Page not found" in page and "/no/such/page/" in page
    assert 'class="brand"' in page and "Sign out" in page  # T5G's look: the nav of every page
    assert "URLconf" not in page  # not Django's page listing every pattern


@override_settings(ROOT_URLCONF=__name__)
def test_it_answers_403_400_and_500_with_t5g_s_pages(member):
    assert "Not allowed" in member.get("/forbidden/").content.decode()
    assert member.get("/suspicious/").status_code == 400
    response = member.get("/boom/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page and response["X-Request-ID"] in page
    assert "secret-looking" not in page and "Traceback" not in page


def test_it_renders_the_500_page_without_the_database(member, django_assert_num_queries):
    from t5g.errors import server_error

    request = member.get("/").wsgi_request
    with django_assert_num_queries(0):
        response = server_error(request)
    assert response.status_code == 500 and b"Something went wrong" in response.content


def api_error(response, status: int) -> dict:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert body["status"] == status and body["error"]
    return body


@override_settings(ROOT_URLCONF=__name__)
def test_it_answers_json_errors_under_the_api(member):
    api_error(member.get("/api/no-such-thing/"), 404)
    api_error(member.get("/api/forbidden/"), 403)
    api_error(member.get("/api/boom/"), 500)
    response = member.post("/api/only-get/")
    api_error(response, 405)
    assert response["Allow"] == "GET"


@override_settings(ROOT_URLCONF=__name__, DEBUG=True)
def test_it_answers_json_under_the_api_even_with_debug_on(member):
    api_error(member.get("/api/no-such-thing/"), 404)


def test_it_still_adds_the_slash_to_an_api_address(member):
    # (/api/cases without its slash is the old dashboard's address: compat/ sends it to /api/v0/cases.)
    response = member.get("/api/freshness")
    assert response.status_code == 301 and response["Location"] == "/api/freshness/"


def test_it_serves_a_favicon_to_everyone():
    response = Client().get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith(".svg")
    assert "favicon" in response["Location"]


def test_it_links_the_favicon_from_every_page(member):
    assert 'rel="icon" href="/static/t5g/favicon.' in member.get("/no/such/page/").content.decode()


def test_it_tells_a_member_without_staff_rights_whom_to_ask_for_the_admin(member):
    get_user_model().objects.create_user("boss", first_name="Bea", last_name="Boss", is_staff=True)

    response = member.get("/admin/", follow=True)

    assert response.status_code == 403
    page = response.content.decode()
    assert "staff rights" in page and "Bea Boss" in page
    assert "Sign-in refused" not in page


def test_it_shows_the_admin_link_to_staff_only(member):
    assert 'href="/admin/"' not in member.get("/no/such/page/").content.decode()
    staff = Client()
    staff.force_login(get_user_model().objects.create_user("boss", is_staff=True))
    assert 'href="/admin/"' in staff.get("/no/such/page/").content.decode()


def test_it_explains_an_expired_form_with_t5g_s_page():
    client = Client(enforce_csrf_checks=True)
    client.force_login(get_user_model().objects.create_user("member"))

    response = client.post("/refresh/")

    assert response.status_code == 403
    page = response.content.decode()
    assert "This form has expired" in page and "Nothing was changed" in page and "Sign out" in page
