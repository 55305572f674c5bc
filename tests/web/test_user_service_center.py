"""An admin sets the service centre a user works for (the case desk's "overdue in my centre")."""

from flask.testing import FlaskClient
from sqlalchemy import select

from callback.extensions import db
from callback.models import AuditEvent, User


def test_an_admin_sets_and_clears_a_users_service_centre(client: FlaskClient, login, make_user) -> None:
    lin = make_user("lin", "supervisor")
    login("admin")
    page = client.get(f"/admin/users/{lin.id}").text
    assert 'id="service-center-form"' in page
    response = client.post(
        f"/admin/users/{lin.id}/service-center", data={"service_center": " 城东供电服务中心 "}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, lin.id).service_center == "城东供电服务中心"
    assert 'value="城东供电服务中心"' in client.get(f"/admin/users/{lin.id}").text
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.service_center_changed"))
    assert audit.details == {"from": None, "to": "城东供电服务中心"}

    for bad in ("x" * 51, "坏\x00名"):
        response = client.post(f"/admin/users/{lin.id}/service-center", data={"service_center": bad})
        assert response.status_code in (409, 422)
    db.session.expire_all()
    assert db.session.get(User, lin.id).service_center == "城东供电服务中心"

    client.post(f"/admin/users/{lin.id}/service-center", data={"service_center": ""})
    db.session.expire_all()
    assert db.session.get(User, lin.id).service_center is None
    assert client.post("/admin/users/99999/service-center", data={"service_center": "x"}).status_code == 404


def test_only_admins_set_service_centres(client: FlaskClient, login, make_user) -> None:
    lin = make_user("lin", "supervisor")
    login("supervisor")
    response = client.post(f"/admin/users/{lin.id}/service-center", data={"service_center": "城东"})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(User, lin.id).service_center is None
