import re

from tests.processes import BASE_DIR


def test_it_documents_every_variable_settings_read():
    source = (BASE_DIR / "t5g" / "settings.py").read_text()
    read = set(re.findall(r"""(?:_env|_upstream_url|env\.\w+)\(\s*["']([A-Z_]+)["']""", source))
    example = (BASE_DIR / ".env.example").read_text()
    django_part = example.split("# --- Processes:", 1)[0]  # what follows is for make run and the Procfile
    documented = set(re.findall(r"^# ([A-Z_]+)=", django_part, re.M))
    assert read, "no variables found in settings.py"
    assert read - documented == set(), "add these to .env.example"
    assert documented - read == set(), "documented but never read"
