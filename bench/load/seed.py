"""Seed a fresh load-test database: operators, supervisors, an integration account with a token, open orders.

Run by `bench/load/run_load.py` after `flask db upgrade`, with the same CALLBACK_* environment as the servers.
Prints one JSON line: the password, the token and the user names the locustfile signs in with.
"""

import argparse
import json
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from common import PASSWORD, operator_name, order_payload, supervisor_name

from callback import create_app
from callback.audit import Actor
from callback.clock import utcnow
from callback.extensions import db
from callback.intake.service import upsert_orders
from callback.intake.validation import ValidOrder, validate_order
from callback.settings import current_settings
from callback.users import create_api_token, create_user

CHUNK = 1000


def seed(orders: int, operators: int, supervisors: int) -> dict[str, object]:
    app = create_app()
    with app.app_context():
        settings = current_settings()
        now = utcnow()
        for number in range(1, operators + 1):
            create_user(db.session, operator_name(number), "operator", PASSWORD, now=now)
        for number in range(1, supervisors + 1):
            create_user(db.session, supervisor_name(number), "supervisor", PASSWORD, now=now)
        integration = create_user(db.session, "load-integration", "integration", None, now=now)
        token = create_api_token(db.session, integration, now=now)
        db.session.commit()
        # Accepted yesterday (local), so the operators' answer "applied on" that day raises no finding.
        accepted = now - timedelta(days=1)
        actor = Actor(source="load-seed")
        for start in range(0, orders, CHUNK):
            valid: list[ValidOrder] = []
            for index in range(start, min(start + CHUNK, orders)):
                # Two in three wait for an operator's intake callback; one in three is connected, so the
                # dialers have completion callbacks to place.
                payload = order_payload(f"LOAD-S{index:07d}", index, accepted, connected=index % 3 == 2)
                result = validate_order(payload, settings.tz, now)
                assert isinstance(result, ValidOrder), result
                valid.append(result)
            upsert_orders(db.session, valid, now=now, settings=settings, actor=actor)
            db.session.commit()
    return {"password": PASSWORD, "token": token, "operators": operators, "supervisors": supervisors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=20000)
    parser.add_argument("--operators", type=int, default=50)
    parser.add_argument("--supervisors", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(seed(args.orders, args.operators, args.supervisors)))


if __name__ == "__main__":
    main()
