"""The case desk (issue 12): search, sorting, saved filters, bulk actions, grouping, notes, attachments."""

import io
import re
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from callback.attachments import attachment_store
from callback.cases import refer_to_discipline
from callback.extensions import db
from callback.models import AuditEvent, CaseAttachment, CaseEvent, SavedFilter, SupervisionCase, User
from tests.conftest import PASSWORD
from tests.factories import store_order
from tests.web.test_cases_pages import NOW, SYSTEM, english, fresh, hand_case, move


def listed(html: str) -> list[int]:
    """Return the case ids of the list, in the order shown."""
    return [int(found) for found in re.findall(r'<tr class="case-row[^"]*" data-case-id="(\d+)"', html)]


def photo(kind: str = "JPEG", size: tuple[int, int] = (1200, 900)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(out, kind)
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def fetch(client: FlaskClient, path: str):
    """GET a file and close the response (send_file keeps the file open until then)."""
    response = client.get(path)
    response.get_data()  # read it now: a closed file cannot be read later
    response.close()
    return response


def audits(action: str) -> int:
    return db.session.scalar(select(func.count()).where(AuditEvent.action == action)) or 0


# --- Search and sorting ------------------------------------------------------------------------------------


def test_search_finds_cases_by_order_customer_description_and_notes(client: FlaskClient, login) -> None:
    first = hand_case("GD-SEARCH-1", customer_name="宏达五金店")
    second = hand_case("GD-SEARCH-2", customer_name="利民超市")
    third = hand_case("GD-OTHER-3", customer_name="新华书店")
    user = login("supervisor")
    from callback.cases import add_note

    add_note(db.session, third.id, text="客户称电工索要红包", user=user, now=NOW, actor=SYSTEM)
    db.session.commit()

    assert set(listed(client.get("/cases/?q=gd-search").text)) == {first.id, second.id}
    assert listed(client.get("/cases/?q=利民").text) == [second.id]
    assert listed(client.get("/cases/?q=红包").text) == [third.id]  # a note
    assert set(listed(client.get("/cases/?q=配电柜门").text)) == {first.id, second.id, third.id}
    # LIKE's wildcards are searched for literally.
    assert listed(client.get("/cases/?q=%25").text) == []
    assert listed(client.get("/cases/?q=_").text) == []
    page = client.get("/cases/?q=" + "长" * 500)
    assert page.status_code == 200


def test_sorting_by_a_column_either_way_and_unknown_columns_are_ignored(client: FlaskClient, login) -> None:
    a = hand_case("GD-B", customer_name="乙")
    b = hand_case("GD-A", customer_name="甲")
    c = hand_case("GD-C", customer_name="丙")
    login("supervisor")
    assert listed(client.get("/cases/?sort=order_no").text) == [b.id, a.id, c.id]
    assert listed(client.get("/cases/?sort=order_no&dir=desc").text) == [c.id, a.id, b.id]
    assert listed(client.get("/cases/?sort=id&dir=desc").text) == [c.id, b.id, a.id]
    page = client.get("/cases/?sort=order_no")
    # The sorted column says so, and its link turns the order round.
    assert 'aria-sort="ascending"' in page.text
    assert re.search(r'data-sort="order_no" href="[^"]*dir=desc', page.text)
    for bad in ("password_hash", "1;drop table users", "", "customer_phone"):
        response = client.get(f"/cases/?sort={bad}&dir=sideways")
        assert response.status_code == 200
        assert set(listed(response.text)) == {a.id, b.id, c.id}


# --- Saved filters -----------------------------------------------------------------------------------------


def test_built_in_filters_my_open_cases_and_overdue_in_my_centre(client: FlaskClient, login) -> None:
    user = login("supervisor")
    mine = hand_case("GD-MINE")
    late_here = hand_case("GD-LATE-HERE", opened=NOW - timedelta(days=40))
    hand_case("GD-LATE-ELSEWHERE", opened=NOW - timedelta(days=40), service_center="城西供电服务中心")
    closed_mine = hand_case("GD-CLOSED")
    from callback.cases import assign

    for case in (mine, closed_mine):
        assign(db.session, case.id, assignee_id=user.id, now=NOW, actor=SYSTEM)
    db.session.commit()
    move(closed_mine, "dismissed")

    page = client.get("/cases/").text
    english(client)
    page = client.get("/cases/").text
    assert "My open cases" in page
    assert "Your service centre is not set" in page  # no centre yet: the filter says how to get one
    assert listed(client.get("/cases/?assignee=me&active=1").text) == [mine.id]

    db.session.get(User, user.id).service_center = "城关供电服务中心"
    db.session.commit()
    page = client.get("/cases/").text
    link = re.search(r'href="([^"]*)" data-filter-name="Overdue in my centre"', page)
    assert link is not None
    assert listed(client.get(link.group(1).replace("&amp;", "&")).text) == [late_here.id]


def test_a_user_saves_uses_and_deletes_own_filters(client: FlaskClient, login, make_user) -> None:
    first = hand_case("GD-1", "other")
    hand_case("GD-2", "cabinet_door_open")
    user = login("supervisor")
    english(client)
    saved = client.post("/cases/filters", data={"name": "其他类", "params": "category=other&page=3&evil=1"})
    assert saved.status_code == 302
    stored = db.session.scalar(select(SavedFilter).where(SavedFilter.user_id == user.id))
    assert stored.name == "其他类" and stored.params == {"category": "other"}  # only list parameters
    page = client.get("/cases/").text
    link = re.search(r'href="([^"]*)" data-filter-name="其他类"', page)
    assert listed(client.get(link.group(1)).text) == [first.id]

    # Saving under the same name replaces; bad names and empty filters are refused, nothing stored.
    client.post("/cases/filters", data={"name": "其他类", "params": "category=cabinet_door_open"})
    assert db.session.scalar(select(func.count()).select_from(SavedFilter)) == 1
    refused = [
        {"name": "", "params": "category=other"},
        {"name": "x" * 61, "params": "category=other"},
        {"name": "空", "params": "evil=1"},
        {"name": "坏\x00名", "params": "category=other"},
    ]
    for data in refused:
        response = client.post("/cases/filters", data=data)
        assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(SavedFilter)) == 1

    # Another user neither sees nor deletes it.
    client.post("/logout")
    login("supervisor", "other-supervisor")
    assert "其他类" not in client.get("/cases/").text
    assert client.post(f"/cases/filters/{stored.id}/delete").status_code == 404
    client.post("/logout")
    client.post("/login", data={"username": user.username, "password": PASSWORD})

    assert client.post(f"/cases/filters/{stored.id}/delete").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(SavedFilter)) == 0


