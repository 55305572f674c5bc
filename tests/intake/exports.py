"""Write order exports the way the utility's staff produce them, for the import tests."""

import csv
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook

CHINESE_HEADER = [
    "工单编号",
    "客户名称",
    "联系电话",
    "用电地址",
    "客户类别",
    "供电服务中心",
    "客户经理",
    "是否有工程",
    "台账",
    "状态",
    "受理时间",
    "到期时间",
    "勘查时间",
    "施工时间",
    "接电时间",
]


def local_days_ago(days: float, hour: int = 9, minute: int = 30) -> datetime:
    """Return a naive local (Asia/Shanghai) time some days back, so new orders still get callback tasks."""
    today = datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    return (today - timedelta(days=days)).replace(hour=hour, minute=minute, second=0, microsecond=0)


def slash_text(moment: datetime) -> str:
    """Render a time as Excel users type it: 2022/3/1 9:30."""
    return f"{moment.year}/{moment.month}/{moment.day} {moment.hour}:{moment.minute:02d}"


def chinese_row(order_no: str, **overrides: Any) -> dict[str, Any]:
    """Return one valid accepted order keyed by the Chinese headers, with text dates."""
    accepted = local_days_ago(3)
    row: dict[str, Any] = {
        "工单编号": order_no,
        "客户名称": "宏达五金店",
        "联系电话": "13800138000",
        "用电地址": "城关镇人民路 12 号",
        "客户类别": "小微企业",
        "供电服务中心": "城关供电服务中心",
        "客户经理": "王磊",
        "是否有工程": "否",
        "台账": "",
        "状态": "受理",
        "受理时间": slash_text(accepted),
        "到期时间": (accepted + timedelta(days=10)).strftime("%Y-%m-%d"),
        "勘查时间": "",
        "施工时间": "",
        "接电时间": "",
    }
    row.update(overrides)
    return row


def write_csv(
    path: Path, rows: Iterable[dict[str, Any]], *, header: Sequence[str] = CHINESE_HEADER, encoding: str
) -> Path:
    """Write rows as CSV in an encoding Excel produces (utf-8-sig, gb18030, utf-8)."""
    with path.open("w", encoding=encoding, newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows([row.get(column, "") for column in header] for row in rows)
    return path


def write_xlsx(
    path: Path,
    rows: Iterable[dict[str, Any]],
    *,
    header: Sequence[str] = CHINESE_HEADER,
    title: str | None = None,
) -> Path:
    """Write rows to the first sheet of a workbook; datetime values become real Excel date cells."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    if title is not None:
        sheet.append([title])
    sheet.append(list(header))
    for row in rows:
        sheet.append([row.get(column) if row.get(column) != "" else None for column in header])
    for cells in sheet.iter_rows():
        for cell in cells:
            if isinstance(cell.value, datetime):
                cell.number_format = "yyyy/m/d h:mm"
    workbook.save(path)
    return path


def read_csv_rows(path: Path, encoding: str = "utf-8-sig") -> list[list[str]]:
    """Read a CSV back as lists of cells."""
    with path.open(encoding=encoding, newline="") as file:
        return list(csv.reader(file))
