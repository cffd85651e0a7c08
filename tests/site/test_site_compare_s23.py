"""Session 23's review, trends side, without a browser: trends.html offers a from/to range of end
days as labelled date inputs (the hash keys the catalog's date filter uses), the same bytes for the
same project, with no inline script (the browser side: test_browser_compare_s23.py)."""

from __future__ import annotations

from html.parser import HTMLParser

from reportgen.site.contexts import build_project_context
from reportgen.site.render import render_page


class _Fields(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inputs: dict[str, dict[str, str | None]] = {}
        self.labels: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("id"):
            self.inputs[str(found["id"])] = found
        if tag == "label" and found.get("for"):
            self.labels.append(str(found["for"]))
        if tag == "script" and not found.get("src"):
            self.inline_scripts += 1


def _trends(project: str) -> str:
    page = build_project_context(project, [], ())
    return render_page("trends.html", page)


def test_trends_offers_a_range_of_end_days_as_labelled_date_inputs() -> None:
    html = _trends("p<&>")
    fields = _Fields()
    fields.feed(html)
    for end in ("from", "to"):
        box = fields.inputs[f"trends-{end}"]
        assert box["type"] == "date" and f"{end}=YYYY-MM-DD" in str(box["title"])
        assert f"trends-{end}" in fields.labels
    assert fields.inline_scripts == 0
    assert "p<&>" not in html and "p&lt;&amp;&gt;" in html
    assert _trends("p<&>") == html  # byte-deterministic

