"""Read HTML forms the way a browser would submit them: admin forms (form_values) and the SAML pages' simple
forms of hidden fields (read_form)."""

from html.parser import HTMLParser


class _FormParser(HTMLParser):
    def __init__(self, form_id: str):
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == self.form_id:
            self.inside = True
        if not self.inside or "name" not in a and tag not in ("option",):
            return
        if tag == "input":
            kind = a.get("type", "text")
            if kind in ("submit", "button", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.data.setdefault(a["name"], []).append(a.get("value", "on" if kind == "checkbox" else ""))
        elif tag == "select":
            self._select = a["name"]
            self.data.setdefault(a["name"], [])
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select].append(a.get("value", ""))
        elif tag == "textarea":
            self._textarea = a["name"]
            self.data[a["name"]] = [""]

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][0] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_values(html: str, form_id: str) -> dict[str, list[str]]:
    parser = _FormParser(form_id)
    parser.feed(html)
    if parser.data == {}:
        raise AssertionError(f"no form #{form_id} with fields in the page")
    # A textarea's first newline is not part of its value.
    return {k: [v.removeprefix("\n") for v in vals] for k, vals in parser.data.items()}


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"id": a.get("id"), "action": a.get("action", ""), "fields": {}})
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1]["fields"][a["name"]] = a.get("value") or ""


def read_form(html: str, form_id: str | None = None) -> tuple[str, dict[str, str]]:
    """(action, {name: value}) of the form with this id (the first form when None)."""
    parser = _Forms()
    parser.feed(html)
    for form in parser.forms:
        if form_id is None or form["id"] == form_id:
            return form["action"], form["fields"]
    raise AssertionError(f"no form {form_id or ''} in the page:\n{html[:2000]}")
