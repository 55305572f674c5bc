"""Reading exports: encodings, Excel cells, Chinese headers and labels, row numbers, unreadable files."""

import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from callback.intake.files import ImportFileError, SourceRow, open_order_file
from callback.intake.validation import ValidOrder, validate_order
from tests.factories import order_payload
from tests.intake.exports import CHINESE_HEADER, chinese_row, write_csv, write_xlsx

API_HEADER = list(order_payload().keys())


def read_all(path: Path, chunk_rows: int = 1000) -> list[SourceRow]:
    with open_order_file(path, chunk_rows) as order_file:
        return [row for chunk in order_file.chunks() for row in chunk]


def import_error(path: Path) -> str:
    with pytest.raises(ImportFileError) as raised:
        open_order_file(path)
    return str(raised.value)


def test_gb18030_csv_with_chinese_headers_and_labels_gives_api_values(tmp_path):
    rows = [
        chinese_row("GD-1"),
        chinese_row(
            "GD-2",
            客户类别="居民",
            是否有工程="是",
            台账="先接入后改造",
            状态="装表接电",
            勘查时间="2022/3/2 10:00",
            施工时间="2022/3/3 10:00",
            接电时间="2022/3/4 16:30",
        ),
    ]
    path = write_csv(tmp_path / "orders.csv", rows, encoding="gb18030")

    read = read_all(path)

    assert [row.number for row in read] == [2, 3]
    first, second = (row.raw for row in read)
    assert first["customer_name"] == "宏达五金店"
    assert first["customer_type"] == "small_micro"
    assert first["has_engineering"] is False
    assert first["ledger"] is None
    assert first["status"] == "accepted"
    assert second["customer_type"] == "residential"
    assert second["has_engineering"] is True
    assert second["ledger"] == "connect_first"
    assert second["status"] == "connected"
    assert second["connected_at"] == "2022/3/4 16:30"  # text dates are validate_order's to parse


def test_utf8_with_bom_and_api_headers_is_read_as_the_api_sends_it(tmp_path):
    payload = order_payload("GD-7", ledger="in_transit", has_engineering="true")
    path = write_csv(tmp_path / "orders.csv", [payload], header=API_HEADER, encoding="utf-8-sig")

    (row,) = read_all(path)

    assert row.number == 2
    assert row.raw["order_no"] == "GD-7"  # not "\ufefforder_no": the BOM is no part of the header
    assert row.raw["has_engineering"] is True
    assert isinstance(validate_order(row.raw, _tz(), datetime.now(_tz())), ValidOrder)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("是", True), ("否", False), ("Y", True), ("n", False), ("1", True), ("FALSE", False), ("有", "有")],
)
def test_engineering_flag_accepts_common_spellings_and_passes_others_to_validation(tmp_path, cell, expected):
    path = write_csv(tmp_path / "o.csv", [chinese_row("GD-1", 是否有工程=cell)], encoding="utf-8")

    (row,) = read_all(path)

    assert row.raw["has_engineering"] == expected


def test_unknown_labels_pass_through_so_validation_names_the_field(tmp_path):
    path = write_csv(
        tmp_path / "o.csv", [chinese_row("GD-1", 客户类别="大客户", 状态="送电")], encoding="utf-8"
    )

    (row,) = read_all(path)
    errors = validate_order(row.raw, _tz(), datetime.now(_tz()))

    assert row.raw["customer_type"] == "大客户"
    assert isinstance(errors, list)
    assert {error.field for error in errors} == {"customer_type", "status"}


def test_xlsx_date_cells_and_numeric_phones_after_a_title_row(tmp_path):
    accepted = datetime(2022, 3, 1, 9, 30)
    rows = [
        chinese_row("GD-1", 联系电话=13800138000, 受理时间=accepted, 到期时间=datetime(2022, 3, 11)),
        {},  # an empty row in the middle keeps its number and is skipped
        chinese_row("GD-2", 联系电话=13900139000.0, 受理时间=accepted, 到期时间=datetime(2022, 3, 11)),
    ]
    path = write_xlsx(tmp_path / "orders.xlsx", rows, title="2022年业扩工单")

    read = read_all(path)

    assert [row.number for row in read] == [3, 5]  # title = row 1, header = row 2, as Excel shows them
    assert [row.raw["customer_phone"] for row in read] == ["13800138000", "13900139000"]
    assert read[0].raw["accepted_at"] == accepted
    valid = validate_order(read[0].raw, _tz(), datetime.now(_tz()))
    assert isinstance(valid, ValidOrder)
    assert valid.values["accepted_at"].isoformat() == "2022-03-01T09:30:00+08:00"


def test_xlsx_is_read_whatever_the_file_is_named(tmp_path):
    path = write_xlsx(tmp_path / "orders.xlsx", [chinese_row("GD-1")])

    (row,) = read_all(path.rename(tmp_path / "export-from-mail"))

    assert row.raw["order_no"] == "GD-1"


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_rows_come_in_chunks_of_the_size_asked(tmp_path, kind):
    rows = [chinese_row(f"GD-{n}") for n in range(5)]
    if kind == "csv":
        path = write_csv(tmp_path / "o.csv", rows, encoding="utf-8")
    else:
        path = write_xlsx(tmp_path / "o.xlsx", rows)

    with open_order_file(path, chunk_rows=2) as order_file:
        chunks = [[row.raw["order_no"] for row in chunk] for chunk in order_file.chunks()]

    assert max(len(chunk) for chunk in chunks) == 2
    assert [order_no for chunk in chunks for order_no in chunk] == [f"GD-{n}" for n in range(5)]


