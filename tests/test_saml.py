"""SAML sign-in against the real sandbox IdP, with T5G under Django's test client.

The `idp` fixture runs each test against both of the IdP's attribute shapes (sandbox/idp_shapes.py): the
company's (rhatUUID, memberOf DNs, plain names) and eduPerson's (isMemberOf names, urn:oid names, the
persistent NameID as the id), T5G reading each with the settings `sandbox.environment` gives for it.
"""

import base64
import os
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import pytest
import requests
from django.contrib.auth import get_user_model
from django.test import Client
from saml2.xmldsig import SIG_RSA_SHA256

from sandbox import environment, idp_shapes
from tests.processes import BASE_DIR, free_port
from tests.saml import (
    ACS,
    NS,
    edited,
    idp_response,
    open_idp_login,
    parse,
    register_sp,
    set_groups,
    set_name_id,
    sign_in,
    strip_signatures,
)

User = get_user_model()
pytestmark = pytest.mark.django_db
MD = "{urn:oasis:names:tc:SAML:2.0:metadata}"


@pytest.fixture(params=idp_shapes.SHAPES)
def idp(request, settings, sandbox, client):
    """T5G at http://testserver signing in against the sandbox IdP, which knows our metadata, in each shape."""
    sandbox.idp_shape(request.param)
    settings.SITE_URL = "http://testserver"
    for name, value in environment(sandbox.url, idp_shape=request.param).items():
        if name.startswith("SAML_"):  # only settings change between the shapes
            setattr(settings, name, value)
    settings.SAML_IDP_METADATA_FILE = ""
    settings.LOGIN_URL = "saml2_login"  # what settings.py picks when an IdP is configured
    settings.LOCAL_LOGIN = False
    register_sp(client, sandbox)
    yield sandbox
    sandbox.idp_shape(idp_shapes.DEFAULT)


only_company = pytest.mark.parametrize("idp", [idp_shapes.COMPANY], indirect=True)
only_eduperson = pytest.mark.parametrize("idp", [idp_shapes.EDUPERSON], indirect=True)


def signed_in(client):
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def assert_refused(response, client, text="Sign-in refused"):
    assert response.status_code == 403
    assert text in response.content.decode()
    assert signed_in(client) is None
    assert "sessionid" not in response.cookies or not response.cookies["sessionid"].value


# --- signing in --------------------------------------------------------------------------------------------------
def test_it_signs_in_a_member_and_keeps_their_attributes(idp, client):
    response = sign_in(client, "member")

    assert response.status_code == 302
    assert response["Location"] == "/"
    user = signed_in(client)
    assert (user.username, user.email, user.first_name, user.last_name) == (
        "member",
        "member@example.com",
        "Mia",
        "Member",
    )
    assert not user.is_staff and not user.is_superuser
    assert not user.has_usable_password()
    assert user.profile.groups == ["t5g-team"]
    assert user.profile.saml_attributes["uid"] == ["member"]
    assert user.profile.saml_attributes["givenName"] == ["Mia"]
    assert client.get("/").status_code == 200


def test_it_makes_an_admin_group_member_staff_and_superuser(idp, client):
    sign_in(client, "admin")

    user = signed_in(client)
    assert user.is_staff and user.is_superuser
    assert user.profile.groups == ["t5g-team", "t5g-admins"]
    assert client.get("/admin/").status_code == 200


def test_it_refuses_someone_outside_the_member_group(idp, client):
    response = sign_in(client, "outsider")

    assert_refused(response, client, "Your account is not in the group <code>t5g-team</code>")
    assert not User.objects.filter(username="outsider").exists()
    assert "saml_session" not in client.cookies or not client.cookies["saml_session"].value
    assert client.get("/")["Location"].startswith("/saml2/login/")


@pytest.mark.parametrize("group", ["t5g", "t5g-team-old", "xt5g-team", "T5G-TEAM"])
def test_it_admits_only_an_exact_group_name(idp, client, settings, group):
    settings.SAML_MEMBER_GROUPS = [group]  # the member is in "t5g-team" only

    assert_refused(sign_in(client, "member"), client, f"not in the group <code>{group}</code>")


