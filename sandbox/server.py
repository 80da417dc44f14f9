"""Build the sandbox application and serve it."""

from __future__ import annotations

import logging
import threading
import time

from . import bugzilla, control, idp, idp_shapes, jira, portal, slack, webhooks
from .app import App
from .http import make_server
from .world import World

log = logging.getLogger("sandbox")


def build_app(*, cases: int, seed: int, jira_flavor: str = "cloud", idp_shape: str = idp_shapes.DEFAULT) -> App:
    world = World(cases=cases, seed=seed, jira_flavor=jira_flavor)
    idp.IDP.shape = idp_shape
    portal.warm(world)  # build the search indexes before saying "ready"
    jira.warm(world)
    app = App(world, fault_seed=seed)
    app.hooks = webhooks.Webhooks(world, app.hook_fault)
    app.mount(portal.sso, portal.portal, jira.router, webhooks.router(app.hooks), bugzilla.router, slack.router,
              idp.router, control.router(app))  # fmt: skip
    return app


def churn_forever(app: App, per_minute: int) -> None:
    """Time passes: `per_minute` random changes a minute, spread evenly."""
    while True:
        time.sleep(60 / per_minute)
        with app.world.lock:
            app.world.churn(1)


def serve(app: App, *, port: int, host: str = "127.0.0.1", churn_per_minute: int = 0) -> None:
    server = make_server(port, app.dispatch, host)
    if churn_per_minute > 0:
        threading.Thread(target=churn_forever, args=(app, churn_per_minute), daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