# --- Bulk actions ------------------------------------------------------------------------------------------


def test_bulk_assign_moves_each_case_through_the_service_and_reports_each(
    client: FlaskClient, login, make_user
) -> None:
    cases = [hand_case(f"GD-BULK-{n}") for n in range(3)]
    login("supervisor")
    zhao = make_user("zhao", "supervisor")
    english(client)
    response = client.post(
        "/cases/bulk",
        data={"action": "assign", "assignee_id": str(zhao.id), "case_id": [str(c.id) for c in cases]},
    )
    assert response.status_code == 200
    assert response.text.count('class="bulk-result table-success ok"') == 3
    assert all(fresh(case).assignee_id == zhao.id for case in cases)
    assert audits("case.assigned") == 3
    # Each new assignee hears of it in the bell.
    from callback.models import Notification

    assert db.session.scalar(select(func.count()).where(Notification.user_id == zhao.id)) == 3


def test_bulk_move_reports_refusals_per_case_and_keeps_the_rest(client: FlaskClient, login) -> None:
    fine = hand_case("GD-FINE")
    ended = hand_case("GD-ENDED")
    move(ended, "dismissed")
    login("supervisor")
    english(client)
    response = client.post(
        "/cases/bulk",
        data={"action": "move", "to": "investigating", "case_id": [str(fine.id), str(ended.id)]},
    )
    assert response.status_code == 200
    assert re.search(rf'table-success ok" data-case-id="{fine.id}"', response.text)
    refused = re.search(rf'table-danger refused" data-case-id="{ended.id}".*?</tr>', response.text, re.S)
    assert refused and "cannot move" in refused.group(0)
    assert fresh(fine).state == "investigating"
    assert fresh(ended).state == "dismissed"
    assert "1 of 2 cases done." in response.text


