"""The read-only JSON API: every endpoint, who may call it (session, token, nobody), paging and filters."""

import hashlib
import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from api.models import ApiToken
from bugs.models import Bug, Issue
from cards.models import CardComment
from cases.models import CaseComment, Detail
from escalations.models import Escalation
from t5g.cache import bump
from t5g.models import Profile, SyncRun
from tests.factories import bearer, make_card, make_case, make_daily_stats, token_for

pytestmark = pytest.mark.django_db

ENDPOINTS = ["/api/", "/api/cases/", "/api/cases/01000001/", "/api/cards/", "/api/bugs/", "/api/issues/",
             "/api/escalations/", "/api/stats/", "/api/freshness/"]  # fmt: skip
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


@pytest.fixture
def world():
    now = timezone.now()
    a = make_case("01000001", severity=1, summary="Pods restart", product_version="4.18")
    card = make_card(a, assignee="Ada", contributors=["Cy"])
    CardComment.objects.create(id="j1", card=card, author="Ada", body="looking", created_at=now - timedelta(hours=1))
    CaseComment.objects.create(id="p1", case=a, author="Cust", body="still broken", created_at=now)
    Detail.objects.create(case=a, crit_sit=True, group_name="Telco", relief_at=now)
    Bug.objects.create(id=2000001, summary="kernel panic", status="NEW", upstream_updated_at=now).cases.add(a)
    Issue.objects.create(key="OCPBUGS-1", summary="crash", fix_versions=["4.19"], upstream_updated_at=now).cases.add(a)
    Escalation.objects.create(case=a, type="prio_list", escalated_at=now, link="https://issues.example.com/P-1")
    b = make_case("01000002", severity=3, account="Globex", summary="Slow disk")
    make_card(b, assignee="Bob", status="Backlog")
    Escalation.objects.create(case=b, type="crit_sit", escalated_at=now - timedelta(days=1))
    make_case("01000003", severity=2, status="Closed", closed_at=now, summary="Done thing")
    today = now.date()
    for n in range(5):
        make_daily_stats(today - timedelta(days=n), open_cases=10 - n)
    make_daily_stats(today, "account:Acme Telco", open_cases=1)
    return {"today": today}


# --- who may call ---------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ENDPOINTS)
def test_it_asks_anonymous_callers_for_a_bearer_token(url):
    response = Client().get(url)
    assert response.status_code == 401  # not the site's redirect to sign in
    assert response["Content-Type"] == "application/json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in response.json()["error"]


@pytest.mark.parametrize("url", ENDPOINTS)
def test_it_answers_a_signed_in_user_and_a_token_alike(url, world, user, session):
    by_session = session.get(url)
    by_token = Client().get(url, **bearer(token_for(user)))
    assert by_session.status_code == by_token.status_code == 200
    assert by_session.json() == by_token.json()
    assert "no-store" in by_token["Cache-Control"] and "Authorization" in by_token["Vary"]


