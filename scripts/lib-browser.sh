# Sourced by the scripts that drive a browser or need npm packages.
#
#   need_chromium_and_node NAME   installs Debian's chromium when /usr/bin/chromium is missing,
#                                 and fails (naming the script NAME) without node
#   npm_install DIR               installs DIR's package-lock.json with `npm ci`, only when
#                                 DIR/node_modules differs from the lock (npm ci starts by
#                                 deleting node_modules, which other scripts may share)

need_chromium_and_node() {
  if [ ! -x /usr/bin/chromium ]; then
    local SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium
  fi
  command -v node >/dev/null || { echo "$1: node and npm are needed" >&2; exit 1; }
}

npm_install() {
  local dir="$1"
  if ! (cd "$dir" && node -e '
    const fs = require("fs"), lock = require("./package-lock.json");
    for (const [p, e] of Object.entries(lock.packages)) {
      if (!p || e.link) continue;
      if (!fs.existsSync(p + "/package.json")) { if (e.optional) continue; process.exit(1); }
      if (JSON.parse(fs.readFileSync(p + "/package.json")).version !== e.version) process.exit(1);
    }' 2>/dev/null); then
    (cd "$dir" && npm ci --no-audit --no-fund --silent)
  fi
}