def test_bulk_dismiss_needs_a_note(client: FlaskClient, login) -> None:
    cases = [hand_case(f"GD-D{n}") for n in range(2)]
    login("supervisor")
    ids = [str(c.id) for c in cases]
    response = client.post("/cases/bulk", data={"action": "dismiss", "case_id": ids})
    assert response.text.count("refused") >= 2
    assert {fresh(c).state for c in cases} == {"open"}
    response = client.post("/cases/bulk", data={"action": "dismiss", "note": "重复案件", "case_id": ids})
    assert {fresh(c).state for c in cases} == {"dismissed"}
    events = db.session.scalars(select(CaseEvent).where(CaseEvent.to_state == "dismissed")).all()
    assert {e.note for e in events} == {"重复案件"}


@pytest.mark.parametrize(
    "data",
    [
        {"action": "assign"},  # nothing selected
        {"action": "explode", "case_id": ["1"]},
        {"action": "assign", "case_id": ["abc"]},
        {"action": "assign", "case_id": ["999999"], "assignee_id": "-5"},
        {"action": "move", "case_id": ["1"], "to": "nowhere"},
        {"action": "assign", "case_id": [str(n) for n in range(1, 300)]},
    ],
)
def test_bad_bulk_input_changes_nothing_and_never_fails(client: FlaskClient, login, data) -> None:
    case = hand_case("GD-SAFE")
    login("supervisor")
    response = client.post("/cases/bulk", data=data)
    assert response.status_code in (200, 302)
    assert fresh(case).state == "open" and fresh(case).assignee_id is None


def test_bulk_is_for_case_workers_only(client: FlaskClient, login) -> None:
    case = hand_case("GD-ROLE")
    login("discipline", "inspector")
    assert (
        client.post(
            "/cases/bulk", data={"action": "move", "to": "investigating", "case_id": [str(case.id)]}
        ).status_code
        == 403
    )
    assert fresh(case).state == "open"


def test_bulk_without_a_csrf_token_changes_nothing(csrf_app, make_user) -> None:
    case = hand_case("GD-CSRF")
    make_user("csrf-sup", "supervisor")
    client = csrf_app.test_client()
    login_page = client.get("/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page) or re.search(
        r'name="csrf_token" value="([^"]+)"', login_page
    )
    client.post("/login", data={"username": "csrf-sup", "password": PASSWORD, "csrf_token": token.group(1)})
    response = client.post(
        "/cases/bulk", data={"action": "move", "to": "investigating", "case_id": [str(case.id)]}
    )
    assert response.status_code in (302, 400)
    assert fresh(case).state == "open"


# --- Grouping --------------------------------------------------------------------------------------------


def test_cases_of_one_order_are_grouped_on_the_list_and_shown_on_the_order(
    client: FlaskClient, login
) -> None:
    first = hand_case("GD-GROUP", "cabinet_door_open")
    second = hand_case("GD-GROUP", "other", new_order=False)
    alone = hand_case("GD-ALONE")
    login("supervisor")
    english(client)
    # Sorted by id descending the group still sits together, headed by its order.
    page = client.get("/cases/?sort=id&dir=desc").text
    assert listed(page) == [alone.id, second.id, first.id]
    assert re.search(r'data-order-no="GD-GROUP">\s*<td[^>]*>.*?Order GD-GROUP has 2 cases', page, re.S)
    assert 'data-order-no="GD-ALONE"' not in page
    order_page = client.get("/orders/GD-GROUP").text
    assert f"/cases/{first.id}" in order_page and f"/cases/{second.id}" in order_page


# --- Notes -------------------------------------------------------------------------------------------------


