"""Pages that update themselves: /changes/ answers 204 while the data an open page shows is unchanged, and the
new generations once a sync wrote."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model

from t5g.cache import bump


@pytest.fixture
def member_client(client, db):
    client.force_login(get_user_model().objects.create_user("pat"))
    return client


def rendered_generation(client) -> str:
    page = client.get("/cases/").content.decode()
    return re.search(r'data-generation="([^"]+)"', page).group(1)


@pytest.mark.django_db
def test_it_answers_204_with_no_body_while_nothing_changed(member_client):
    since = rendered_generation(member_client)
    answer = member_client.get("/changes/", {"since": since})
    assert answer.status_code == 204 and answer.content == b""


@pytest.mark.django_db
def test_it_gives_the_new_generation_once_a_sync_wrote(member_client):
    since = rendered_generation(member_client)
    bump("cards")
    answer = member_client.get("/changes/", {"since": since})
    assert answer.status_code == 200
    assert answer.json()["generation"] != since
    assert rendered_generation(member_client) == answer.json()["generation"]
    assert member_client.get("/changes/", {"since": answer.json()["generation"]}).status_code == 204


@pytest.mark.django_db
def test_it_tells_nothing_to_a_visitor_not_signed_in(client):
    answer = client.get("/changes/", {"since": "0"})
    assert answer.status_code == 302 and "generation" not in answer.content.decode()


@pytest.mark.django_db
def test_it_is_off_with_no_poll_interval(member_client, settings):
    settings.LIVE_POLL_SECONDS = 0
    assert "data-live=" not in member_client.get("/cases/").content.decode()
