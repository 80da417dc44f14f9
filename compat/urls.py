"""The old dashboard's addresses: its pages (redirected) and its JSON API (/api/v0/, the old paths redirected)."""

from django.urls import path, re_path

from . import redirects, v0

# Every deprecated alias of the old home page (predecessor.md §1.1).
HOME_ALIASES = ["home", "updates/telco5g", "updates/telco5g/all", "updates/cnv", "updates/cnv/all",
                "updates/telco5g/severity", "updates/telco5g/all/severity", "updates/cnv/severity",
                "updates/cnv/all/severity", "stats/cnv", "stats/telco5g"]  # fmt: skip
# The old tables → the cases table's view of the same cards; the old card layouts → the updates page's.
TABLES = {"table": "commented", "table/all": "all", "table/trends": "trends"}
CARD_LAYOUTS = {"updates/all": "all", "trends": "trends"}

urlpatterns = [
    *(re_path(rf"^{alias}/?$", redirects.home) for alias in HOME_ALIASES),
    re_path(r"^stats$", redirects.stats),
    *(re_path(rf"^{old}/?$", redirects.cases_view, {"view": view}) for old, view in TABLES.items()),
    *(re_path(rf"^{old}/?$", redirects.updates_view, {"scope": scope}) for old, scope in CARD_LAYOUTS.items()),
    path("account/<path:name>", redirects.account),
    path("engineer/<path:name>", redirects.engineer),
    path("api/v0/", v0.index, name="api_v0"),
    *(path(f"api/v0/{name}", v0.blob(name), name=f"api_v0_{name}") for name in v0.BLOBS),
    # The old unversioned paths; /api/<name>/ (with the slash) is the new API's.
    *(re_path(rf"^api/{name}$", redirects.api, {"name": name}) for name in v0.BLOBS),
]