def test_supervisors_note_any_case_even_closed_and_notes_are_audited(client: FlaskClient, login) -> None:
    case = hand_case("GD-NOTE")
    move(case, "dismissed")
    login("supervisor")
    response = client.post(f"/cases/{case.id}/notes", data={"text": "  复查：现场已整改  "})
    assert response.status_code == 302
    page = client.get(f"/cases/{case.id}").text
    assert "复查：现场已整改" in page
    note = db.session.scalar(select(CaseEvent).where(CaseEvent.action == "note"))
    assert note.note == "复查：现场已整改"
    assert audits("case.note") == 1
    # Empty or oversized notes are refused with a message; nothing stored.
    for text in ("", "   ", "长" * 2001):
        assert client.post(f"/cases/{case.id}/notes", data={"text": text}).status_code == 302
    assert db.session.scalar(select(func.count()).where(CaseEvent.action == "note")) == 1


def test_discipline_inspectors_note_referred_cases_only(client: FlaskClient, login) -> None:
    referred = hand_case("GD-REF")
    hidden = hand_case("GD-HID")
    refer_to_discipline(db.session, referred.id, note="移交", now=NOW, actor=SYSTEM)
    db.session.commit()
    login("discipline")
    assert client.post(f"/cases/{referred.id}/notes", data={"text": "已约谈"}).status_code == 302
    assert client.post(f"/cases/{hidden.id}/notes", data={"text": "越权"}).status_code == 404
    notes = db.session.scalars(select(CaseEvent.note).where(CaseEvent.action == "note")).all()
    assert notes == ["已约谈"]


def test_operators_and_integration_cannot_note(client: FlaskClient, login) -> None:
    case = hand_case("GD-OP")
    login("operator")
    assert client.post(f"/cases/{case.id}/notes", data={"text": "x"}).status_code == 403
    assert client.post(f"/cases/{case.id}/attachments", data={}).status_code == 403


# --- Attachments -------------------------------------------------------------------------------------------


def upload(client: FlaskClient, case_id: int, data: bytes, name: str):
    return client.post(
        f"/cases/{case_id}/attachments",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_photos_and_reports_are_attached_shown_as_thumbnails_and_audited(
    client: FlaskClient, login, app
) -> None:
    case = hand_case("GD-ATT")
    login("supervisor")
    assert upload(client, case.id, photo("JPEG"), "现场照片.jpg").status_code == 302
    assert upload(client, case.id, photo("PNG", (50, 40)), "../../etc/门.png").status_code == 302
    assert upload(client, case.id, PDF, "整改报告.pdf").status_code == 302
    stored = db.session.scalars(select(CaseAttachment).order_by(CaseAttachment.id)).all()
    assert [a.content_type for a in stored] == ["image/jpeg", "image/png", "application/pdf"]
    assert [a.original_filename for a in stored] == ["现场照片.jpg", "门.png", "整改报告.pdf"]
    files = [attachment_store().local_path(a.path) for a in stored]
    assert all(str(path).startswith(app.instance_path + "/attachments/") for path in files)
    page = client.get(f"/cases/{case.id}").text
    jpeg, _png, pdf = stored
    assert f"/cases/{case.id}/attachments/{jpeg.id}/thumbnail" in page
    assert f"/cases/{case.id}/attachments/{pdf.id}/thumbnail" not in page  # a PDF shows an icon

    thumb = fetch(client, f"/cases/{case.id}/attachments/{jpeg.id}/thumbnail")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert max(Image.open(io.BytesIO(thumb.data)).size) <= 320  # small, not the 1200 px original
    full = fetch(client, f"/cases/{case.id}/attachments/{jpeg.id}")
    assert full.data == photo("JPEG") and "inline" in full.headers.get("Content-Disposition", "inline")
    download = fetch(client, f"/cases/{case.id}/attachments/{pdf.id}?download=1")
    assert download.data == PDF and download.headers["Content-Disposition"].startswith("attachment")
    assert (audits("attachment.thumbnail"), audits("attachment.viewed"), audits("attachment.downloaded")) == (
        1,
        1,
        1,
    )
    assert audits("attachment.added") == 3


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"MZ\x90\x00 not a photo", "photo.jpg"),  # an executable named .jpg
        (b"<html><script>alert(1)</script>", "report.pdf"),
        (b"\xff\xd8\xff\xe0 truncated jpeg", "broken.jpg"),  # JPEG magic, but no image
        (b"", "empty.png"),
        (b"GIF89a......", "anim.gif"),
    ],
)
def test_anything_but_jpeg_png_or_pdf_is_refused(client: FlaskClient, login, data: bytes, name: str) -> None:
    case = hand_case("GD-BAD")
    login("supervisor")
    response = upload(client, case.id, data, name)
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(CaseAttachment)) == 0


