"""The sandbox's Slack Web API, driven with slack_sdk's WebClient exactly as T5G will drive it."""

import uuid
import warnings

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

TOKEN = "xoxb-sandbox-token"


def client(sandbox, token=TOKEN) -> WebClient:
    return WebClient(token=token, base_url=f"{sandbox.url}/slack/api/")


def posted(sandbox, text: str) -> list[dict]:
    return [m for m in sandbox.get("slack") if m["text"] == text]


def test_it_answers_auth_test(clean_sandbox):
    answer = client(clean_sandbox).auth_test()
    assert answer["ok"] is True and answer["user_id"] and answer["bot_id"] and answer["team_id"]


def test_it_records_a_posted_message_and_its_thread_reply(clean_sandbox):
    slack = client(clean_sandbox)
    text = f"New Sev1 case {uuid.uuid4().hex[:8]}"
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{text}*"}}]

    answer = slack.chat_postMessage(channel="#t5g-alerts", text=text, blocks=blocks)

    assert answer["ok"] is True and answer["channel"].startswith("C")
    assert answer["message"]["text"] == text and answer["message"]["blocks"] == blocks
    assert answer["message"]["ts"] == answer["ts"]
    reply = slack.chat_postMessage(channel=answer["channel"], text=f"{text} (update)", thread_ts=answer["ts"])
    assert reply["channel"] == answer["channel"] and float(reply["ts"]) > float(answer["ts"])

    (record,) = posted(clean_sandbox, text)
    assert record == {"channel": "#t5g-alerts", "channel_id": answer["channel"], "text": text, "blocks": blocks,
                      "thread_ts": None, "ts": answer["ts"]}  # fmt: skip
    (threaded,) = posted(clean_sandbox, f"{text} (update)")
    assert threaded["thread_ts"] == answer["ts"] and threaded["channel"] == answer["channel"]
    assert clean_sandbox.requests()["writes"] == 2


def test_it_accepts_a_form_encoded_post_with_blocks_as_a_string(clean_sandbox):
    text = f"form {uuid.uuid4().hex[:8]}"
    answer = client(clean_sandbox).api_call(
        "chat.postMessage", params={"channel": "t5g-alerts", "text": text, "blocks": '[{"type": "divider"}]'}
    )
    assert answer["ok"] is True
    (record,) = posted(clean_sandbox, text)
    assert record["blocks"] == [{"type": "divider"}]


def test_it_posts_to_a_team_members_direct_messages(clean_sandbox):
    member = clean_sandbox.get("team")[0]["slack_id"]
    text = f"assigned to you {uuid.uuid4().hex[:8]}"
    answer = client(clean_sandbox).chat_postMessage(channel=member, text=text)
    assert answer["channel"].startswith("D")
    assert posted(clean_sandbox, text)[0]["channel"] == member
    with pytest.raises(SlackApiError) as refused:
        client(clean_sandbox).chat_postMessage(channel="U999NOBODY", text=text)
    assert refused.value.response["error"] == "channel_not_found"


def test_it_refuses_a_wrong_token(clean_sandbox):
    text = f"never {uuid.uuid4().hex[:8]}"
    for call in (lambda s: s.auth_test(), lambda s: s.chat_postMessage(channel="#t5g-alerts", text=text)):
        with pytest.raises(SlackApiError) as refused:
            call(client(clean_sandbox, token="xoxb-wrong"))
        assert refused.value.response.status_code == 200 and refused.value.response["error"] == "invalid_auth"
    assert posted(clean_sandbox, text) == []


@pytest.mark.parametrize(
    ("arguments", "error"),
    [({"channel": "", "text": "x"}, "channel_not_found"), ({"channel": "#t5g-alerts"}, "no_text")],
)
def test_it_refuses_a_message_it_cannot_post(clean_sandbox, arguments, error):
    count = len(clean_sandbox.get("slack"))
    with pytest.raises(SlackApiError) as refused, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # slack_sdk's own "text is missing" advice
        client(clean_sandbox).chat_postMessage(**arguments)
    assert refused.value.response["ok"] is False and refused.value.response["error"] == error
    assert len(clean_sandbox.get("slack")) == count
