"""Importing a file: rows validated as API items, valid ones written a chunk at a time, rejects reported."""

from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from callback.audit import Actor
from callback.extensions import db
from callback.intake import importer
from callback.intake.files import ImportFileError
from callback.intake.importer import ImportReport, import_orders_file
from callback.models import CallbackTask, WorkOrder
from tests.intake.exports import chinese_row, local_days_ago, read_csv_rows, slash_text, write_csv, write_xlsx

ACTOR = Actor(source="import:orders.csv")


@pytest.fixture(autouse=True)
def english(app):
    """Read the messages in English, whatever catalog the app has."""
    with force_locale("en"):
        yield


def run_import(path, settings, **options) -> ImportReport:
    options.setdefault("dry_run", False)
    return import_orders_file(
        db.session, path, now=datetime.now(UTC), settings=settings, actor=ACTOR, **options
    )


def stored_orders() -> dict[str, WorkOrder]:
    return {order.order_no: order for order in db.session.scalars(select(WorkOrder))}


def task_count() -> int:
    return db.session.scalar(select(func.count()).select_from(CallbackTask)) or 0


def broken_and_good_rows() -> list[dict]:
    """Rows 2 and 7 are fine; rows 3 to 6 each have one mistake a person makes in Excel."""
    surveyed = local_days_ago(2)
    return [
        chinese_row("GD-1"),
        chinese_row("GD-2", 联系电话="1380013800"),
        chinese_row("GD-3", 客户名称=""),
        chinese_row("GD-4", 状态="已接电", 勘查时间=slash_text(surveyed)),
        chinese_row(
            "GD-5",
            状态="施工",
            勘查时间=slash_text(surveyed),
            施工时间=slash_text(surveyed - timedelta(hours=1)),
        ),
        chinese_row("GD-6"),
    ]


def test_new_orders_are_created_with_tasks_and_reimport_changes_nothing(app, settings, tmp_path):
    path = write_csv(tmp_path / "orders.csv", [chinese_row(f"GD-{n}") for n in range(3)], encoding="gb18030")

    first = run_import(path, settings)
    tasks_after_first = task_count()
    again = run_import(path, settings)

    assert first.counts == {"created": 3, "updated": 0, "unchanged": 0, "stale": 0, "rejected": 0}
    assert first.tasks_created == tasks_after_first == 3
    assert stored_orders()["GD-0"].customer_phone == "+8613800138000"
    assert again.counts["unchanged"] == 3
    assert again.tasks_created == 0
    assert task_count() == tasks_after_first


def test_broken_rows_are_rejected_by_row_and_field_and_the_others_written(app, settings, tmp_path):
    path = write_csv(tmp_path / "orders.csv", broken_and_good_rows(), encoding="utf-8-sig")

    report = run_import(path, settings)

    assert report.counts["created"] == 2
    assert report.counts["rejected"] == 4
    assert sorted(stored_orders()) == ["GD-1", "GD-6"]
    rejected = [(row.row_number, row.order_no, [e.field for e in row.errors]) for row in report.rejected_rows]
    assert rejected == [
        (3, "GD-2", ["customer_phone"]),
        (4, "GD-3", ["customer_name"]),
        (5, "GD-4", ["connected_at"]),
        (6, "GD-5", ["construction_at"]),
    ]
    # Reasons name the columns as the file does.
    assert report.reasons(report.rejected_rows[0].errors).startswith("联系电话: must be a mainland mobile")


def test_corrected_rows_are_created_and_the_others_unchanged(app, settings, tmp_path):
    rows = broken_and_good_rows()
    run_import(write_csv(tmp_path / "orders.csv", rows, encoding="utf-8-sig"), settings)
    rows[1]["联系电话"] = "13800138001"
    rows[2]["客户名称"] = "李记面馆"
    rows[3]["接电时间"] = slash_text(local_days_ago(1))
    rows[4]["施工时间"] = slash_text(local_days_ago(1))

    report = run_import(write_csv(tmp_path / "fixed.csv", rows, encoding="utf-8-sig"), settings)

    assert report.counts == {"created": 4, "updated": 0, "unchanged": 2, "stale": 0, "rejected": 0}
    assert stored_orders()["GD-4"].status == "connected"