def test_a_file_over_the_limit_is_refused_with_a_message(tmp_path, monkeypatch) -> None:
    from tests.conftest import fresh_schema, make_app

    app = make_app(tmp_path, monkeypatch, ATTACHMENT_MAX_MB=1)
    with app.app_context():
        fresh_schema(app)
        case = hand_case("GD-BIG")
        from callback.users import create_user

        create_user(db.session, "big", "supervisor", PASSWORD, now=NOW)
        db.session.commit()
        client = app.test_client()
        client.post("/login", data={"username": "big", "password": PASSWORD})
        client.post("/language/en", data={"next": "/"})
        # Encoded in memory: the test client would spool a body this large to a temporary file that the
        # view, refusing it unread, never closes.
        big = FileStorage(io.BytesIO(PDF + b"0" * (1024 * 1024)), filename="big.pdf")
        boundary, body = encode_multipart({"file": big})
        response = client.post(
            f"/cases/{case.id}/attachments",
            data=body,
            content_type=f"multipart/form-data; boundary={boundary}",
        )
        assert response.status_code == 302
        shown = client.get(response.headers["Location"]).text
        assert "larger than 1 MB" in shown
        assert db.session.scalar(select(func.count()).select_from(CaseAttachment)) == 0
        db.session.remove()
        db.engine.dispose()


def test_attachments_follow_the_case_roles(client: FlaskClient, login, make_user) -> None:
    referred = hand_case("GD-R")
    hidden = hand_case("GD-H")
    refer_to_discipline(db.session, referred.id, note=None, now=NOW, actor=SYSTEM)
    db.session.commit()
    login("supervisor")
    upload(client, referred.id, PDF, "r.pdf")
    upload(client, hidden.id, PDF, "h.pdf")
    on_referred, on_hidden = db.session.scalars(select(CaseAttachment).order_by(CaseAttachment.id)).all()
    client.post("/logout")

    login("discipline")
    assert fetch(client, f"/cases/{referred.id}/attachments/{on_referred.id}").status_code == 200
    assert client.get(f"/cases/{hidden.id}/attachments/{on_hidden.id}").status_code == 404
    # An attachment is only found under its own case.
    assert client.get(f"/cases/{referred.id}/attachments/{on_hidden.id}").status_code == 404
    assert upload(client, referred.id, photo(), "site.jpg").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(CaseAttachment)) == 3
    client.post("/logout")

    login("operator")
    assert client.get(f"/cases/{referred.id}/attachments/{on_referred.id}").status_code == 403
    assert client.get(f"/cases/{referred.id}/attachments/99999").status_code == 403
    client.post("/logout")
    assert (
        client.get(f"/cases/{referred.id}/attachments/{on_referred.id}").status_code == 302
    )  # sign in first


def test_the_case_list_and_page_stay_up_with_odd_input(client: FlaskClient, login) -> None:
    case = hand_case("GD-ODD")
    login("supervisor")
    for path in (
        "/cases/?q=%00",
        "/cases/?active=maybe&sort=due_at&dir=desc&page=-3",
        f"/cases/{case.id}/attachments/abc",
        f"/cases/{case.id}/attachments/1/thumbnail",
        "/cases/filters/1/delete",
    ):
        assert client.get(path).status_code < 500, path
    assert client.post("/cases/filters/999/delete").status_code == 404
    assert db.session.get(SupervisionCase, case.id) is not None
    store_order("GD-EXTRA")
