"""Static files for production: content-hashed names, gzip and brotli copies, a year's Cache-Control.

With STATIC_BUILD_PATH set, the app serves static/ from a build of it through WhiteNoise (a WSGI middleware:
no web server configuration needed, and nginx may serve the same folder). The build holds every file under
its own name (for relative references such as Bootstrap Icons' fonts; cached for an hour) and under a
content-hashed name (`echarts.min.3f2a9c1b7e4d.js`, cached for a year, `immutable`), each with `.gz` and
`.br` siblings that WhiteNoise sends to browsers that accept them. Templates keep calling
`url_for('static', filename='app.css')`; a url_defaults hook turns that into the hashed name.

The build is made at start-up when missing or when static/ changed (its manifest records a fingerprint of the
sources), under a file lock so that several workers starting together build it once; `flask --app callback
collect-static` makes it ahead of time. Without STATIC_BUILD_PATH (development, tests) Flask serves static/.
"""

import fcntl
import hashlib
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

log = logging.getLogger(__name__)
MANIFEST = "manifest.json"
HASH_LENGTH = 12
ONE_YEAR = 365 * 24 * 60 * 60
UNHASHED_MAX_AGE = 60 * 60
EXTENSION = "callback.static_manifest"


class StaticFiles(WhiteNoise):  # type: ignore[misc]  # WhiteNoise ships no types
    """WhiteNoise whose hashed files are cached for a year."""

    FOREVER = ONE_YEAR


def hashed_name(relative: str, digest: str) -> str:
    """Insert the content hash before the last suffix: vendor/app.min.js → vendor/app.min.<hash>.js."""
    path = Path(relative)
    return str(path.with_name(f"{path.stem}.{digest[:HASH_LENGTH]}{path.suffix}"))


def source_files(source: Path) -> dict[str, str]:
    """Return {relative path: sha256} of every file under static/."""
    files = {}
    for path in sorted(source.rglob("*")):
        if path.is_file():
            files[path.relative_to(source).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


def fingerprint(files: dict[str, str]) -> str:
    """Return one hash of the sources' names and contents."""
    return hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()


def read_manifest(target: Path) -> dict[str, Any] | None:
    try:
        manifest: dict[str, Any] = json.loads((target / MANIFEST).read_text())
        return manifest
    except (OSError, ValueError):
        return None


def build(source: Path, target: Path) -> dict[str, Any]:
    """Build target from source (copies, hashed copies, compressed siblings, manifest); atomic swap."""
    files = source_files(source)
    staging = target.with_name(f".{target.name}.building-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    compressor = Compressor(quiet=True)
    names: dict[str, str] = {}
    for relative, digest in files.items():
        hashed = hashed_name(relative, digest)
        names[relative] = hashed
        (staging / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / relative, staging / relative)
        shutil.copyfile(source / relative, staging / hashed)
        if compressor.should_compress(relative):
            # Compress once (brotli at its best takes a while on ECharts); the hashed name gets copies.
            for compressed in compressor.compress(str(staging / relative)):
                suffix = compressed.removeprefix(str(staging / relative))
                shutil.copyfile(compressed, str(staging / hashed) + suffix)
    manifest = {"fingerprint": fingerprint(files), "files": names}
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    retired = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        target.rename(retired)
    staging.rename(target)
    shutil.rmtree(retired, ignore_errors=True)
    return manifest


def ensure_built(source: Path, target: Path) -> dict[str, Any]:
    """Return the build's manifest, building it first when it is missing or stale."""
    wanted = fingerprint(source_files(source))
    manifest = read_manifest(target)
    if manifest is not None and manifest.get("fingerprint") == wanted:
        return manifest
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.with_name(f".{target.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another worker may be building it right now
        manifest = read_manifest(target)
        if manifest is None or manifest.get("fingerprint") != wanted:
            log.info("building the static files into %s", target)
            manifest = build(source, target)
    return manifest


def build_path(app: Flask) -> Path | None:
    """Return STATIC_BUILD_PATH (relative to the instance folder), or None when not set."""
    configured = app.config.get("STATIC_BUILD_PATH")
    if not configured:
        return None
    return Path(app.instance_path, configured)


def init_app(app: Flask) -> None:
    """Serve the built static files with WhiteNoise and hashed URLs, when STATIC_BUILD_PATH is set."""
    target = build_path(app)
    app.cli.add_command(collect_static)
    if target is None or app.static_folder is None:
        return
    manifest = ensure_built(Path(app.static_folder), target)
    names: dict[str, str] = manifest["files"]
    hashed = frozenset(names.values())
    app.extensions[EXTENSION] = names

    @app.url_defaults
    def hashed_static_url(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "filename" in values:
            values["filename"] = names.get(values["filename"], values["filename"])

    prefix = (app.static_url_path or "/static").strip("/") + "/"
    app.wsgi_app = StaticFiles(  # type: ignore[method-assign]
        app.wsgi_app,
        root=str(target),
        prefix=prefix,
        max_age=UNHASHED_MAX_AGE,
        immutable_file_test=lambda path, url: url.removeprefix("/" + prefix) in hashed,
    )


@click.command("collect-static")
@with_appcontext
def collect_static() -> None:
    """Build the static files (hashed names, gzip and brotli) into STATIC_BUILD_PATH, if out of date."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    target = build_path(app) or Path(app.instance_path, "static")
    assert app.static_folder is not None  # noqa: S101  (the app has static/)
    manifest = ensure_built(Path(app.static_folder), target)
    click.echo(f"{len(manifest['files'])} static files built into {target}")