def test_dry_run_counts_every_row_but_writes_nothing(app, settings, tmp_path):
    path = write_csv(tmp_path / "orders.csv", broken_and_good_rows(), encoding="utf-8")

    report = run_import(path, settings, dry_run=True, chunk_rows=2)

    assert report.counts["created"] == 2
    assert report.counts["rejected"] == 4
    assert stored_orders() == {}
    assert task_count() == 0


def test_excel_text_dates_are_read_in_the_configured_time_zone(app, settings, tmp_path):
    row = chinese_row("GD-1", 受理时间="2022/3/1 9:30", 到期时间="2022-03-11")

    run_import(write_csv(tmp_path / "orders.csv", [row], encoding="utf-8"), settings)

    order = stored_orders()["GD-1"]
    assert order.accepted_at == datetime(2022, 3, 1, 1, 30, tzinfo=UTC)  # 09:30 in Asia/Shanghai
    assert order.due_at == datetime(2022, 3, 10, 16, 0, tzinfo=UTC)
    assert order.tasks == []  # nobody is called about an order accepted years ago


def test_xlsx_with_date_cells_and_numeric_phones_is_imported(app, settings, tmp_path):
    accepted = local_days_ago(5)
    rows = [
        chinese_row(
            "GD-1",
            联系电话=13800138000,
            受理时间=accepted,
            到期时间=accepted + timedelta(days=10),
            状态="接电",
            接电时间=accepted + timedelta(days=2),
        ),
        chinese_row(
            "GD-2", 联系电话=13900139000.0, 受理时间=accepted, 到期时间=accepted + timedelta(days=10)
        ),
    ]

    report = run_import(write_xlsx(tmp_path / "orders.xlsx", rows, title="业扩工单"), settings)

    assert report.counts["created"] == 2
    orders = stored_orders()
    assert orders["GD-1"].connected_at == (accepted + timedelta(days=2, hours=-8)).replace(tzinfo=UTC)
    assert orders["GD-2"].customer_phone == "+8613900139000"
    assert sorted(task.kind for task in orders["GD-1"].tasks) == ["completion", "intake"]


def test_an_older_version_later_in_the_file_is_stale(app, settings, tmp_path):
    newer = chinese_row("GD-1", 客户经理="李娜")
    older = chinese_row("GD-1", 客户经理="王磊")
    header = [*newer, "更新时间"]
    newer["更新时间"] = "2026-01-02 10:00"
    older["更新时间"] = "2026-01-02 09:00"

    report = run_import(
        write_csv(tmp_path / "o.csv", [newer, older], header=header, encoding="utf-8"), settings
    )

    assert report.counts["created"] == 1
    assert report.counts["stale"] == 1
    assert stored_orders()["GD-1"].account_manager == "李娜"


def test_every_rejected_row_reaches_the_errors_csv_beyond_the_kept_details(
    app, settings, tmp_path, monkeypatch
):
    monkeypatch.setattr(importer, "DETAIL_LIMIT", 2)
    rows = [chinese_row(f"GD-{n}", 联系电话="12345") for n in range(5)]
    errors_csv = tmp_path / "errors.csv"

    report = run_import(
        write_csv(tmp_path / "o.csv", rows, encoding="utf-8"), settings, errors_csv=errors_csv, chunk_rows=2
    )

    assert report.counts["rejected"] == 5
    assert len(report.rejected_rows) == 2
    assert report.rejected_rows_not_detailed == 3
    assert [line[0] for line in read_csv_rows(errors_csv)[1:]] == ["2", "3", "4", "5", "6"]


def test_progress_reports_rows_read_against_the_rows_in_the_file(app, settings, tmp_path):
    path = write_csv(tmp_path / "o.csv", [chinese_row(f"GD-{n}") for n in range(5)], encoding="utf-8")
    seen: list[tuple[int, int | None]] = []

    run_import(path, settings, chunk_rows=2, on_progress=lambda read, total: seen.append((read, total)))

    assert seen[-1] == (5, 5)
    assert [read for read, _ in seen] == sorted(read for read, _ in seen)


def test_an_unreadable_file_raises_before_anything_is_written(app, settings, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("工单编号,客户名称\nGD-1,宏达五金店\n", encoding="utf-8")

    with pytest.raises(ImportFileError):
        run_import(path, settings)

    assert stored_orders() == {}