@pytest.mark.parametrize("header", ["Bearer not-a-key", "Bearer ", "Basic c2NyaXB0OnB3", "Token abc"])
def test_it_refuses_a_bad_credential(header, user):
    token_for(user)
    response = Client().get("/api/cases/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_it_stores_only_the_key_s_hash_and_records_its_use_once_a_minute(user, django_assert_num_queries):
    key = token_for(user)
    token = ApiToken.objects.get()
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest() and key not in (token.key_hash, token.prefix)
    assert key.startswith(token.prefix) and len(token.prefix) == 8
    client = Client()
    assert client.get("/api/freshness/", **bearer(key)).status_code == 200
    first = ApiToken.objects.get().last_used_at
    assert first is not None
    with django_assert_num_queries(2):  # the token and the freshness: no write within the minute
        assert client.get("/api/freshness/", **bearer(key)).status_code == 200
    assert ApiToken.objects.get().last_used_at == first
    ApiToken.objects.update(last_used_at=first - timedelta(minutes=2))
    client.get("/api/freshness/", **bearer(key))
    assert ApiToken.objects.get().last_used_at > first


def test_it_forbids_a_user_who_is_not_active(user, session):
    key = token_for(user)
    user.is_active = False
    user.save()
    by_token = Client().get("/api/cases/", **bearer(key))
    assert by_token.status_code == 403
    assert by_token.json() == {"error": "The user of this API key is not active.", "status": 403}
    by_session = session.get("/api/cases/")
    assert by_session.status_code == 403 and by_session.json() == {"error": "This user is not active.", "status": 403}


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_it_is_read_only(method, user):
    # A browser session with CSRF checks on: the answer is still 405, not a CSRF refusal.
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    for url in ["/api/", "/api/cases/", "/api/cases/01000001/", "/api/stats/"]:
        for response in (getattr(client, method)(url), getattr(Client(), method)(url, **bearer(token_for(user)))):
            assert response.status_code == 405, url
            assert response["Allow"] == "GET, HEAD"
            assert "read-only" in response.json()["error"]


# --- endpoints ------------------------------------------------------------------------------------


def test_it_lists_its_endpoints(session):
    body = session.get("/api/").json()
    assert body["endpoints"]["cases"] == "http://testserver/api/cases/"
    assert set(body["endpoints"]) == {"cases", "cards", "bugs", "issues", "escalations", "stats", "freshness"}
    for url in body["endpoints"].values():
        assert session.get(url).status_code == 200, url


def test_it_lists_open_cases_with_their_card_and_flags(session, world):
    body = session.get("/api/cases/").json()
    assert body["count"] == 2 and body["page"] == 1 and body["per"] == 100
    first = body["results"][0]
    assert first["number"] == "01000001" and first["severity"] == {"value": 1, "label": "Urgent"}
    assert first["card"]["key"] == "T5G-01000001" and first["card"]["assignee"] == "Ada"
    assert first["card"]["contributors"] == ["Cy"]
    assert first["prio"] == "yes" and first["crit_sit"] is True
    assert first["api_url"] == "/api/cases/01000001/"
    for name in ("created_at", "updated_at", "synced_at"):
        assert ISO.match(first[name]), (name, first[name])


@pytest.mark.parametrize(
    ("params", "numbers"),
    [
        ({"view": "all"}, ["01000001", "01000003", "01000002"]),
        ({"account": "Globex"}, ["01000002"]),
        ({"assignee": "Ada"}, ["01000001"]),
        ({"severity": ["1", "3"]}, ["01000001", "01000002"]),
        ({"view": "all", "severity": "2"}, ["01000003"]),
        ({"q": "slow"}, ["01000002"]),
        ({"escalated": "yes"}, ["01000001", "01000002"]),
        ({"prio": "yes"}, ["01000001"]),
    ],
)
def test_it_filters_cases_as_the_table_does(session, world, params, numbers):
    body = session.get("/api/cases/", params).json()
    assert [row["number"] for row in body["results"]] == numbers
    assert body["count"] == len(numbers)


def test_it_refuses_a_bad_filter(session, world):
    response = session.get("/api/cases/", {"severity": "9", "view": "everything"})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "Some filters are not valid." and len(body["details"]) == 2


def test_it_pages(session):
    for i in range(12):
        make_case(f"0200{i:04d}", created_at=timezone.now() - timedelta(hours=i))
    body = session.get("/api/cases/", {"per": 5, "page": 3, "sort": "case"}).json()
    assert (body["count"], body["page"], body["per"]) == (12, 3, 5)
    assert [r["number"] for r in body["results"]] == ["02000010", "02000011"]
    assert session.get("/api/cases/", {"per": 5, "page": 4}).json()["results"] == []
    assert session.get("/api/cases/", {"per": 10000}).json()["per"] == 500
    for bad in ({"page": "0"}, {"page": "two"}, {"per": "-1"}):
        response = session.get("/api/cases/", bad)
        assert response.status_code == 400 and response.json()["error"].startswith(next(iter(bad)))


def test_it_pages_in_a_bounded_number_of_queries(session, django_assert_max_num_queries):
    for i in range(40):
        case = make_case(f"0300{i:04d}")
        make_card(case)
        Bug.objects.create(id=6000000 + i).cases.add(case)
    # The session and user, then the count, the page and the page's linked cases.
    with django_assert_max_num_queries(4):
        assert len(session.get("/api/cases/", {"per": 40}).json()["results"]) == 40
    with django_assert_max_num_queries(5):
        assert len(session.get("/api/bugs/", {"per": 40}).json()["results"]) == 40
    with django_assert_max_num_queries(4):
        assert len(session.get("/api/cards/", {"per": 40}).json()["results"]) == 40


LISTS = ["/api/cases/", "/api/cards/", "/api/bugs/", "/api/issues/", "/api/escalations/", "/api/stats/"]


def test_it_serves_a_repeated_list_call_from_the_cache_once_the_caller_is_checked(
    world, user, session, django_assert_num_queries
):
    key = token_for(user)
    by_token = Client()
    by_token.get("/api/", **bearer(key))  # the token's use is now recorded: no write in the minute after
    first = {url: session.get(url).json() for url in LISTS}
    for url in LISTS:
        with django_assert_num_queries(2):  # the session and the user: no read of the list's data
            assert session.get(url).json() == first[url], url
        with django_assert_num_queries(1):  # the token
            assert by_token.get(url, **bearer(key)).json() == first[url], url
        assert Client().get(url).status_code == 401, url
        assert Client().get(url, **bearer("not-a-key")).status_code == 401, url
    user.is_active = False
    user.save()
    assert by_token.get("/api/cases/", **bearer(key)).status_code == 403


def test_it_shares_a_cached_list_between_equal_queries_until_a_sync_bumps_it(session, world, django_assert_num_queries):
    assert session.get("/api/cases/", {"severity": ["3", "1"], "per": "50"}).json()["count"] == 2
    with django_assert_num_queries(2):  # the same query, written another way
        assert session.get("/api/cases/?per=50&severity=1&severity=3").json()["count"] == 2
    make_case("01000009", severity=1)
    assert session.get("/api/cases/", {"severity": ["1", "3"], "per": "50"}).json()["count"] == 2
    assert session.get("/api/cases/", {"severity": ["1", "3"], "per": "50", "page": "2"}).json()["count"] == 3
    bump("cases")
    assert session.get("/api/cases/", {"severity": ["1", "3"], "per": "50"}).json()["count"] == 3
    # A refused query is answered each time, never cached.
    for _ in range(2):
        assert session.get("/api/escalations/", {"type": "bogus"}).status_code == 400
        assert session.get("/api/cases/", {"page": "0"}).status_code == 400


def test_it_returns_a_case_with_everything_linked_to_it(session, world):
    body = session.get("/api/cases/01000001/").json()
    assert body["number"] == "01000001" and body["product_version"] == "4.18"
    assert body["url"] == "https://access.redhat.com/support/cases/#/case/01000001"
    assert body["detail"]["crit_sit"] is True and body["detail"]["group_name"] == "Telco"
    assert ISO.match(body["detail"]["relief_at"])
    assert body["card"]["key"] == "T5G-01000001" and body["card"]["status"] == "Debugging"
    assert [c["body"] for c in body["card"]["comments"]] == ["looking"]
    assert [b["id"] for b in body["bugs"]] == [2000001] and body["bugs"][0]["summary"] == "kernel panic"
    assert [i["key"] for i in body["issues"]] == ["OCPBUGS-1"] and body["issues"][0]["fix_versions"] == ["4.19"]
    assert body["escalation"]["type"] == "prio_list" and body["escalation"]["link"] == "https://issues.example.com/P-1"
    assert [c["body"] for c in body["comments"]] == ["still broken"] and body["comments"][0]["public"] is True


def test_it_answers_404_for_an_unknown_case(session):
    response = session.get("/api/cases/99999999/")
    assert response.status_code == 404 and response.json() == {"error": "No case '99999999'.", "status": 404}


def test_it_lists_cards_with_filters(session, world):
    keys = lambda **params: [c["key"] for c in session.get("/api/cards/", params).json()["results"]]  # noqa: E731
    assert sorted(keys()) == ["T5G-01000001", "T5G-01000002"]
    assert keys(assignee="Bob") == ["T5G-01000002"]
    assert keys(status="Debugging") == ["T5G-01000001"]
    assert keys(case="01000002") == ["T5G-01000002"]
    assert keys(q="01000001") == ["T5G-01000001"]


def test_it_lists_bugs_and_issues_with_their_cases(session, world):
    bugs = session.get("/api/bugs/").json()
    assert bugs["count"] == 1 and bugs["results"][0]["cases"] == ["01000001"]
    assert session.get("/api/bugs/", {"case": "01000002"}).json()["count"] == 0
    issues = session.get("/api/issues/").json()
    assert issues["results"][0]["key"] == "OCPBUGS-1" and issues["results"][0]["cases"] == ["01000001"]


def test_it_lists_live_escalations(session, world):
    Escalation.objects.create(case=make_case("01000004"), type="potential", removed_at=timezone.now())
    body = session.get("/api/escalations/").json()
    assert [(e["case"], e["type"]) for e in body["results"]] == [("01000001", "prio_list"), ("01000002", "crit_sit")]
    assert session.get("/api/escalations/", {"type": "crit_sit"}).json()["count"] == 1
    assert session.get("/api/escalations/", {"include_removed": "yes"}).json()["count"] == 3
    assert session.get("/api/escalations/", {"type": "bogus"}).status_code == 400


def test_it_returns_the_stats_history_between_two_dates(session, world):
    today = world["today"]
    body = session.get("/api/stats/").json()
    assert body["scope"] == "all" and body["count"] == 5
    assert [r["metrics"]["open_cases"] for r in body["results"]] == [6, 7, 8, 9, 10]  # oldest first
    start, end = (today - timedelta(days=3)).isoformat(), (today - timedelta(days=2)).isoformat()
    body = session.get("/api/stats/", {"start": start, "end": end}).json()
    assert [r["date"] for r in body["results"]] == [start, end] and (body["start"], body["end"]) == (start, end)
    scoped = session.get("/api/stats/", {"scope": "account:Acme Telco"}).json()
    assert [r["metrics"]["open_cases"] for r in scoped["results"]] == [1]
    assert session.get("/api/stats/", {"start": "last week"}).status_code == 400
    assert session.get("/api/stats/", {"start": end, "end": start}).status_code == 400


def test_it_returns_the_freshness_of_each_source(session):
    SyncRun.objects.create(source="cases", trigger="schedule", outcome="success", finished_at=timezone.now())
    body = session.get("/api/freshness/").json()
    cases = next(r for r in body["results"] if r["source"] == "cases")
    assert cases["failing"] is False and cases["stale"] is False and ISO.match(cases["last_success"])
    cards = next(r for r in body["results"] if r["source"] == "cards")
    assert cards["last_success"] is None and cards["stale"] is True


def test_an_admin_makes_a_token_whose_key_is_shown_once(admin_client, admin_user):
    Profile.objects.create(user=admin_user, member_signed_in_at=timezone.now())
    response = admin_client.post(
        "/admin/api/apitoken/add/", {"user": admin_user.pk, "name": "nightly report"}, follow=True
    )
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    # Shown in this response, not carried to the next page in the (signed, readable) messages cookie.
    assert "messages" not in response.cookies or not response.cookies["messages"].value
    assert "no-store" in response["Cache-Control"]
    key = re.search(r"is (\S+) — copy it now", " ".join(messages)).group(1)
    token = ApiToken.objects.get()
    assert token.name == "nightly report" and token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert token.prefix == key[:8] and len(key) >= 40
    assert Client().get("/api/cases/", **bearer(key)).status_code == 200
    # Never shown again: not on the token's page, nor in the list.
    for url in (f"/admin/api/apitoken/{token.pk}/change/", "/admin/api/apitoken/"):
        page = admin_client.get(url).content.decode()
        assert key not in page and token.prefix in page


def test_a_staff_member_makes_tokens_for_themselves_only(admin_user):
    from django.contrib.auth.models import Permission

    staff = get_user_model().objects.create_user("staff", "staff@example.com", "pw", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__endswith="_apitoken"))
    token_for(admin_user)
    client = Client()
    client.force_login(staff)
    client.post("/admin/api/apitoken/add/", {"user": admin_user.pk, "name": "mine"})
    assert ApiToken.objects.get(name="mine").user == staff
    assert "mine" in (page := client.get("/admin/api/apitoken/").content.decode()) and "report script" not in page


