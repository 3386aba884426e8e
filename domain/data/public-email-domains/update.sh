#!/usr/bin/env bash
# Refreshes domains.txt from the npm package free-email-domains (MIT, see
# LICENSE.md), the list HubSpot's free-mail filter is built from: one
# domain a line, lower case, sorted, for `domain::email_domain`.
#
#   domain/data/public-email-domains/update.sh [VERSION]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=${1:-latest}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack "free-email-domains@$version" --silent >/dev/null && tar xzf free-email-domains-*.tgz)
python3 - "$work/package/domains.json" "$here/domains.txt" <<'PY'
import json, sys
domains = sorted({d.strip().lower() for d in json.load(open(sys.argv[1])) if d.strip()})
open(sys.argv[2], "w").write("\n".join(domains) + "\n")
PY
cp "$work/package/LICENSE.md" "$here/LICENSE.md"
echo "free-email-domains@$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$work/package/package.json")" > "$here/SOURCE"
