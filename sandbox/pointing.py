"""The environment that points T5G at a sandbox: its upstream URLs, credentials, channels and IdP.

T5G knows nothing of the sandbox; it reads these variables like any real upstream's. `make run`,
the tests and the benchmarks all take them from here (`python -m sandbox env --url ...` prints them).
"""

from __future__ import annotations

from . import bugzilla, idp_shapes, jira_api, portal, slack

# sandbox/idp.py's metadata route, written out: importing it loads pysaml2, which takes half a second.
IDP_METADATA_PATH = "/idp/metadata/"
WEBHOOK_SECRET = "sandbox-webhook-secret"
# Where T5G posts in the sandbox's Slack, which accepts any well-formed channel name.
SLACK_CHANNELS = {
    "SLACK_ALERT_CHANNEL": "#t5g-alerts",
    "SLACK_HIGH_CHANNEL": "#t5g-high",
    "SLACK_LOW_CHANNEL": "#t5g-low",
}


def environment(url: str, *, idp_shape: str = idp_shapes.DEFAULT) -> dict[str, str]:
    """T5G's variables, by name, for the sandbox serving at `url` (e.g. http://127.0.0.1:8800), its IdP
    speaking `idp_shape` (sandbox/idp_shapes.py)."""
    url = url.rstrip("/")
    return {
        "PORTAL_URL": url + portal.portal.prefix,
        "SSO_TOKEN_URL": f"{url}{portal.sso.prefix}/token",
        "PORTAL_OFFLINE_TOKEN": portal.OFFLINE_TOKEN,
        "JIRA_URL": url + jira_api.router.prefix,
        "JIRA_TOKEN": jira_api.TOKEN,
        # The secret T5G's webhook registration (`manage.py jira_webhook register`) gives the sandbox's JIRA.
        "JIRA_WEBHOOK_SECRET": WEBHOOK_SECRET,
        # python-bugzilla speaks REST only to a URL ending in /rest.
        "BUGZILLA_URL": f"{url}{bugzilla.router.prefix}/rest",
        "BUGZILLA_API_KEY": bugzilla.API_KEY,
        # slack_sdk joins its base URL and the method name as they are: the "/" must be there.
        "SLACK_API_URL": f"{url}{slack.router.prefix}/api/",
        "SLACK_TOKEN": slack.BOT_TOKEN,
        **SLACK_CHANNELS,
        "SAML_IDP_METADATA_URL": url + IDP_METADATA_PATH,
        **idp_shapes.SETTINGS[idp_shape],
        "DEMO_NOTICE": f"Demo data: upstreams are the local sandbox at {url}.",
    }
