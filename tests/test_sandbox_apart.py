"""The sandbox and the product are separate programs: neither imports the other, and the sandbox needs no Django."""

import ast
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


def test_the_product_never_imports_the_sandbox():
    importers = []
    for package in PRODUCT:
        for path in (BASE_DIR / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                if isinstance(node, ast.ImportFrom) and node.level == 0:
                    names = [node.module or ""]
                if any(name.split(".")[0] == "sandbox" for name in names):
                    importers.append(str(path.relative_to(BASE_DIR)))
    assert importers == []
