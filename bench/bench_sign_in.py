"""What a failed sign-in costs for an unknown name, as a ratio to a known name with a wrong password.

The anchor is the time of a wrong password for a real user, through the login form (test client, SQLite,
the real password hashing). An unknown name checks a dummy hash made the same way, so the ratio stays near
1.00: response time does not tell which names exist. A page view of a signed-in user is printed too, as a
ratio to the same anchor (it costs no hashing: the server-side session is one indexed lookup).

    .venv/bin/python bench/bench_sign_in.py [--rounds 40]
"""

import argparse
import os
import statistics
import tempfile
import time

from callback import create_app
from callback.clock import utcnow
from callback.extensions import db
from callback.users import create_user

PASSWORD = "bench-password-1"  # noqa: S105  (a throwaway bench user)


def timed(calls, rounds: int) -> list[float]:
    """Return the median seconds of each call over `rounds` rounds, the calls interleaved so that a busy
    machine slows them alike."""
    samples: list[list[float]] = [[] for _ in calls]
    for round_number in range(rounds):
        order = list(enumerate(calls))
        if round_number % 2:
            order.reverse()  # neither call always goes first
        for index, call in order:
            start = time.perf_counter()
            call()
            samples[index].append(time.perf_counter() - start)
    return [statistics.median(each) for each in samples]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ["CALLBACK_INSTANCE_PATH"] = folder
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite",
                "WTF_CSRF_ENABLED": False,
                "SECRET_KEY": "bench",
                # Spread the failures over many names and a high address limit: the limits must not refuse.
                "LOGIN_MAX_FAILURES": 10**6,
                "LOGIN_MAX_FAILURES_PER_ADDRESS": 10**6,
            }
        )
        with app.app_context():
            db.create_all()
            create_user(db.session, "known", "operator", PASSWORD, now=utcnow())
            db.session.commit()
        client = app.test_client()

        def known_wrong() -> None:
            assert client.post("/login", data={"username": "known", "password": "wrong"}).status_code == 200

        def unknown() -> None:
            assert client.post("/login", data={"username": "nobody", "password": "wrong"}).status_code == 200

        known_wrong(), unknown()  # warm up (the dummy hash is made on first use)
        signed_in = app.test_client()
        signed_in.post("/login", data={"username": "known", "password": PASSWORD})
        anchor, stranger, page = timed(
            [known_wrong, unknown, lambda: signed_in.get("/account/password")], args.rounds
        )

    print(f"anchor: wrong password for a known name, median {anchor * 1000:.1f} ms")
    print(f"unknown name / known name time ratio: {stranger / anchor:.2f}")
    print(f"signed-in page view / known name time ratio: {page / anchor:.2f}")


if __name__ == "__main__":
    main()
