"""SAML sign-in against the real sandbox IdP, with T5G under Django's test client.

The `idp` fixture runs each test against both of the IdP's attribute shapes (sandbox/idp_shapes.py): the
company's (rhatUUID, memberOf DNs, plain names) and eduPerson's (isMemberOf names, urn:oid names, the
persistent NameID as the id), T5G reading each with the settings `sandbox.environment` gives for it.
"""

import base64
import os
import subprocess
import sys
import textwrap
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django.utils import timezone
from saml2.ident import decode as saml_decode
from saml2.s_utils import deflate_and_base64_encode
from saml2.saml import NAMEID_FORMAT_TRANSIENT, Issuer, NameID
from saml2.samlp import LogoutRequest
from saml2.time_util import instant
from saml2.xmldsig import SIG_RSA_SHA256

from api.auth import new_key
from api.models import ApiToken
from sandbox import environment, idp_shapes
from t5g.models import Profile
from t5g.saml.config import write_key_pair
from t5g.saml.groups import group_matches
from tests.processes import BASE_DIR, free_port
from tests.saml import (
    ACS,
    NS,
    SITE,
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
from tests.test_settings import run_check

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


# --- who is who: bound to the IdP's id, never to an account by name ------------------------------------------------
def test_it_never_signs_a_saml_user_in_to_a_local_account_of_the_same_name(idp, client, settings, django_user_model):
    # The break-glass account, as `manage.py createsuperuser` makes it.
    local = django_user_model.objects.create_superuser("member", "root@example.com", "a-long-password")

    response = sign_in(client, "member")

    assert response.status_code == 302
    user = signed_in(client)
    assert user.pk != local.pk
    assert user.username == "member+saml"  # the name was taken: the IdP user gets another
    assert not user.has_usable_password()
    assert not user.is_staff and not user.is_superuser
    local.refresh_from_db()
    assert local.is_superuser and local.is_staff and local.check_password("a-long-password")
    assert not Profile.objects.filter(user=local).exists()
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
    user.refresh_from_db()
    assert user.check_password("a-long-password")  # untouched


def test_it_finds_a_user_by_their_idp_id_whatever_their_user_name(idp, client, django_user_model):
    sign_in(client, "member")
    user = signed_in(client)
    assert user.profile.saml_subject
    client.logout()
    django_user_model.objects.filter(pk=user.pk).update(username="renamed")
    stranger = django_user_model.objects.create_user("member")  # has the IdP user's name now, but not their id

    sign_in(client, "member")

    assert signed_in(client).pk == user.pk
    assert not Profile.objects.filter(user=stranger).exists()
    assert django_user_model.objects.filter(profile__isnull=False).count() == 1


def test_it_binds_an_account_an_earlier_saml_sign_in_made_at_its_next_sign_in(idp, client, django_user_model):
    # What the T5G that found users by user name left: no password, a profile, no IdP id.
    earlier = django_user_model.objects.create_user("member")
    Profile.objects.create(user=earlier, groups=["t5g-team"], saml_attributes={"uid": ["member"]})

    sign_in(client, "member")

    assert signed_in(client).pk == earlier.pk
    earlier.profile.refresh_from_db()
    assert earlier.profile.saml_subject
    assert django_user_model.objects.count() == 1


def test_it_binds_no_account_that_never_signed_in_through_saml(idp, client, django_user_model):
    never = django_user_model.objects.create_user("member")  # no password, but no SAML sign-in either

    sign_in(client, "member")

    assert signed_in(client).pk != never.pk
    assert not Profile.objects.filter(user=never).exists()


@only_eduperson
def test_it_refuses_an_answer_without_the_id_it_binds_users_to(idp, client, settings, django_user_model):
    settings.SAML_ATTRIBUTE_ID = "rhatUUID"  # which this shape does not send

    assert_refused(sign_in(client, "member"), client)
    assert not django_user_model.objects.exists()


@only_eduperson
def test_it_asks_for_a_persistent_name_id_when_that_is_the_id(idp, client):
    from saml2.s_utils import decode_base64_and_inflate
    from saml2.samlp import authn_request_from_string

    query = parse_qs(urlsplit(client.get("/saml2/login/")["Location"]).query)
    request = authn_request_from_string(decode_base64_and_inflate(query["SAMLRequest"][0]))

    assert request.name_id_policy.format == "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
    assert request.name_id_policy.allow_create == "true"


# --- groups --------------------------------------------------------------------------------------------------------
def test_it_refuses_a_former_member_whose_groups_only_contain_the_name(idp, client, django_user_model):
    # The leaver is in t5g-team-old and xt5g-team (company: cn=t5g-team-old,... and cn=alumni,ou=t5g-team,...).
    assert_refused(sign_in(client, "leaver"), client, "not in the group <code>t5g-team</code>")
    assert not django_user_model.objects.exists()


def test_it_admits_members_of_any_of_several_groups(idp, client, settings):
    settings.SAML_MEMBER_GROUPS = ["t5g-leads", "other-team"]
    settings.SAML_ADMIN_GROUPS = ["t5g-leads", "other-team"]

    assert sign_in(client, "outsider").status_code == 302

    user = signed_in(client)
    assert user.username == "outsider" and user.is_staff
    client.logout()
    settings.SAML_MEMBER_GROUPS = ["t5g-leads", "t5g-admins"]
    response = sign_in(client, "member")
    assert_refused(response, client, "not in any of the groups <code>t5g-leads</code>, <code>t5g-admins</code>")


@only_company
@pytest.mark.parametrize(
    "group, admitted",
    [
        ("cn=t5g-team,ou=groups,dc=example,dc=com", True),
        ("CN=t5g-team, OU=groups, DC=example, DC=com", True),  # the same DN, written otherwise
        ("cn=t5g-team,ou=elsewhere,dc=example,dc=com", False),
        ("ou=groups,dc=example,dc=com", False),
    ],
)
def test_it_admits_a_group_given_as_a_whole_dn_only_at_that_dn(idp, client, settings, group, admitted):
    settings.SAML_MEMBER_GROUPS = [group]

    response = sign_in(client, "member")

    assert response.status_code == (302 if admitted else 403)


@pytest.mark.parametrize(
    "value, group, matches",
    [
        ("t5g-team", "t5g-team", True),
        ("cn=t5g-team,ou=groups,dc=example,dc=com", "t5g-team", True),
        ("CN=t5g-team, OU=Groups, DC=example", "t5g-team", True),
        ("commonName=t5g-team,dc=example", "t5g-team", True),
        ("cn=t5g\\2Dteam,ou=groups", "t5g-team", True),  # an escaped "-"
        ("cn=t5g-team-old,ou=groups,dc=example,dc=com", "t5g-team", False),
        ("cn=alumni,ou=t5g-team,dc=example,dc=com", "t5g-team", False),
        ("cn=T5G-TEAM,ou=groups", "t5g-team", False),
        ("cn=t5g-team+uid=x,ou=groups", "t5g-team", False),
        ("uid=t5g-team,ou=groups", "t5g-team", False),
        ("cn=x\\,cn=t5g-team,ou=groups", "t5g-team", False),  # one cn, "x,cn=t5g-team"
        ("xt5g-team", "t5g-team", False),
        ("t5g-team ", "t5g-team", False),
        ("cn=t5g-team,", "t5g-team", False),  # not a DN
        ("cn=t5g-team,ou=groups,dc=example", "cn=t5g-team,ou=groups,dc=example", True),
        ("cn=t5g-team,ou=groups,dc=example", "CN=t5g-team,OU=groups,DC=example", True),
        ("cn=t5g-team,ou=other,dc=example", "cn=t5g-team,ou=groups,dc=example", False),
        ("t5g-team", "cn=t5g-team,ou=groups,dc=example", False),
    ],
)
def test_it_matches_a_group_exactly_or_as_the_cn_of_a_dn(value, group, matches):
    assert group_matches(value, group) is matches


def settings_in_subprocess(expression: str, **env: str) -> str:
    """`expression` evaluated with T5G's settings read from `env` (and nothing of this shell's SAML)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SAML_") and k != "DATABASE_URL"}
    script = f"from django.conf import settings as s; print({expression})"
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {script}"],
        cwd=BASE_DIR,
        env={**clean, "DJANGO_SETTINGS_MODULE": "t5g.settings", "SECRET_KEY": "x", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()


@pytest.mark.parametrize(
    "env, groups",
    [
        ({}, "['t5g-team'] ['t5g-admins']"),
        ({"SAML_MEMBER_GROUPS": "t5g-team, t5g-leads", "SAML_ADMIN_GROUPS": "t5g-leads"},
         "['t5g-team', 't5g-leads'] ['t5g-leads']"),
        ({"SAML_MEMBER_GROUPS": "cn=t5g-team,ou=groups,dc=example;t5g-leads"},
         "['cn=t5g-team,ou=groups,dc=example', 't5g-leads'] ['t5g-admins']"),
        # The older single-group settings, still read: one group, which may be a DN.
        ({"SAML_MEMBER_GROUP": "cn=t5g-team,ou=groups,dc=example", "SAML_ADMIN_GROUP": "admins"},
         "['cn=t5g-team,ou=groups,dc=example'] ['admins']"),
    ],
)  # fmt: skip
def test_it_reads_several_groups_or_one_in_the_older_setting(env, groups):
    assert settings_in_subprocess("s.SAML_MEMBER_GROUPS, s.SAML_ADMIN_GROUPS", **env) == groups


def test_it_refuses_both_the_group_setting_and_its_older_form():
    result = run_check(SAML_MEMBER_GROUPS="t5g-team", SAML_MEMBER_GROUP="t5g-team")

    assert result.returncode != 0
    assert "SAML_MEMBER_GROUP: set SAML_MEMBER_GROUPS or the older SAML_MEMBER_GROUP, not both" in result.stderr


# --- access ends with membership -------------------------------------------------------------------------------------
def test_it_ends_a_removed_members_access_at_their_refused_sign_in(idp, client, settings):
    sign_in(client, "member")
    user = signed_in(client)
    key = api_key_for(user)
    script = Client()
    assert script.get("/api/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    settings.SAML_MEMBER_GROUPS = ["t5g-admins"]  # the member left the team

    elsewhere = Client()
    assert_refused(sign_in(elsewhere, "member"), elsewhere)

    assert script.get("/api/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code in (401, 403)
    assert client.get("/").status_code == 302  # their other session ended too
    user.refresh_from_db()
    assert not user.is_active
    assert not ApiToken.objects.filter(user=user, revoked_at__isnull=True).exists()  # revoked, still listed


def test_it_lets_a_member_back_in_after_they_rejoin(idp, client, settings):
    sign_in(client, "member")
    user = signed_in(client)
    client.logout()
    settings.SAML_MEMBER_GROUPS = ["t5g-admins"]
    assert_refused(sign_in(client, "member"), client)
    settings.SAML_MEMBER_GROUPS = ["t5g-team"]  # back in the team

    assert sign_in(client, "member").status_code == 302

    assert signed_in(client).pk == user.pk
    user.refresh_from_db()
    assert user.is_active
    assert user.profile.membership_ended_at is None


def test_it_keeps_out_a_user_an_administrator_made_inactive(idp, client, django_user_model):
    sign_in(client, "member")
    user = signed_in(client)
    client.logout()
    django_user_model.objects.filter(pk=user.pk).update(is_active=False)

    assert_refused(sign_in(client, "member"), client)
    user.refresh_from_db()
    assert not user.is_active


def test_it_leaves_the_tokens_of_members_and_of_refused_strangers_alone(idp, client, django_user_model):
    stranger = django_user_model.objects.create_user("outsider")
    # A local user whose key works: one who signed in as a member lately (api/auth.py).
    Profile.objects.create(user=stranger, member_signed_in_at=timezone.now())
    key = api_key_for(stranger)

    assert_refused(sign_in(client, "outsider"), client)  # an outsider who never signed in: no user of theirs
    assert sign_in(Client(), "member").status_code == 302

    stranger.refresh_from_db()
    assert stranger.is_active
    assert Client().get("/api/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200


def api_key_for(user) -> str:
    key, key_hash, prefix = new_key()
    ApiToken.objects.create(user=user, name="report script", key_hash=key_hash, prefix=prefix)
    return key


# --- single logout: only what the IdP signed, only for this session's user -------------------------------------------
def session_name_id(client):
    """The NameID the IdP gave this session's sign-in, as djangosaml2 keeps it."""
    return saml_decode(SessionStore(session_key=client.cookies["saml_session"].value)["_saml2_subject_id"])


def forged_logout_request(idp_entity_id: str, name_id: NameID) -> str:
    """An unsigned LogoutRequest, as anyone can make one, deflated and encoded for HTTP-Redirect."""
    request = LogoutRequest(
        id="_forged",
        version="2.0",
        issue_instant=instant(),
        destination=f"{SITE}/saml2/ls/",
        issuer=Issuer(text=idp_entity_id),
        name_id=name_id,
    )
    return deflate_and_base64_encode(str(request)).decode()


def idp_logout_requests(idp, uid: str) -> list[str]:
    """The signed LogoutRequests the IdP sends to T5G when `uid` signs out there (tests/test_sandbox_idp.py)."""
    answer = requests.post(f"{idp.url}/idp/_logout", json={"uid": uid, "sp": f"{SITE}/saml2/metadata/"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["logout_requests"]


def follow(client, url: str):
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{SITE}/saml2/ls/"
    return client.get(parts.path, {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()})


def test_it_ignores_an_unsigned_logout_request_for_another_name_id(idp, client):
    sign_in(client, "member")
    forged = forged_logout_request(f"{idp.url}/idp/metadata/", NameID(format=NAMEID_FORMAT_TRANSIENT, text="other"))

    response = client.get("/saml2/ls/", {"SAMLRequest": forged, "RelayState": ""})

    assert response.status_code == 400
    assert "Sign-out refused" in response.content.decode()
    assert signed_in(client) is not None


def test_it_ignores_an_unsigned_logout_request_even_for_the_users_own_name_id(idp, client):
    sign_in(client, "member")
    forged = forged_logout_request(f"{idp.url}/idp/metadata/", session_name_id(client))

    response = client.get("/saml2/ls/", {"SAMLRequest": forged})

    assert response.status_code == 400
    assert signed_in(client) is not None


def test_it_ignores_a_logout_request_whose_signature_was_not_the_idps(idp, client):
    sign_in(client, "member")
    name_id = session_name_id(client)
    (url,) = [u for u in idp_logout_requests(idp, "member") if name_id.text in logout_request_name_ids(u)]
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["Signature"] = base64.b64encode(b"x" * 256).decode()

    assert client.get(parts.path, query).status_code == 400
    assert signed_in(client) is not None


def logout_request_name_ids(url: str) -> str:
    from saml2.s_utils import decode_base64_and_inflate

    return decode_base64_and_inflate(parse_qs(urlsplit(url).query)["SAMLRequest"][0]).decode()


def test_it_signs_out_on_a_logout_request_the_idp_signed_for_the_sessions_user(idp, client):
    sign_in(client, "admin")
    other = Client()
    sign_in(other, "member")
    name_id = session_name_id(client)
    urls = idp_logout_requests(idp, "admin")
    (ours,) = [u for u in urls if name_id.text in logout_request_name_ids(u)]

    # Sent to the member's browser, the admin's sign-out signs no one out there.
    refused = follow(other, ours)
    assert signed_in(other) is not None
    assert refused.status_code == 302 and refused["Location"].startswith(f"{idp.url}/idp/slo/redirect?")

    response = follow(client, ours)

    assert signed_in(client) is None
    assert response.status_code == 302
    answer = urlsplit(response["Location"])
    assert f"{answer.scheme}://{answer.netloc}{answer.path}" == f"{idp.url}/idp/slo/redirect"
    assert "SAMLResponse" in parse_qs(answer.query)
    assert client.get("/").status_code == 302


def test_it_ignores_a_logout_response_sent_to_a_signed_in_session(idp, client):
    sign_in(client, "member")
    response_xml = (
        '<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_forged" Version="2.0" '
        f'IssueInstant="{instant()}" Destination="{SITE}/saml2/ls/" InResponseTo="_nothing">'
        f"<saml:Issuer>{idp.url}/idp/metadata/</saml:Issuer><samlp:Status>"
        '<samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:LogoutResponse>'
    )

    response = client.get("/saml2/ls/", {"SAMLResponse": deflate_and_base64_encode(response_xml).decode()})

    assert response.status_code == 400
    assert signed_in(client) is not None


# --- the IdP's metadata: over https, or its signing key pinned -------------------------------------------------------
@pytest.mark.parametrize(
    "url, pinned, refused",
    [
        ("http://idp.example/metadata", False, True),
        ("http://127.0.0.1.evil.example/metadata", False, True),
        ("http://localhost.evil.example/metadata", False, True),
        ("https://idp.example/metadata", False, False),
        ("http://127.0.0.1:8800/idp/metadata/", False, False),
        ("http://localhost:8800/idp/metadata/", False, False),
        ("http://[::1]:8800/idp/metadata/", False, False),
        ("http://idp.example/metadata", True, False),
    ],
)
def test_it_refuses_idp_metadata_over_http_without_a_pinned_certificate(tmp_path, url, pinned, refused):
    env = {"SAML_IDP_METADATA_URL": url}
    if pinned:
        write_key_pair(key_file=tmp_path / "idp.key", cert_file=tmp_path / "idp.crt", common_name="idp")
        env["SAML_IDP_CERT_FILE"] = str(tmp_path / "idp.crt")

    result = run_check(**env)

    assert (result.returncode != 0) is refused, result.stderr
    assert ("SAML_IDP_METADATA_URL: must be https://" in result.stderr) is refused


@pytest.mark.parametrize("content", [None, "not a certificate"])
def test_it_refuses_a_pinned_certificate_file_that_holds_none(tmp_path, content):
    path = tmp_path / "idp.crt"
    if content is not None:
        path.write_text(content)

    result = run_check(SAML_IDP_METADATA_URL="https://idp.example/metadata", SAML_IDP_CERT_FILE=str(path))

    assert result.returncode != 0
    assert "SAML_IDP_CERT_FILE:" in result.stderr


def idp_certificate_pem(idp) -> str:
    metadata = ElementTree.fromstring(requests.get(f"{idp.url}/idp/metadata/", timeout=30).content)
    der = metadata.find(f".//{MD}IDPSSODescriptor//{{{NS['ds']}}}X509Certificate").text
    body = "\n".join(textwrap.wrap("".join(der.split()), 64))
    return f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"


def test_it_signs_in_against_an_idp_whose_signing_key_is_the_pinned_one(idp, client, settings, tmp_path):
    # The file may hold several certificates (a key rollover): the metadata's key must be one of them.
    write_key_pair(key_file=tmp_path / "next.key", cert_file=tmp_path / "next.crt", common_name="next-idp-key")
    (tmp_path / "idp.crt").write_text((tmp_path / "next.crt").read_text() + idp_certificate_pem(idp))
    settings.SAML_IDP_CERT_FILE = str(tmp_path / "idp.crt")

    assert sign_in(client, "member").status_code == 302
    assert signed_in(client).username == "member"


def test_it_refuses_an_idp_whose_signing_key_is_not_the_pinned_one(idp, client, settings, tmp_path):
    write_key_pair(key_file=tmp_path / "other.key", cert_file=tmp_path / "other.crt", common_name="not-the-idp")
    settings.SAML_IDP_CERT_FILE = str(tmp_path / "other.crt")

    response = client.get("/saml2/login/")

    assert response.status_code == 503
    assert signed_in(client) is None