# --- when a key stops working ------------------------------------------------------------------------------------


def test_it_refuses_an_expired_key(user):
    key = token_for(user, expires_at=timezone.now() - timedelta(minutes=1))
    response = Client().get("/api/cases/", **bearer(key))
    assert response.status_code == 401 and 'error="invalid_token"' in response["WWW-Authenticate"]
    assert response.json()["error"].startswith("This API key expired on ")
    assert Client().get("/api/cases/", **bearer(token_for(user))).status_code == 200


def test_it_gives_a_new_key_api_token_days_to_live_and_the_admin_another(admin_client, admin_user, settings):
    settings.API_TOKEN_DAYS = 90
    admin_client.post("/admin/api/apitoken/add/", {"user": admin_user.pk, "name": "default"})
    lifetime = ApiToken.objects.get(name="default").expires_at - timezone.now()
    assert timedelta(days=89, hours=23) < lifetime <= timedelta(days=90)
    later = {"expires_at_0": "2031-01-02", "expires_at_1": "03:04:05"}
    admin_client.post("/admin/api/apitoken/add/", {"user": admin_user.pk, "name": "short", **later})
    assert f"{ApiToken.objects.get(name='short').expires_at:%Y-%m-%d %H:%M}" == "2031-01-02 03:04"


def test_it_refuses_a_key_whose_user_has_not_signed_in_as_a_member_lately(user, settings):
    settings.API_TOKEN_MEMBER_WITHIN_DAYS = 30
    key = token_for(user)
    Profile.objects.filter(user=user).update(member_signed_in_at=timezone.now() - timedelta(days=31))
    response = Client().get("/api/cases/", **bearer(key))
    assert response.status_code == 403
    assert "has not signed in to T5G as a team member in 30 days" in response.json()["error"]
    # Never signed in through SAML at all (a local account, or one the IdP never vouched for).
    Profile.objects.filter(user=user).delete()
    assert Client().get("/api/cases/", **bearer(key)).status_code == 403
    settings.API_TOKEN_MEMBER_WITHIN_DAYS = 0  # not checked, e.g. without SAML
    assert Client().get("/api/cases/", **bearer(key)).status_code == 200


