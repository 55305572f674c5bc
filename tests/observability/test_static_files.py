"""Static files in production: hashed names in the pages, gzip or brotli on the wire, a year's cache."""

import gzip
import re

import brotli
import pytest

from callback.extensions import db
from tests.conftest import fresh_schema, make_app

ECHARTS = "vendor/echarts/echarts.min.js"


@pytest.fixture(scope="module")
def build_folder(tmp_path_factory):
    """One build of static/ for the module: the app reuses it while static/ is unchanged."""
    return tmp_path_factory.mktemp("static") / "build"


def built_app(tmp_path, monkeypatch, build_folder):
    return make_app(tmp_path, monkeypatch, STATIC_BUILD_PATH=str(build_folder))


def fetch(client, url, **headers):
    """GET a static file and read it whole (WhiteNoise streams files: close them)."""
    response = client.get(url, headers=headers)
    response.get_data()
    response.close()
    return response


def test_the_dashboard_sends_echarts_compressed_under_a_hashed_name_cached_for_a_year(
    tmp_path, monkeypatch, build_folder
):
    app = built_app(tmp_path, monkeypatch, build_folder)
    with app.app_context():
        fresh_schema(app)
        from datetime import UTC, datetime

        from callback.users import create_user
        from tests.conftest import PASSWORD

        create_user(db.session, "sup", "supervisor", PASSWORD, now=datetime.now(UTC))
        db.session.commit()
        client = app.test_client()
        client.post("/login", data={"username": "sup", "password": PASSWORD})
        page = client.get("/reports/")
        db.session.remove()
        db.engine.dispose()
    assert page.status_code == 200
    url = re.search(r'src="(/static/vendor/echarts/echarts\.min\.[0-9a-f]{12}\.js)"', page.text).group(1)
    original = (build_folder / ECHARTS).read_bytes()

    br = fetch(client, url, **{"Accept-Encoding": "gzip, deflate, br"})
    assert br.status_code == 200
    assert br.headers["Content-Encoding"] == "br"
    assert br.headers["Cache-Control"] == "max-age=31536000, public, immutable"
    assert "Accept-Encoding" in br.headers["Vary"]
    assert brotli.decompress(br.data) == original
    assert len(br.data) < len(original) / 3  # 1,122 kB becomes 299 kB

    gz = fetch(client, url, **{"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(gz.data) == original

    plain = fetch(client, url)
    assert "Content-Encoding" not in plain.headers and plain.data == original


def test_unhashed_names_still_work_with_a_short_cache_for_relative_references(
    tmp_path, monkeypatch, build_folder
):
    app = built_app(tmp_path, monkeypatch, build_folder)
    client = app.test_client()
    font_css = fetch(client, "/static/vendor/bootstrap-icons/bootstrap-icons.min.css")
    assert font_css.status_code == 200
    assert font_css.headers["Cache-Control"] == "max-age=3600, public"
    font = re.search(r'url\("(fonts/[^"?]+)', font_css.text).group(1)
    assert fetch(client, f"/static/vendor/bootstrap-icons/{font}").status_code == 200


def test_the_build_is_remade_when_static_changes_and_dev_serves_static_as_is(tmp_path, monkeypatch):
    static = tmp_path / "static-src"
    static.mkdir()
    (static / "app.css").write_text("body { color: red; }\n" * 50)
    from callback.observability.static_files import ensure_built

    first = ensure_built(static, tmp_path / "static-build")["files"]["app.css"]
    (static / "app.css").write_text("body { color: blue; }\n" * 50)
    second = ensure_built(static, tmp_path / "static-build")["files"]["app.css"]
    assert first != second and re.fullmatch(r"app\.[0-9a-f]{12}\.css", second)
    assert (tmp_path / "static-build" / second).read_text().startswith("body { color: blue; }")
    assert (tmp_path / "static-build" / (second + ".gz")).exists()
    assert (tmp_path / "static-build" / (second + ".br")).exists()

    development = make_app(tmp_path / "dev", monkeypatch)
    with development.test_request_context():
        from flask import url_for

        assert url_for("static", filename="app.css") == "/static/app.css"


def test_collect_static_builds_ahead_of_time(tmp_path, monkeypatch):
    app = make_app(tmp_path, monkeypatch)
    result = app.test_cli_runner().invoke(args=["collect-static"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "instance" / "static" / "manifest.json").exists()
    assert (tmp_path / "instance" / "static" / (ECHARTS + ".br")).exists()