def test_it_updates_the_user_from_their_attributes_at_every_sign_in(idp, client):
    sign_in(client, "member")
    user = signed_in(client)
    # As if the IdP had said otherwise last time, and the member had been an admin then.
    User.objects.filter(pk=user.pk).update(
        first_name="Old", last_name="Name", email="old@example.com", is_staff=True, is_superuser=True
    )
    user.profile.groups = ["t5g-team", "t5g-admins"]
    user.profile.saml_attributes = {"uid": ["member"], "givenName": ["Old"]}
    user.profile.save()
    client.logout()

    sign_in(client, "member")

    user.refresh_from_db()
    assert signed_in(client) == user
    assert (user.first_name, user.last_name, user.email) == ("Mia", "Member", "member@example.com")
    assert not user.is_staff and not user.is_superuser
    user.profile.refresh_from_db()
    assert user.profile.groups == ["t5g-team"]
    assert user.profile.saml_attributes["givenName"] == ["Mia"]
    assert User.objects.filter(username="member").count() == 1


def test_it_refuses_an_existing_user_who_left_the_group(idp, client, settings):
    sign_in(client, "member")
    client.logout()
    settings.SAML_MEMBER_GROUPS = ["t5g-admins"]  # the member's group no longer admits them

    assert_refused(sign_in(client, "member"), client, "not in the group <code>t5g-admins</code>")


def test_it_sends_a_signed_authn_request_and_a_secure_cross_site_cookie(idp, client):
    response = client.get("/saml2/login/")

    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{idp.url}/idp/sso/redirect"
    query = parse_qs(location.query)
    assert query["SigAlg"] == [SIG_RSA_SHA256] and query["Signature"]
    cookie = response.cookies["saml_session"]
    # The IdP's answer comes back by a cross-site POST: only a SameSite=None cookie goes with it,
    # and Chromium keeps SameSite=None cookies only when they are Secure.
    assert cookie["samesite"] == "None"
    assert cookie["secure"]
    assert cookie["httponly"]


def test_it_publishes_its_metadata_to_anyone(idp, client):
    response = client.get("/saml2/metadata/")

    assert response.status_code == 200
    root = ElementTree.fromstring(response.content)
    assert root.get("entityID") == "http://testserver/saml2/metadata/"
    sp = root.find(f"{MD}SPSSODescriptor")
    assert sp.get("AuthnRequestsSigned") == "true"
    assert sp.get("WantAssertionsSigned") == "true"
    acs = [(a.get("Binding"), a.get("Location")) for a in sp.findall(f"{MD}AssertionConsumerService")]
    assert acs == [("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST", ACS)]


# --- where sign-in leads -------------------------------------------------------------------------------------
def test_it_sends_an_anonymous_visitor_to_sign_in_and_back(idp, client):
    page = client.get("/cases/?view=all")
    assert page.status_code == 302
    assert page["Location"] == "/saml2/login/?next=/cases/%3Fview%3Dall"

    response = sign_in(client, "member", next_url="/cases/?view=all")

    assert response.status_code == 302
    assert response["Location"] == "/cases/?view=all"


@pytest.mark.parametrize("next_url", ["https://evil.example/steal", "//evil.example/steal"])
def test_it_refuses_a_next_url_on_another_host(idp, client, next_url):
    response = sign_in(client, "member", next_url=next_url)

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert signed_in(client).username == "member"


def test_it_refuses_a_relay_state_changed_to_another_host(idp, client):
    fields = idp_response(client, "member", next_url="/stats/")

    response = client.post("/saml2/acs/", {**fields, "RelayState": "https://evil.example/"})

    assert response["Location"] == "/"