@pytest.fixture
def idp(settings, sandbox, client):
    """T5G at http://testserver signing in against the sandbox IdP (as in tests/test_saml.py)."""
    from sandbox import environment
    from tests.saml import register_sp

    settings.SITE_URL = "http://testserver"
    settings.SAML_IDP_METADATA_URL = environment(sandbox.url)["SAML_IDP_METADATA_URL"]
    settings.SAML_IDP_METADATA_FILE = ""
    settings.LOGIN_URL = "saml2_login"
    register_sp(client, sandbox)
    return sandbox


def test_a_saml_sign_in_as_a_member_makes_a_lapsed_key_work_again(idp, client, settings):
    from tests.saml import sign_in

    settings.API_TOKEN_MEMBER_WITHIN_DAYS = 30
    assert sign_in(client, "member").status_code == 302
    member = get_user_model().objects.get(pk=client.session["_auth_user_id"])
    assert timezone.now() - member.profile.member_signed_in_at < timedelta(minutes=1)
    key = token_for(member)
    assert Client().get("/api/cases/", **bearer(key)).status_code == 200
    Profile.objects.filter(user=member).update(member_signed_in_at=timezone.now() - timedelta(days=31))
    assert Client().get("/api/cases/", **bearer(key)).status_code == 403
    client.post("/logout/")
    assert sign_in(client, "member").status_code == 302
    assert Client().get("/api/cases/", **bearer(key)).status_code == 200


