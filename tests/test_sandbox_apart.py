"""The sandbox is a program of its own: it needs no Django. (That neither imports the other is an import-linter
contract in pyproject.toml, checked by `make lint`.)"""

import subprocess
import sys

from tests.processes import BASE_DIR

PRODUCT = ["t5g", "cases", "cards", "bugs", "escalations", "stats", "api", "reports"]


def test_the_sandbox_loads_without_django_or_the_product():
    script = (
        "import sys, sandbox.__main__, sandbox.server; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(sys.argv[1:])))"
    )
    out = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", script, "django", *PRODUCT],
        cwd=BASE_DIR, capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert out.strip() == "[]"
