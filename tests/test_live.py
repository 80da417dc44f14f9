"""Pages that update themselves: /changes/ answers 204 while the data an open page shows is unchanged, and the
new generations once a sync wrote."""

from __future__ import annotations

import re
import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.signals import request_started

from t5g.cache import bump, cached, served_old
from t5g.live import OLD


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


@pytest.mark.django_db
def test_it_serves_the_previous_copy_while_another_request_builds_the_new_one():
    assert cached("view", feeds=("cases",), build=lambda: "first") == ("first", False)
    bump("cases")
    building, done = threading.Event(), threading.Event()

    def slow() -> str:
        building.set()
        done.wait(10)
        return "second"

    other = threading.Thread(target=cached, args=("view",), kwargs={"feeds": ("cases",), "build": slow})
    other.start()
    assert building.wait(10)
    assert cached("view", feeds=("cases",), build=lambda: "not built twice") == ("first", False)
    assert served_old()
    done.set()
    other.join()
    assert cached("view", feeds=("cases",), build=lambda: "not built again") == ("second", False)


@pytest.mark.django_db
def test_it_never_serves_an_old_copy_of_what_other_copies_are_built_from():
    assert cached("flags", feeds=("cases",), build=lambda: "first", old_ok=False) == ("first", False)
    bump("cases")
    cache.add("view-rebuild:flags", 1, 30)  # as if another request were building it
    request_started.send(sender=None)  # a new request: served_old() forgets the last one's
    assert cached("flags", feeds=("cases",), build=lambda: "second", old_ok=False) == ("second", False)
    assert not served_old()
    assert cache.get("view-rebuild:flags") == 1  # the other request's mark left alone


@pytest.mark.django_db
def test_it_builds_a_view_again_at_most_every_spacing_times_its_last_build(settings):
    settings.VIEW_REBUILD_SPACING = 50

    def build() -> str:
        time.sleep(0.02)  # 20 ms: built again a second later at the earliest
        return "first"

    cached("view", feeds=("cases",), build=build)
    bump("cases")
    request_started.send(sender=None)
    assert cached("view", feeds=("cases",), build=lambda: "second") == ("first", False)
    assert served_old()  # the page says so, and asks again in a moment
    time.sleep(1.2)
    assert cached("view", feeds=("cases",), build=lambda: "second") == ("second", False)


@pytest.mark.django_db
def test_it_builds_again_at_the_next_request_after_a_build_failed():
    cached("view", feeds=("cases",), build=lambda: "first")
    bump("cases")

    def broken() -> str:
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        cached("view", feeds=("cases",), build=broken)
    assert cached("view", feeds=("cases",), build=lambda: "second") == ("second", False)


@pytest.mark.django_db
def test_it_marks_a_page_served_from_an_old_copy_so_that_it_asks_again_at_once(member_client):
    rendered_generation(member_client)
    bump("cases")
    for key in cache.keys("view:*"):  # another request is building each view's new copy
        cache.add(key.replace("view:", "view-rebuild:", 1), 1, 30)
    assert rendered_generation(member_client) == OLD
    assert member_client.get("/changes/", {"since": OLD}).status_code == 200
    cache.delete_many(cache.keys("view-rebuild:*"))
    assert rendered_generation(member_client) != OLD
