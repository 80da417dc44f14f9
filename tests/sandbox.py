"""The sandbox as tests use it: a real process on a private port, driven over HTTP."""

from __future__ import annotations

import sys

import requests

from sandbox import idp_shapes
from tests.processes import Process, free_port, wait_for


class Sandbox:
    def __init__(
        self,
        *,
        log_dir,
        cases: int = 300,
        seed: int = 1,
        jira_flavor: str = "cloud",
        idp_shape: str = idp_shapes.DEFAULT,
    ):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = Process(
            f"sandbox-{self.port}",
            [sys.executable, "-m", "sandbox", "--port", str(self.port),
             "--cases", str(cases), "--seed", str(seed), "--jira-flavor", jira_flavor, "--idp-shape", idp_shape],
            log_dir=log_dir,
        )  # fmt: skip
        self.process.wait_for_log("Sandbox ready", timeout=120)
        wait_for(self._healthy, timeout=30, what="sandbox health")

    def _healthy(self) -> bool:
        try:
            return requests.get(f"{self.url}/_sandbox/health", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    def state(self) -> dict:
        return requests.get(f"{self.url}/_sandbox/state", timeout=10).json()

    def requests(self) -> dict:
        return self.state()["requests"]

    def reset_requests(self) -> None:
        requests.post(f"{self.url}/_sandbox/requests/reset", timeout=10).raise_for_status()

    def faults(self, *rules: dict) -> None:
        requests.post(f"{self.url}/_sandbox/faults", json=list(rules), timeout=10).raise_for_status()

    def idp_shape(self, shape: str) -> None:
        """What the IdP's next answers carry: the company's attributes or eduPerson's (sandbox/idp_shapes.py)."""
        requests.post(f"{self.url}/_sandbox/idp", json={"shape": shape}, timeout=10).raise_for_status()

    def churn(self, count: int) -> list[str]:
        return requests.post(f"{self.url}/_sandbox/churn", json={"count": count}, timeout=60).json()["changed"]

    def post(self, path: str, body=None) -> requests.Response:
        return requests.post(f"{self.url}/_sandbox/{path.lstrip('/')}", json=body, timeout=30)

    def delete(self, path: str) -> requests.Response:
        return requests.delete(f"{self.url}/_sandbox/{path.lstrip('/')}", timeout=30)

    def get(self, path: str):
        return requests.get(f"{self.url}/_sandbox/{path.lstrip('/')}", timeout=30).json()

    def stop(self) -> None:
        self.process.stop()
