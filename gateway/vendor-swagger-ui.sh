#!/usr/bin/env bash
# Vendors Swagger UI for /docs: fetches the swagger-ui-dist package from npm (pinned version),
# copies the few files the page needs into gateway/swagger-ui/ (not committed), with our page.
# Usage: gateway/vendor-swagger-ui.sh [VERSION]
set -euo pipefail
version="${1:-5.35.0}"
here="$(cd "$(dirname "$0")" && pwd)"
target="$here/swagger-ui"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "swagger-ui-dist@$version" >/dev/null)
tar -xzf "$work"/swagger-ui-dist-*.tgz -C "$work"
rm -rf "$target" && mkdir -p "$target"
cp "$work/package/swagger-ui.css" "$work/package/swagger-ui-bundle.js" \
   "$work/package/favicon-32x32.png" "$work/package/LICENSE" "$target/"
cp "$here/docs.html" "$target/index.html"
echo "$version" > "$target/VERSION"
echo "Swagger UI $version vendored in $target"
