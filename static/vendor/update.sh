#!/usr/bin/env bash
# Refresh the vendored front-end assets in static/vendor/ from pinned npm versions.
# Usage: static/vendor/update.sh   (needs node + npm and access to an npm registry)
# Bump a version below, run this script, check the diff, update README.md.
set -euo pipefail

BOOTSTRAP_VERSION="5.3.9"
BOOTSTRAP_ICONS_VERSION="1.13.2"
ECHARTS_VERSION="6.1.0"
HTMX_VERSION="2.0.11"
# The integrators' API page (/api/docs): Swagger UI renders under our CSP (Redoc and RapiDoc inject inline styles).
SWAGGER_UI_VERSION="5.35.0"
# bootstrap.bundle.min.js embeds Popper (MIT) without its notice; ship Popper's licence too.
# Keep this at the version bootstrap's package.json devDependencies uses.
POPPER_VERSION="2.11.8"

VENDOR_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/vendor-build.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# Fetch a package tarball with `npm pack` and unpack it to $WORK/<name>/ (the tarball's package/ dir).
fetch() {
  local spec="$1" name="$2"
  local tgz
  tgz="$(cd "$WORK" && npm pack --silent "$spec" | tail -n 1)"   # e.g. popperjs-core-2.11.8.tgz
  mkdir -p "$WORK/$name"
  tar -xzf "$WORK/$tgz" -C "$WORK/$name" --strip-components=1
  local got
  got="$(node -p "require('$WORK/$name/package.json').version")"
  [[ "$spec" == *"@$got" ]] || { echo "version mismatch for $spec: got $got" >&2; exit 1; }
}

# Copy a file, dropping sourceMappingURL comment lines (we do not ship source maps).
# Files without such a line are copied byte for byte.
copy_stripped() {
  local src="$1" dst="$2"
  if grep -q 'sourceMappingURL=' "$src"; then
    grep -v 'sourceMappingURL=' "$src" > "$dst" || true
  else
    cp "$src" "$dst"
  fi
  [[ -s "$dst" ]] || { echo "empty output for $src" >&2; exit 1; }
}

fetch "bootstrap@${BOOTSTRAP_VERSION}" bootstrap
fetch "bootstrap-icons@${BOOTSTRAP_ICONS_VERSION}" bootstrap-icons
fetch "echarts@${ECHARTS_VERSION}" echarts
fetch "htmx.org@${HTMX_VERSION}" htmx
fetch "@popperjs/core@${POPPER_VERSION}" popper
fetch "swagger-ui-dist@${SWAGGER_UI_VERSION}" swagger-ui

# Build the new tree in a staging dir, then swap it in, so a failure leaves the old files intact.
STAGE="$WORK/stage"
mkdir -p "$STAGE"/{bootstrap,bootstrap-icons/fonts,echarts/licenses,htmx,swagger-ui}

# Bootstrap: CSS + JS bundle (includes Popper).
copy_stripped "$WORK/bootstrap/dist/css/bootstrap.min.css"       "$STAGE/bootstrap/bootstrap.min.css"
copy_stripped "$WORK/bootstrap/dist/js/bootstrap.bundle.min.js"  "$STAGE/bootstrap/bootstrap.bundle.min.js"
cp "$WORK/bootstrap/LICENSE" "$STAGE/bootstrap/LICENSE"
cp "$WORK/popper/LICENSE.md" "$STAGE/bootstrap/LICENSE-popper.md"

# Bootstrap Icons: CSS refers to ./fonts/bootstrap-icons.woff2 / .woff relative to itself.
copy_stripped "$WORK/bootstrap-icons/font/bootstrap-icons.min.css" "$STAGE/bootstrap-icons/bootstrap-icons.min.css"
cp "$WORK/bootstrap-icons/font/fonts/"*.woff2 "$WORK/bootstrap-icons/font/fonts/"*.woff "$STAGE/bootstrap-icons/fonts/"
cp "$WORK/bootstrap-icons/LICENSE" "$STAGE/bootstrap-icons/LICENSE"

# ECharts: full minified build; Apache-2.0 requires LICENSE and NOTICE to travel with it.
# LICENSE points at licenses/LICENSE-d3 for d3-derived code that is in the dist build.
copy_stripped "$WORK/echarts/dist/echarts.min.js" "$STAGE/echarts/echarts.min.js"
cp "$WORK/echarts/LICENSE" "$STAGE/echarts/LICENSE"
if [[ -f "$WORK/echarts/NOTICE" ]]; then cp "$WORK/echarts/NOTICE" "$STAGE/echarts/NOTICE"; fi
cp "$WORK/echarts/licenses/"LICENSE-* "$STAGE/echarts/licenses/"

# htmx
copy_stripped "$WORK/htmx/dist/htmx.min.js" "$STAGE/htmx/htmx.min.js"
cp "$WORK/htmx/LICENSE" "$STAGE/htmx/LICENSE"

# Swagger UI: the bundle (no standalone preset: no top bar), its CSS, its licence, notice and the
# licences of what the bundle contains.
copy_stripped "$WORK/swagger-ui/swagger-ui-bundle.js" "$STAGE/swagger-ui/swagger-ui-bundle.js"
copy_stripped "$WORK/swagger-ui/swagger-ui.css" "$STAGE/swagger-ui/swagger-ui.css"
cp "$WORK/swagger-ui/LICENSE" "$WORK/swagger-ui/NOTICE" "$STAGE/swagger-ui/"
cp "$WORK/swagger-ui/swagger-ui-bundle.js.LICENSE.txt" "$STAGE/swagger-ui/"

find "$STAGE" -type d -exec chmod 755 {} +
find "$STAGE" -type f -exec chmod 644 {} +

for d in bootstrap bootstrap-icons echarts htmx swagger-ui; do
  rm -rf "${VENDOR_DIR:?}/$d"
  cp -R "$STAGE/$d" "$VENDOR_DIR/$d"
done

echo "Vendored into $VENDOR_DIR:"
echo "  bootstrap ${BOOTSTRAP_VERSION} (+ Popper ${POPPER_VERSION} licence), bootstrap-icons ${BOOTSTRAP_ICONS_VERSION}, echarts ${ECHARTS_VERSION}, htmx.org ${HTMX_VERSION}, swagger-ui-dist ${SWAGGER_UI_VERSION}"
du -sh "$VENDOR_DIR"
