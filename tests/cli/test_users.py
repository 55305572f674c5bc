"""create-user and create-token as an administrator uses them."""

from sqlalchemy import select

from callback.extensions import db
from callback.models import ApiToken, User, hash_token


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
