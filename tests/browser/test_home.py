"""Home in a real browser: it renders under our Content-Security-Policy and draws its chart."""

from playwright.sync_api import expect

# Chart.js draws on a canvas; a drawn chart has opaque pixels, an empty canvas has none.
PAINTED_PIXELS = """canvas => {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
  return painted;
}"""


def test_it_draws_the_cards_chart_with_no_csp_violation(member_page, stack, watch):
    page = member_page
    response = page.goto("/")
    assert response.status == 200
    directives = [d.strip() for d in response.headers["content-security-policy"].split(";")]
    assert "script-src 'self'" in directives
    expect(page.get_by_role("heading", name="Cards by internal status")).to_be_visible()

    canvas = page.locator('canvas[data-chart="cards-by-status"]')
    expect(canvas).to_have_attribute("data-drawn", "1")
    assert page.evaluate("c => !!window.Chart.getChart(c)", canvas.element_handle())
    box = canvas.bounding_box()
    assert box["width"] > 100 and box["height"] > 100
    assert canvas.evaluate(PAINTED_PIXELS) > 1000
    watch.check()
