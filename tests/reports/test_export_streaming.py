"""XLSX exports stream: the same workbook as openpyxl writes, sent chunk by chunk as the rows are read."""

import io
from datetime import date, datetime
from decimal import Decimal

from openpyxl import load_workbook

from callback.reports.exports import Sheet, stream_workbook, write_workbook

ROWS = [
    ["GD-1", "宏达五金店", "=1+1", "  spaced  ", "", None, 3, 2.75, Decimal("200.50"), True],
    ["GD-2", "a < b & c > d", "-5", "tab\tinside", "x", 0, -1, 1e-7, Decimal(0), False],
    [
        datetime(2026, 11, 27, 9, 30, 15),
        date(2026, 11, 27),
        "@SUM(A1)",
        "'quoted",
        "行3",
        12345678901,
        0.1,
        None,
        None,
        None,
    ],
]
HEADER = ["工单编号", "客户名称", "公式", "空格", "空", "无", "整数", "小数", "金额", "布尔"]


def sheets(chunks_seen: list[int] | None = None) -> list[Sheet]:
    def chunks(rows, size):
        for start in range(0, len(rows), size):
            if chunks_seen is not None:
                chunks_seen.append(start)
            yield rows[start : start + size]

    return [
        Sheet("工单", HEADER, chunks(ROWS * 4, 5)),
        Sheet("A title longer than thirty-one characters", ["x"], chunks([[1], [2]], 1)),
    ]


def cells(workbook_bytes: bytes) -> list:
    workbook = load_workbook(io.BytesIO(workbook_bytes))
    return [
        (
            sheet.title,
            [[(cell.value, cell.number_format, cell.data_type) for cell in row] for row in sheet.iter_rows()],
        )
        for sheet in workbook.worksheets
    ]


def test_the_streamed_workbook_holds_exactly_what_openpyxl_writes():
    written = write_workbook(sheets())
    expected = cells(written.read())
    written.close()
    streamed = b"".join(stream_workbook(sheets()))
    assert cells(streamed) == expected
    first_sheet = expected[0][1]
    assert first_sheet[1][2][0] == "=1+1"  # a text cell (never a formula), with no apostrophe added
    assert first_sheet[3][0] == (datetime(2026, 11, 27, 9, 30, 15), "yyyy-mm-dd h:mm:ss", "d")


def test_bytes_leave_before_the_rows_are_all_read():
    seen: list[int] = []
    stream = stream_workbook(sheets(seen))
    sent = b""
    while not seen:
        sent += next(stream)
    assert sent.startswith(b"PK")  # the download has begun
    assert len(seen) == 2  # with the first chunk of each sheet read (it sizes the sheet's columns)
    sent += next(stream)
    assert len(seen) <= 3
    sent += b"".join(stream)
    assert len(seen) == 3 + 2
    assert len(cells(sent)[0][1]) == 1 + len(ROWS) * 4
