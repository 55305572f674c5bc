"""create-user and create-token as an administrator uses them."""

from sqlalchemy import select

from callback.extensions import db
from callback.models import ApiToken, AuditEvent, User, hash_token


def test_create_user_reads_the_password_from_stdin_and_stores_only_a_hash(runner, client):
    result = runner.invoke(
        args=["create-user", "lin", "--role", "supervisor", "--password-stdin"], input="s3cret-password\n"
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalars(select(User)).one()
    assert user.role == "supervisor"
    assert "s3cret-password" not in (user.password_hash or "")
    response = client.post("/login", data={"username": "lin", "password": "s3cret-password"})
    assert response.status_code == 302


def test_create_user_refuses_a_duplicate_an_unknown_role_and_a_short_password(runner):
    ok = runner.invoke(
        args=["create-user", "lin", "--role", "operator", "--password-stdin"], input="long-enough\n"
    )
    assert ok.exit_code == 0
    duplicate = runner.invoke(
        args=["create-user", "lin", "--role", "operator", "--password-stdin"], input="x" * 9
    )
    assert duplicate.exit_code != 0
    assert "already exists" in duplicate.output
    unknown = runner.invoke(
        args=["create-user", "wu", "--role", "boss", "--password-stdin"], input="long-enough\n"
    )
    assert unknown.exit_code == 2
    short = runner.invoke(
        args=["create-user", "wu", "--role", "operator", "--password-stdin"], input="short\n"
    )
    assert short.exit_code != 0
    assert "at least 8" in short.output
    assert db.session.scalar(select(User.username).where(User.username == "wu")) is None


def test_create_token_prints_a_token_once_that_works_and_stores_its_hash(runner, client):
    runner.invoke(
        args=["create-user", "crm", "--role", "integration", "--password-stdin"], input="long-enough\n"
    )
    result = runner.invoke(args=["create-token", "--user", "crm"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    stored = db.session.scalars(select(ApiToken)).one()
    assert stored.token_hash == hash_token(token)
    assert token not in stored.token_hash
    response = client.get("/api/v1/work-orders/NONE", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404  # authenticated, simply no such order


def test_create_token_for_an_unknown_user_fails_clearly(runner):
    result = runner.invoke(args=["create-token", "--user", "ghost"])
    assert result.exit_code == 1
    assert "no user named 'ghost'" in result.output


LONG_ENOUGH = "long-enough"


def _make(runner, name: str, role: str, password: str = LONG_ENOUGH) -> None:
    result = runner.invoke(
        args=["create-user", name, "--role", role, "--password-stdin"], input=password + "\n"
    )
    assert result.exit_code == 0, result.output


def _user(name: str) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == name))


def test_deactivate_user_stops_sign_in_and_tokens_and_keeps_the_last_admin(runner, client):
    _make(runner, "boss", "admin")
    _make(runner, "crm", "integration")
    token = runner.invoke(args=["create-token", "--user", "crm"]).output.strip()
    result = runner.invoke(args=["deactivate-user", "crm"])
    assert result.exit_code == 0, result.output
    assert "deactivated crm" in result.output
    assert not _user("crm").active
    response = client.get("/api/v1/work-orders/X", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    last = runner.invoke(args=["deactivate-user", "boss"])
    assert last.exit_code == 1
    assert "last active admin" in last.output
    assert _user("boss").active
    assert runner.invoke(args=["deactivate-user", "ghost"]).exit_code == 1


def test_set_password_reads_stdin_and_the_new_password_signs_in(runner, client):
    _make(runner, "wang", "operator")
    short = runner.invoke(args=["set-password", "wang", "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "at least 8" in short.output
    result = runner.invoke(args=["set-password", "wang", "--password-stdin"], input="another-password\n")
    assert result.exit_code == 0, result.output
    assert "another-password" not in result.output
    assert client.post("/login", data={"username": "wang", "password": "long-enough"}).status_code == 200
    assert client.post("/login", data={"username": "wang", "password": "another-password"}).status_code == 302
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.password_set")).all()
    assert len(events) == 1 and events[0].source == "cli"
    assert "another-password" not in repr(events[0].details)


def test_set_role_changes_the_role_and_refuses_unknown_roles_and_the_last_admin(runner):
    _make(runner, "boss", "admin")
    _make(runner, "wang", "operator")
    result = runner.invoke(args=["set-role", "wang", "supervisor"])
    assert result.exit_code == 0 and "wang is now supervisor" in result.output
    assert _user("wang").role == "supervisor"
    assert runner.invoke(args=["set-role", "wang", "king"]).exit_code == 2
    demote = runner.invoke(args=["set-role", "boss", "operator"])
    assert demote.exit_code == 1 and "last active admin" in demote.output
    assert runner.invoke(args=["set-role", "wang", "admin"]).exit_code == 0
    assert runner.invoke(args=["set-role", "boss", "operator"]).exit_code == 0


def test_revoke_token_revokes_one_or_all_of_a_users_tokens(runner, client):
    _make(runner, "crm", "integration")
    _make(runner, "other", "integration")
    tokens = [runner.invoke(args=["create-token", "--user", "crm"]).output.strip() for _ in range(3)]
    other = runner.invoke(args=["create-token", "--user", "other"]).output.strip()
    ids = [row.id for row in db.session.scalars(select(ApiToken).order_by(ApiToken.id))]

    def works(token: str) -> bool:
        response = client.get("/api/v1/work-orders/X", headers={"Authorization": f"Bearer {token}"})
        return response.status_code == 404

    one = runner.invoke(args=["revoke-token", "--user", "crm", "--id", str(ids[0])])
    assert one.exit_code == 0, one.output
    assert [works(token) for token in tokens] == [False, True, True]
    foreign = runner.invoke(args=["revoke-token", "--user", "crm", "--id", str(ids[3])])
    assert foreign.exit_code == 1 and "has no token" in foreign.output
    assert works(other)
    every = runner.invoke(args=["revoke-token", "--user", "crm"])
    assert every.exit_code == 0 and f"{ids[1]}, {ids[2]}" in every.output
    assert not any(works(token) for token in tokens)
    assert works(other)
    again = runner.invoke(args=["revoke-token", "--user", "crm"])
    assert again.exit_code == 0 and "no live token" in again.output
    assert runner.invoke(args=["revoke-token", "--user", "crm", "--id", "99999999999"]).exit_code == 2
