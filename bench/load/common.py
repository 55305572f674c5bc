"""What the seed and the locustfile agree on: user names, the password, the shape of an order."""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

PASSWORD = "load-test-password-1"
SHANGHAI = ZoneInfo("Asia/Shanghai")
CENTRES = ("城关供电服务中心", "城东供电服务中心", "城西供电服务中心", "开发区供电服务中心")


def operator_name(number: int) -> str:
    return f"load-op{number:03d}"


def supervisor_name(number: int) -> str:
    return f"load-sup{number}"


def order_payload(
    order_no: str, index: int, accepted: datetime, *, connected: bool = False
) -> dict[str, Any]:
    """Return an API work order; `accepted` is an aware or UTC datetime, sent as Beijing wall time."""
    local = accepted.replace(tzinfo=accepted.tzinfo or ZoneInfo("UTC")).astimezone(SHANGHAI)
    payload: dict[str, Any] = {
        "order_no": order_no,
        "customer_name": f"负荷测试客户{index}",
        "customer_phone": f"139{index % 100_000_000:08d}",
        "address": f"城关镇人民路 {index % 500 + 1} 号",
        "customer_type": "small_micro" if index % 4 else "residential",
        "service_center": CENTRES[index % len(CENTRES)],
        "account_manager": "王磊",
        "has_engineering": False,
        "ledger": None,
        "status": "accepted",
        "accepted_at": local.strftime("%Y-%m-%dT%H:%M:%S"),
        "due_at": (local + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%S"),
    }
    if connected:
        payload["status"] = "connected"
        payload["connected_at"] = (local + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S")
    return payload