def test_csv_row_numbers_count_records_as_excel_does(tmp_path):
    rows = [chinese_row("GD-1", 客户名称="宏达\n五金店"), {}, chinese_row("GD-2", 客户名称="李四")]
    path = write_csv(tmp_path / "o.csv", rows, encoding="utf-8")
    empty_record = "," * (len(CHINESE_HEADER) - 1) + "\n"
    text = path.read_text()
    assert empty_record in text
    path.write_text(text.replace(empty_record, "\n"))  # a truly blank line

    read = read_all(path)

    assert [(row.number, row.raw["order_no"], row.raw["customer_name"]) for row in read] == [
        (2, "GD-1", "宏达\n五金店"),
        (4, "GD-2", "李四"),
    ]


def test_a_csv_row_with_more_cells_than_the_header_is_flagged_not_fatal(tmp_path):
    path = write_csv(tmp_path / "o.csv", [chinese_row("GD-1"), chinese_row("GD-2")], encoding="utf-8")
    first_line, *others = path.read_text().split("\n")
    path.write_text("\n".join([first_line, others[0] + ",3楼", *others[1:]]))

    first, second = read_all(path)

    assert "has 16 cells but the header has 15" in str(first.problems[0].message)
    assert first.cells[-1] == "3楼"
    assert second.problems == ()


def test_a_file_without_a_required_column_is_refused_naming_it(tmp_path):
    header = [column for column in CHINESE_HEADER if column != "联系电话"]
    path = write_csv(tmp_path / "o.csv", [chinese_row("GD-1")], header=header, encoding="utf-8")

    assert "联系电话 (customer_phone)" in import_error(path)


def test_alternative_headers_are_accepted_but_not_twice(tmp_path):
    header = [{"到期时间": "线内到期日", "接电时间": "装表接电时间"}.get(c, c) for c in CHINESE_HEADER]
    row = {{"到期时间": "线内到期日"}.get(k, k): v for k, v in chinese_row("GD-1").items()}
    path = write_csv(tmp_path / "o.csv", [row], header=header, encoding="utf-8")
    (read,) = read_all(path)
    assert read.raw["due_at"] == row["线内到期日"]

    doubled = write_csv(tmp_path / "d.csv", [row], header=[*header, "到期时间"], encoding="utf-8")
    assert "线内到期日 and 到期时间 both give due_at" in import_error(doubled)


def test_headers_are_recognised_through_spaces_line_breaks_and_required_marks(tmp_path):
    header = ["*工单编号", "客户\n名称", *CHINESE_HEADER[2:4], " 客户类别 ", *CHINESE_HEADER[5:]]
    row = dict(zip(header, chinese_row("GD-1").values(), strict=True))
    path = write_csv(tmp_path / "o.csv", [row], header=header, encoding="utf-8")

    with open_order_file(path) as order_file:
        (chunk,) = order_file.chunks()

    assert chunk[0].raw["order_no"] == "GD-1"
    assert chunk[0].raw["customer_type"] == "small_micro"
    assert order_file.label_of("customer_name") == "客户\n名称"


def test_unreadable_files_are_refused_with_a_reason(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    no_header = tmp_path / "numbers.csv"
    no_header.write_text("1,2,3\n4,5,6\n")
    binary = tmp_path / "photo.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    old_excel = tmp_path / "orders.xls"
    old_excel.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    whole = write_xlsx(tmp_path / "whole.xlsx", [chinese_row(f"GD-{n}") for n in range(50)])
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(whole.read_bytes()[:-200])
    open_quote = write_csv(
        tmp_path / "quote.csv", [chinese_row("GD-1"), chinese_row("GD-2")], encoding="utf-8"
    )
    open_quote.write_text(open_quote.read_text().replace("GD-2", '"GD-2'))
    not_a_workbook = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(not_a_workbook, "w") as archive:
        archive.writestr("readme.txt", "hello")

    assert "empty" in import_error(empty)
    assert "No header row" in import_error(no_header)
    assert "neither UTF-8 nor GB18030" in import_error(binary)
    assert ".xls" in import_error(old_excel)
    assert "damaged" in import_error(truncated)
    assert "not a readable CSV (line 3)" in import_error(open_quote)
    assert "not a readable XLSX" in import_error(not_a_workbook)
    assert "Cannot open" in import_error(tmp_path / "missing.csv")


def test_a_workbook_saved_by_excel_with_formatting_openpyxl_drops_still_reads(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(CHINESE_HEADER)
    sheet.append([chinese_row("GD-1")[column] for column in CHINESE_HEADER])
    workbook.save(tmp_path / "plain.xlsx")
    # Excel writes extensions openpyxl cannot keep (it warns, UserWarning); the values are what count.
    styled = tmp_path / "styled.xlsx"
    with zipfile.ZipFile(tmp_path / "plain.xlsx") as source, zipfile.ZipFile(styled, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(
                    b"</worksheet>",
                    b'<extLst><ext uri="{78C0D931-6437-407d-A8EE-F0AAD7539E65}"></ext></extLst></worksheet>',
                )
            target.writestr(item, data)

    (row,) = read_all(styled)

    assert row.raw["order_no"] == "GD-1"


def _tz():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Shanghai")
