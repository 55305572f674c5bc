"""Valid input to start from; each test changes only what it is about."""

from typing import Any


def order_payload(order_no: str = "GD-2026-0001", **overrides: Any) -> dict[str, Any]:
    """Return a valid API work order, accepted on a working day, as the marketing system sends it."""
    payload: dict[str, Any] = {
        "order_no": order_no,
        "customer_name": "宏达五金店",
        "customer_phone": "13800138000",
        "address": "城关镇人民路 12 号",
        "customer_type": "small_micro",
        "service_center": "城关供电服务中心",
        "account_manager": "王磊",
        "has_engineering": False,
        "ledger": None,
        "status": "accepted",
        "accepted_at": "2026-11-23T09:30:00",
        "due_at": "2026-12-03T17:00:00",
    }
    payload.update(overrides)
    return payload
