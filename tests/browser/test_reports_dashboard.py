"""A supervisor reads the dashboard and opens the orders behind the system/customer gap chart (browser)."""

from callback.extensions import db
from tests.conftest import PASSWORD
from tests.reports.published_year import build_published_year


def test_the_gap_chart_opens_the_orders_of_a_service_centre(page, make_user, settings):
    make_user("lin", "supervisor")
    build_published_year(db.session, settings)
    db.session.commit()

    page.goto("/login")
    page.get_by_label("用户名").fill("lin")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("密码").press("Enter")
    page.goto("/reports/?from=2022-01-01&to=2022-12-31")
    page.locator("#charts[data-loaded=true]").wait_for()
    assert page.locator("#kpi-connections").inner_text().strip().startswith("148")
    chart = page.locator("#chart-gap svg").first
    chart.wait_for()
    box = chart.bounding_box()
    # The first bar group is the centre with the widest gap; click inside its column.
    page.mouse.click(box["x"] + 40 + (box["width"] - 60) / 6 - 10, box["y"] + box["height"] - 70)
    page.wait_for_url("**/reports/connections?*")
    assert "service_center=" in page.url
    assert page.locator("#connections-table tbody tr").count() > 0
