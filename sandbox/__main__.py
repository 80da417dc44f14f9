"""The sandbox's command line.

    python -m sandbox [--host H] [--port P] [--cases N] [--seed S] [--churn R] [--jira-flavor cloud|server]
                      [--idp-shape company|eduperson]
    python -m sandbox env --url http://127.0.0.1:8800 [--idp-shape company|eduperson]

The first serves the sandbox until it is stopped; the second prints the environment that points
T5G at a sandbox at that URL, as shell-quoted NAME=value lines (for `.`, honcho's -e and .env files).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time

from . import idp_shapes
from .pointing import environment

MAX_CASES = 100_000


def serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="Serve the upstream sandbox (portal, SSO, JIRA, Bugzilla, Slack, SAML IdP) on loopback.",
        epilog="`python -m sandbox env --url URL` prints the environment that points T5G at it.",
    )
    parser.add_argument("--port", type=int, default=8800)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--cases", type=int, default=500, help="cases on the team's query (up to 100,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--churn", type=int, default=0, metavar="R", help="random changes per minute")
    parser.add_argument("--jira-flavor", choices=["cloud", "server"], default="cloud")
    _idp_shape_option(parser)
    return parser


def _idp_shape_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--idp-shape",
        choices=idp_shapes.SHAPES,
        default=idp_shapes.DEFAULT,
        help="the IdP's attributes: the company's (rhatUUID, memberOf DNs) or eduPerson's (isMemberOf names)",
    )


def env_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox env", description="Print the environment that points T5G at a sandbox."
    )
    parser.add_argument("--url", required=True, help="where the sandbox serves, e.g. http://127.0.0.1:8800")
    _idp_shape_option(parser)
    return parser


def serve_command(argv: list[str]) -> None:
    parser = serve_parser()
    options = parser.parse_args(argv)
    if not 1 <= options.cases <= MAX_CASES:
        parser.error(f"--cases must be between 1 and {MAX_CASES}")
    from .server import build_app, serve  # loads pysaml2 (half a second): not for `env`

    started = time.monotonic()
    app = build_app(
        cases=options.cases, seed=options.seed, jira_flavor=options.jira_flavor, idp_shape=options.idp_shape
    )
    url = f"http://{options.host}:{options.port}"
    # tests/sandbox.py waits for this line.
    print(
        f"Sandbox ready in {time.monotonic() - started:.1f}s with {len(app.world.cases)} cases "
        f"(seed {options.seed}) at {url}  (point T5G at it: python -m sandbox env --url {url})",
        flush=True,
    )
    try:
        serve(app, port=options.port, host=options.host, churn_per_minute=options.churn)
    except KeyboardInterrupt:  # Ctrl-C under `make run`: a stop, not an error
        pass


def env_command(argv: list[str]) -> None:
    options = env_parser().parse_args(argv)
    for name, value in environment(options.url, idp_shape=options.idp_shape).items():
        print(f"{name}={shlex.quote(value)}")


def main(argv: list[str]) -> None:
    if argv[:1] == ["env"]:
        env_command(argv[1:])
    else:
        serve_command(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
