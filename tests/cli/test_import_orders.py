"""flask import-orders FILE [--dry-run] [--errors OUT.csv], as a supervisor runs it (contract 3 and 5)."""

from flask_babel import force_locale
from sqlalchemy import func, select

from callback.extensions import db
from callback.models import AuditEvent, CallbackTask, WorkOrder
from tests.intake.exports import (
    CHINESE_HEADER,
    chinese_row,
    local_days_ago,
    read_csv_rows,
    slash_text,
    write_csv,
    write_xlsx,
)


def import_orders(runner, *args):
    with force_locale("en"):  # the assertions read the English messages, whatever catalog exists
        return runner.invoke(args=["import-orders", *map(str, args)])


def stored_order_nos() -> list[str]:
    return sorted(db.session.scalars(select(WorkOrder.order_no)))


def task_count() -> int:
    return db.session.scalar(select(func.count()).select_from(CallbackTask)) or 0


def counts(output: str) -> dict[str, int]:
    lines = dict(line.split(": ", 1) for line in output.splitlines() if ": " in line)
    return {key: int(lines[key]) for key in ("created", "updated", "unchanged", "stale", "rejected")}


def broken_file(tmp_path, name="orders.csv"):
    """Rows 2 and 7 are fine; rows 3 to 6 each carry a mistake, in a GB18030 file from Excel."""
    surveyed = local_days_ago(2)
    rows = [
        chinese_row("GD-1"),
        chinese_row("GD-2", 联系电话="1380013800"),
        chinese_row("GD-3", 客户名称=""),
        chinese_row("GD-4", 状态="已接电", 勘查时间=slash_text(surveyed)),
        chinese_row(
            "GD-5",
            状态="施工",
            勘查时间=slash_text(surveyed),
            施工时间=slash_text(surveyed.replace(hour=8)),
        ),
        chinese_row("GD-6"),
    ]
    return rows, write_csv(tmp_path / name, rows, encoding="gb18030")


def test_broken_rows_are_named_with_row_and_column_and_the_rest_imported(runner, tmp_path):
    _, path = broken_file(tmp_path)

    result = import_orders(runner, path)

    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert "row 3 (GD-2): 联系电话: must be a mainland mobile number" in "\n".join(lines)
    assert "row 4 (GD-3): 客户名称: is required" in lines
    assert "row 5 (GD-4): 接电时间: is required when status is connected" in lines
    assert "row 6 (GD-5): 施工时间: must not be before surveyed_at" in lines
    assert counts(result.output) == {"created": 2, "updated": 0, "unchanged": 0, "stale": 0, "rejected": 4}
    assert stored_order_nos() == ["GD-1", "GD-6"]
    sources = set(db.session.scalars(select(AuditEvent.source)))
    assert sources == {"import:orders.csv"}


def test_after_fixing_the_rows_they_are_created_and_the_others_unchanged(runner, tmp_path):
    rows, path = broken_file(tmp_path)
    import_orders(runner, path)
    rows[1]["联系电话"] = "0571-87654321"
    rows[2]["客户名称"] = "李记面馆"
    rows[3]["接电时间"] = slash_text(local_days_ago(1))
    rows[4]["施工时间"] = slash_text(local_days_ago(1))
    write_csv(path, rows, encoding="gb18030")

    result = import_orders(runner, path)

    assert result.exit_code == 0, result.output
    assert counts(result.output) == {"created": 4, "updated": 0, "unchanged": 2, "stale": 0, "rejected": 0}
    assert "row " not in result.output
    assert stored_order_nos() == [f"GD-{n}" for n in range(1, 7)]


def test_importing_the_same_file_again_changes_nothing_and_makes_no_tasks(runner, tmp_path):
    path = write_csv(
        tmp_path / "orders.csv", [chinese_row(f"GD-{n}") for n in range(4)], encoding="utf-8-sig"
    )
    first = import_orders(runner, path)
    tasks = task_count()

    again = import_orders(runner, path)

    assert first.exit_code == again.exit_code == 0
    assert "callback tasks created: 4" in first.output
    assert counts(again.output)["unchanged"] == 4
    assert "callback tasks created: 0" in again.output
    assert task_count() == tasks == 4


def test_dry_run_reports_the_same_but_writes_nothing(runner, tmp_path):
    _, path = broken_file(tmp_path)

    result = import_orders(runner, path, "--dry-run")

    assert result.exit_code == 1
    assert counts(result.output)["created"] == 2
    assert "row 3 (GD-2)" in result.output
    assert "Dry run: nothing was written." in result.output
    assert stored_order_nos() == []
    assert task_count() == 0


def test_errors_csv_holds_each_rejected_row_with_reasons_and_its_cells_for_excel(runner, tmp_path):
    rows, path = broken_file(tmp_path)
    errors_csv = tmp_path / "errors.csv"

    import_orders(runner, path, "--errors", errors_csv)

    assert errors_csv.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel shows the Chinese
    header, *lines = read_csv_rows(errors_csv)
    assert header == ["row", "reasons", *CHINESE_HEADER]
    assert [line[0] for line in lines] == ["3", "4", "5", "6"]
    assert lines[0][1].startswith("联系电话: must be a mainland mobile number")
    assert lines[0][2:] == [rows[1][column] for column in CHINESE_HEADER]


def test_errors_csv_once_corrected_imports_as_it_is(runner, tmp_path):
    _, path = broken_file(tmp_path)
    errors_csv = tmp_path / "errors.csv"
    import_orders(runner, path, "--errors", errors_csv)
    header, *lines = read_csv_rows(errors_csv)
    phone = header.index("联系电话")
    lines[0][phone] = "13800138001"
    fixed = write_csv(
        tmp_path / "fixed.csv",
        [dict(zip(header, line, strict=True)) for line in lines[:1]],
        header=header,
        encoding="utf-8-sig",
    )

    result = import_orders(runner, fixed)

    assert result.exit_code == 0, result.output
    assert "GD-2" in stored_order_nos()


def test_xlsx_with_excel_dates_and_numeric_phones(runner, tmp_path):
    accepted = local_days_ago(4)
    rows = [
        chinese_row(
            f"GD-{n}", 联系电话=13800138000 + n, 受理时间=accepted, 到期时间=accepted.replace(hour=17)
        )
        for n in range(3)
    ]

    result = import_orders(runner, write_xlsx(tmp_path / "orders.xlsx", rows))

    assert result.exit_code == 0, result.output
    assert counts(result.output)["created"] == 3
    assert db.session.scalar(select(WorkOrder.customer_phone).where(WorkOrder.order_no == "GD-2")) == (
        "+8613800138002"
    )


def test_a_file_that_cannot_be_read_imports_nothing_and_exits_2(runner, tmp_path):
    header = ",".join(column for column in CHINESE_HEADER if column != "状态")
    path = tmp_path / "orders.csv"
    path.write_text(f"{header}\nGD-1,宏达五金店\n", encoding="utf-8")
    errors_csv = tmp_path / "errors.csv"

    missing_column = import_orders(runner, path, "--errors", errors_csv)
    missing_file = import_orders(runner, tmp_path / "nothing-here.xlsx")

    assert missing_column.exit_code == 2
    assert "Cannot import" in missing_column.output
    assert "状态 (status)" in missing_column.output
    assert "Nothing was imported." in missing_column.output
    assert missing_file.exit_code == 2
    assert stored_order_nos() == []
    assert not errors_csv.exists()