def test_it_admits_no_one_to_pages_while_signed_out(idp, client):
    for url in ("/", "/cases/", "/stats/", "/weekly/", "/updates/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"/saml2/login/?next={url}", url
    # The admin sends to its own login first, which sends on to single sign-on.
    assert client.get("/admin/")["Location"] == "/admin/login/?next=/admin/"
    assert client.get("/admin/login/?next=/admin/")["Location"] == "/saml2/login/?next=/admin/"


def test_it_sends_the_admin_login_to_single_sign_on(idp, client, django_user_model):
    response = client.get("/admin/login/?next=/admin/t5g/")
    assert response["Location"] == "/saml2/login/?next=/admin/t5g/"

    client.force_login(django_user_model.objects.create_user("nonstaff"))
    refused = client.get("/admin/login/?next=/admin/")
    assert refused.status_code == 403  # not back to sign-in, which would loop
    assert "t5g-admins" in refused.content.decode()


# --- signing out ---------------------------------------------------------------------------------------------
def test_it_signs_out_of_the_idp_too_after_a_saml_sign_in(idp, client):
    sign_in(client, "member")

    response = client.post("/logout/")

    assert signed_in(client) is None
    location = urlsplit(response["Location"])
    assert response.status_code == 302
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{idp.url}/idp/slo/redirect"
    assert parse_qs(location.query)["SigAlg"] == [SIG_RSA_SHA256]
    at_idp = requests.get(response["Location"], allow_redirects=False, timeout=30)
    assert at_idp.status_code in (302, 303), at_idp.text
    back = urlsplit(at_idp.headers["Location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == "http://testserver/saml2/ls/"
    done = client.get(back.path, parse_qs(back.query))
    assert done.status_code == 302
    assert done["Location"] == "/saml2/signed-out/"
    assert "signed out" in client.get(done["Location"]).content.decode()
    assert client.get("/").status_code == 302


def test_it_signs_out_locally_a_session_that_did_not_come_from_saml(idp, client, django_user_model):
    client.force_login(django_user_model.objects.create_user("local", is_staff=True))

    response = client.post("/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/saml2/signed-out/"
    assert signed_in(client) is None


def test_it_signs_out_locally_when_the_idp_cannot_be_reached(idp, client, settings):
    sign_in(client, "member")
    settings.SAML_IDP_METADATA_URL = f"http://127.0.0.1:{free_port()}/idp/metadata/"

    response = client.post("/logout/")

    assert response["Location"] == "/saml2/signed-out/"
    assert signed_in(client) is None


def test_it_signs_out_only_by_post(idp, client):
    sign_in(client, "member")

    assert client.get("/logout/").status_code == 405
    assert signed_in(client) is not None


# --- attacks: each is refused and signs no one in ------------------------------------------------------------------
def test_it_refuses_an_unsigned_response(idp, client):
    fields = idp_response(client, "member")

    assert_refused(client.post("/saml2/acs/", edited(fields, strip_signatures)), client)


def test_it_refuses_a_response_whose_name_id_was_changed(idp, client):
    fields = idp_response(client, "member")

    assert_refused(client.post("/saml2/acs/", edited(fields, set_name_id("admin"))), client)


def test_it_refuses_a_response_whose_groups_were_changed(idp, client):
    fields = idp_response(client, "outsider")

    forged = edited(fields, set_groups("t5g-team", "t5g-admins"))

    assert_refused(client.post("/saml2/acs/", forged), client)
    assert not User.objects.filter(username="outsider").exists()


def test_it_refuses_a_response_replayed_in_the_same_session(idp, client):
    fields = idp_response(client, "member")
    assert client.post("/saml2/acs/", fields).status_code == 302
    client.logout()

    assert_refused(client.post("/saml2/acs/", fields), client)


def test_it_refuses_a_response_replayed_in_another_session(idp, client):
    fields = idp_response(client, "member")
    assert client.post("/saml2/acs/", fields).status_code == 302

    fresh = Client()
    assert_refused(fresh.post("/saml2/acs/", fields), fresh)
    # Nor in a session that has a sign-in of its own outstanding: the response answers another request.
    open_idp_login(fresh)
    assert_refused(fresh.post("/saml2/acs/", fields), fresh)


def test_it_refuses_an_expired_response(idp, client):
    fields = idp_response(client, "member", fault="expired")
    conditions = parse(fields).find(".//saml:Conditions", NS)
    assert conditions.get("NotOnOrAfter") < conditions.get("NotBefore")  # the sandbox did as asked

    assert_refused(client.post("/saml2/acs/", fields), client)


def test_it_refuses_a_response_for_another_audience(idp, client):
    fields = idp_response(client, "member", fault="audience")
    assert parse(fields).find(".//saml:Audience", NS).text != "http://testserver/saml2/metadata/"

    assert_refused(client.post("/saml2/acs/", fields), client)


def test_it_refuses_an_unsolicited_response(idp, client):
    fields = idp_response(client, "member", fault="unsolicited")
    assert parse(fields).get("InResponseTo") is None  # IdP-initiated: answers no request

    assert_refused(client.post("/saml2/acs/", fields), client)
    fresh = Client()
    assert_refused(fresh.post("/saml2/acs/", fields), fresh)


def test_it_refuses_a_post_without_a_response(idp, client):
    response = client.post("/saml2/acs/", {"RelayState": "/"})

    assert response.status_code == 400
    assert signed_in(client) is None


def test_it_logs_neither_assertions_nor_attributes(idp, client, caplog):
    forged = edited(idp_response(client, "outsider"), set_groups("t5g-team"))
    assert client.post("/saml2/acs/", forged).status_code == 403
    fields = idp_response(client, "outsider")
    assert client.post("/saml2/acs/", fields).status_code == 403
    assert sign_in(client, "member").status_code == 302

    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "Sign-in refused: the account is not in the group t5g-team" in logged
    for secret in ("Otto", "Outsider", "outsider@example.com", "Mia", "member@example.com", "Assertion", "NameID"):
        assert secret not in logged
    for text in (fields["SAMLResponse"][:40], base64.b64decode(fields["SAMLResponse"])[:60].decode()):
        assert text not in logged


# --- configuration ------------------------------------------------------------------------------------------------
def test_it_says_so_when_the_idp_is_unreachable(idp, client, settings):
    settings.SAML_IDP_METADATA_URL = f"http://127.0.0.1:{free_port()}/idp/metadata/"

    response = client.get("/saml2/login/")

    assert response.status_code == 503
    assert "identity provider cannot be reached" in response.content.decode()
    assert client.get("/saml2/metadata/").status_code == 200  # the IdP may still fetch ours


def test_it_explains_when_saml_is_not_configured(client, settings):
    settings.SAML_IDP_METADATA_URL = settings.SAML_IDP_METADATA_FILE = ""
    settings.LOGIN_URL = "saml_not_configured"
    settings.LOCAL_LOGIN = False

    assert client.get("/")["Location"].startswith("/saml2/not-configured/?next=/")
    page = client.get("/saml2/not-configured/")
    assert page.status_code == 200
    assert "SAML_IDP_METADATA_URL" in page.content.decode()
    assert client.get("/saml2/login/").status_code == 503


@pytest.mark.parametrize(
    "env, login_url",
    [
        (environment("http://127.0.0.1:8800"), "saml2_login http://127.0.0.1:8800/idp/metadata/"),
        ({"SAML_IDP_METADATA_URL": "https://idp.example/metadata"}, "saml2_login https://idp.example/metadata"),
        ({}, "saml_not_configured "),
        ({"LOCAL_LOGIN": "true"}, "login "),
    ],
)
def test_it_picks_the_login_url_from_what_is_configured(env, login_url):
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith("SAML_") and k not in ("LOCAL_LOGIN", "DATABASE_URL")
    }
    script = "from django.conf import settings as s; print(s.LOGIN_URL, s.SAML_IDP_METADATA_URL)"
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {script}"],
        cwd=BASE_DIR,
        env={**clean, "DJANGO_SETTINGS_MODULE": "t5g.settings", "SECRET_KEY": "x", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert out.strip() == login_url.strip()


# --- the break-glass local login -----------------------------------------------------------------------------------
def test_it_has_no_local_login_unless_enabled(idp, client, django_user_model):
    django_user_model.objects.create_user("root", password="a-long-password", is_staff=True)

    assert client.get("/login/").status_code == 404
    assert client.post("/login/", {"username": "root", "password": "a-long-password"}).status_code == 404
    assert signed_in(client) is None


def test_it_lets_only_staff_use_the_local_login(idp, client, settings, django_user_model):
    settings.LOCAL_LOGIN = True
    django_user_model.objects.create_user("root", password="a-long-password", is_staff=True)
    django_user_model.objects.create_user("plain", password="a-long-password")

    refused = client.post("/login/", {"username": "plain", "password": "a-long-password"})
    assert refused.status_code == 200
    assert "enter a correct username and password" in refused.content.decode()
    assert signed_in(client) is None

    assert client.get("/login/").status_code == 200
    response = client.post("/login/", {"username": "root", "password": "a-long-password", "next": "/stats/"})
    assert response.status_code == 302
    assert response["Location"] == "/stats/"
    assert signed_in(client).username == "root"


# --- issue 14: reproductions ---------------------------------------------------------------------------------------
def test_it_never_signs_a_saml_user_in_to_a_local_account_of_the_same_name(idp, client, settings, django_user_model):
    # The break-glass account, as `manage.py createsuperuser` makes it.
    local = django_user_model.objects.create_superuser("member", "root@example.com", "a-long-password")

    response = sign_in(client, "member")

    assert response.status_code == 302
    user = signed_in(client)
    assert user.pk != local.pk
    assert not user.has_usable_password()
    assert not user.is_staff and not user.is_superuser
    local.refresh_from_db()
    assert local.is_superuser and local.is_staff and local.check_password("a-long-password")
    settings.LOCAL_LOGIN = True
    break_glass = Client()
    assert break_glass.post("/login/", {"username": "member", "password": "a-long-password"}).status_code == 302
    assert signed_in(break_glass).pk == local.pk


def test_it_refuses_a_saml_sign_in_to_an_account_that_was_given_a_password(idp, client):
    sign_in(client, "member")
    user = signed_in(client)
    client.logout()
    user.set_password("a-long-password")
    user.save()

    assert_refused(sign_in(client, "member"), client)


def test_it_ends_a_removed_members_access_at_their_refused_sign_in(idp, client, settings):
    from api.auth import new_key
    from api.models import ApiToken

    sign_in(client, "member")
    user = signed_in(client)
    key, key_hash, prefix = new_key()
    ApiToken.objects.create(user=user, name="report script", key_hash=key_hash, prefix=prefix)
    script = Client()
    assert script.get("/api/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    settings.SAML_MEMBER_GROUPS = ["t5g-admins"]  # the member left the team

    elsewhere = Client()
    assert_refused(sign_in(elsewhere, "member"), elsewhere)

    assert script.get("/api/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code in (401, 403)
    assert client.get("/").status_code == 302  # their other session ended too
    user.refresh_from_db()
    assert not user.is_active
    assert not ApiToken.objects.filter(user=user).exists()


def forged_logout_request(idp_entity_id: str, name_id: str) -> str:
    """An unsigned LogoutRequest, as anyone can make one, deflated and encoded for HTTP-Redirect."""
    from saml2.s_utils import deflate_and_base64_encode
    from saml2.saml import NAMEID_FORMAT_TRANSIENT, Issuer, NameID
    from saml2.samlp import LogoutRequest
    from saml2.time_util import instant

    request = LogoutRequest(
        id="_forged",
        version="2.0",
        issue_instant=instant(),
        destination="http://testserver/saml2/ls/",
        issuer=Issuer(text=idp_entity_id),
        name_id=NameID(format=NAMEID_FORMAT_TRANSIENT, text=name_id),
    )
    return deflate_and_base64_encode(str(request)).decode()


def test_it_ignores_an_unsigned_logout_request_for_another_name_id(idp, client):
    sign_in(client, "member")
    forged = forged_logout_request(f"{idp.url}/idp/metadata/", "someone-else")

    response = client.get("/saml2/ls/", {"SAMLRequest": forged, "RelayState": ""})

    assert response.status_code == 400
    assert signed_in(client) is not None


def test_it_refuses_idp_metadata_over_http_without_a_pinned_certificate(tmp_path):
    from tests.test_settings import run_check

    result = run_check(SAML_IDP_METADATA_URL="http://idp.example/metadata")

    assert result.returncode != 0
    assert "SAML_IDP_METADATA_URL:" in result.stderr


def test_it_refuses_an_idp_whose_signing_key_is_not_the_pinned_one(idp, client, settings, tmp_path):
    from t5g.saml import write_key_pair

    write_key_pair(key_file=tmp_path / "other.key", cert_file=tmp_path / "other.crt", common_name="not-the-idp")
    settings.SAML_IDP_CERT_FILE = str(tmp_path / "other.crt")

    response = client.get("/saml2/login/")

    assert response.status_code == 503
    assert signed_in(client) is None