def test_the_revoke_tokens_command_revokes_every_key_of_a_user(user):
    from django.core.management import CommandError, call_command

    keys = [token_for(user), token_for(user)]
    other = token_for(get_user_model().objects.create_user("other"))
    with pytest.raises(CommandError, match="no such user: nobody"):
        call_command("revoke_tokens", "script", "nobody")
    assert Client().get("/api/cases/", **bearer(keys[0])).status_code == 200  # a typo revokes nothing
    out = io.StringIO()
    call_command("revoke_tokens", "script", stdout=out)
    assert out.getvalue().strip() == "Revoked 2 token(s) of script."
    for key in keys:
        response = Client().get("/api/cases/", **bearer(key))
        assert response.status_code == 401 and response.json() == {"error": "This API key was revoked.", "status": 401}
    assert Client().get("/api/cases/", **bearer(other)).status_code == 200
    assert ApiToken.objects.filter(revoked_at__isnull=False).count() == 2  # kept, with their last use


def test_an_admin_revokes_every_key_of_a_user(admin_client, user):
    keys = [token_for(user), token_for(user)]
    other_user = get_user_model().objects.create_user("other")
    other = token_for(other_user)
    response = admin_client.post("/admin/auth/user/", {"action": "revoke_users_tokens", "_selected_action": [user.pk]})
    assert response.status_code == 302
    assert [Client().get("/api/cases/", **bearer(k)).status_code for k in keys] == [401, 401]
    assert Client().get("/api/cases/", **bearer(other)).status_code == 200
    # From the token list: every token of the users of the selected tokens.
    more = token_for(other_user)
    selected = ApiToken.objects.filter(user=other_user).first()
    action = {"action": "revoke_all_of_their_users", "_selected_action": [selected.pk]}
    admin_client.post("/admin/api/apitoken/", action)
    assert [Client().get("/api/cases/", **bearer(k)).status_code for k in (other, more)] == [401, 401]
    page = admin_client.get("/admin/api/apitoken/").content.decode()
    assert page.count(">revoked<") == 4 and "Last used at" in page  # each token's state and last use, listed
