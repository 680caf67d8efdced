#!/usr/bin/env bash
# Installs the Loa Xã device agent on a speaker box (Raspberry Pi OS / Debian, Node.js >= 20 installed)
# from a release tarball (npm run release:agent: one bundled file run with plain node, no node_modules), creates the service user (in the audio and gpio groups), writes
# /etc/loaxa/agent.env and enables the systemd service.
#
#   sudo ./install-agent.sh --tarball loaxa-agent-0.1.0.tar.gz --sha256 <hex> \
#        --device-id spk-… --mqtt-url mqtt://loa.example.gov.vn:1883 --mqtt-username spk-… \
#        --mqtt-password … --area 99003 --area-ancestors 99 [--set LOAXA_AGENT_MIXER=amixer …]
#   sudo ./install-agent.sh --tarball loaxa-agent-0.1.0.tar.gz --sha256 <hex> \
#        --claim-code ABCD-EFGH-JKMN --server https://loa.example.gov.vn
#
# Run it again with a newer tarball to upgrade: the env file is kept unless new values are given.
# Releases live side by side in /opt/loaxa/agent/releases/<version>; /opt/loaxa/agent/current points at
# the running one, so going back is `ln -sfn releases/<old> current && systemctl restart loaxa-agent`.
set -euo pipefail

PROG=$(basename "$0")
SERVICE=loaxa-agent
AGENT_USER=loaxa-agent
DESTDIR=""
TARBALL=""
SHA256=""
START=1
MODEM_POLKIT=0
CLAIM_CODE=""
SERVER=""
declare -A ENV_VALUES=()
ENV_ORDER=()

usage() {
  cat <<USAGE
Usage: $PROG --tarball FILE|URL [--sha256 HEX] [identity options] [--set VAR=VALUE]... [options]

Release:
  --tarball FILE|URL     the agent release (.tar.gz); http(s) URLs are downloaded with curl
  --sha256 HEX           expected SHA-256 of the tarball (strongly advised for URLs)
Identity by claim code (from POST /api/v1/devices/{id}/claim-code), run as the service user:
  --claim-code CODE      the one-time claim code, e.g. ABCD-EFGH-JKMN
  --server URL           the Loa Xã server, e.g. https://loa.example.gov.vn
Identity given directly (from POST /api/v1/devices; without a claim code, required on a first install):
  --device-id ID         LOAXA_AGENT_DEVICE_ID
  --mqtt-url URL         LOAXA_AGENT_MQTT_URL
  --mqtt-username NAME   LOAXA_AGENT_MQTT_USERNAME
  --mqtt-password SECRET LOAXA_AGENT_MQTT_PASSWORD
  --area CODE            LOAXA_AGENT_AREA_CODE (the commune)
  --area-ancestors CODES LOAXA_AGENT_AREA_ANCESTORS (comma-separated, province first)
Other settings:
  --set VAR=VALUE        any other LOAXA_AGENT_* variable (repeatable), e.g. LOAXA_AGENT_MIXER=amixer
  --allow-modem-reset    let the service user reset the modem through ModemManager (polkit rule)
  --no-start             enable the service but do not (re)start it now
  --destdir DIR          install below DIR instead of / (packaging, tests)
  -h, --help             show this help
USAGE
}

die() {
  echo "$PROG: $*" >&2
  exit 1
}

set_env() {
  local name=$1 value=$2
  [[ $name =~ ^LOAXA_AGENT_[A-Z0-9_]+$ ]] || die "not an agent variable: $name (expected LOAXA_AGENT_…)"
  [[ $value != *$'\n'* ]] || die "$name: the value must be one line"
  if [[ -z ${ENV_VALUES[$name]+x} ]]; then ENV_ORDER+=("$name"); fi
  ENV_VALUES[$name]=$value
}

need_value() {
  [[ $# -ge 2 && -n $2 ]] || die "$1 needs a value (see --help)"
}

while [[ $# -gt 0 ]]; do
  case $1 in
    --tarball) need_value "$@"; TARBALL=$2; shift 2 ;;
    --sha256) need_value "$@"; SHA256=${2,,}; shift 2 ;;
    --device-id) need_value "$@"; set_env LOAXA_AGENT_DEVICE_ID "$2"; shift 2 ;;
    --mqtt-url) need_value "$@"; set_env LOAXA_AGENT_MQTT_URL "$2"; shift 2 ;;
    --mqtt-username) need_value "$@"; set_env LOAXA_AGENT_MQTT_USERNAME "$2"; shift 2 ;;
    --mqtt-password) need_value "$@"; set_env LOAXA_AGENT_MQTT_PASSWORD "$2"; shift 2 ;;
    --area) need_value "$@"; set_env LOAXA_AGENT_AREA_CODE "$2"; shift 2 ;;
    --area-ancestors) need_value "$@"; set_env LOAXA_AGENT_AREA_ANCESTORS "$2"; shift 2 ;;
    --set)
      need_value "$@"
      [[ $2 == *=* ]] || die "--set needs VAR=VALUE, got '$2'"
      set_env "${2%%=*}" "${2#*=}"
      shift 2
      ;;
    --claim-code) need_value "$@"; CLAIM_CODE=$2; shift 2 ;;
    --server) need_value "$@"; SERVER=${2%/}; shift 2 ;;
    --allow-modem-reset) MODEM_POLKIT=1; shift ;;
    --no-start) START=0; shift ;;
    --destdir) need_value "$@"; DESTDIR=${2%/}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done

[[ -n $TARBALL ]] || die "--tarball is required (see --help)"
[[ -z $SHA256 || $SHA256 =~ ^[0-9a-f]{64}$ ]] || die "--sha256 must be 64 hex digits"
[[ -z $CLAIM_CODE || -n $SERVER ]] || die "--claim-code needs --server URL"
[[ -z $SERVER || -n $CLAIM_CODE ]] || die "--server is only used with --claim-code"
[[ -z $SERVER || $SERVER =~ ^https?:// ]] || die "--server must be an http(s) URL, got '$SERVER'"
if [[ -z $DESTDIR && $EUID -ne 0 ]]; then die "run as root (sudo $PROG …)"; fi

PREFIX=$DESTDIR/opt/loaxa/agent
ETC=$DESTDIR/etc/loaxa
ENV_FILE=$ETC/agent.env
UNIT_DIR=$DESTDIR/etc/systemd/system
# Written by the agent's own `claim` command, so the folder belongs to the service user (mode 0700).
CLAIM_DIR_RUNTIME=/etc/loaxa/agent
CLAIM_DIR=$DESTDIR$CLAIM_DIR_RUNTIME
CLAIMED=0
if [[ -n $CLAIM_CODE || -f $CLAIM_DIR/agent.json ]]; then CLAIMED=1; fi

# ---- settings (checked before anything is changed) ----------------------------------------------------
WRITE_ENV=0
if [[ ${#ENV_ORDER[@]} -gt 0 || ! -f $ENV_FILE ]]; then
  WRITE_ENV=1
  for required in LOAXA_AGENT_DEVICE_ID LOAXA_AGENT_MQTT_URL LOAXA_AGENT_MQTT_USERNAME LOAXA_AGENT_MQTT_PASSWORD LOAXA_AGENT_AREA_CODE; do
    # A claimed box has its identity in the config file the claim wrote.
    [[ $CLAIMED -eq 0 ]] || break
    if [[ -z ${ENV_VALUES[$required]+x} ]] && ! { [[ -f $ENV_FILE ]] && grep -q "^$required=" "$ENV_FILE"; }; then
      die "$required is not set: give it (see --help) on a first install"
    fi
  done
  # Values from an existing file that were not given again are kept.
  if [[ -f $ENV_FILE ]]; then
    while IFS='=' read -r name value; do
      if [[ $name =~ ^LOAXA_AGENT_[A-Z0-9_]+$ && -z ${ENV_VALUES[$name]+x} ]]; then set_env "$name" "$value"; fi
    done <"$ENV_FILE"
  fi
  [[ -n ${ENV_VALUES[LOAXA_AGENT_CACHE_DIR]+x} ]] || set_env LOAXA_AGENT_CACHE_DIR /var/cache/$SERVICE
  [[ -n ${ENV_VALUES[LOAXA_AGENT_STATE_DIR]+x} ]] || set_env LOAXA_AGENT_STATE_DIR /var/lib/$SERVICE
  if [[ $CLAIMED -eq 1 && -z ${ENV_VALUES[LOAXA_AGENT_CONFIG]+x} ]]; then set_env LOAXA_AGENT_CONFIG $CLAIM_DIR_RUNTIME/agent.json; fi
fi

command -v node >/dev/null || die "node is not installed (Node.js 20 or later is needed)"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
  die "Node.js $(node --version) is too old; 20 or later is needed"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# ---- the release -------------------------------------------------------------------------------------
if [[ $TARBALL =~ ^https?:// ]]; then
  command -v curl >/dev/null || die "curl is needed to download $TARBALL"
  echo "downloading $TARBALL"
  curl -fsSL --retry 5 --retry-delay 5 -o "$WORK/release.tar.gz" "$TARBALL" || die "download of $TARBALL failed"
  TARBALL=$WORK/release.tar.gz
fi
[[ -f $TARBALL ]] || die "no such tarball: $TARBALL"
if [[ -n $SHA256 ]]; then
  actual=$(sha256sum "$TARBALL" | cut -d' ' -f1)
  [[ $actual == "$SHA256" ]] || die "SHA-256 mismatch: expected $SHA256, got $actual; not installing"
fi
mkdir -p "$WORK/unpacked"
tar -xzf "$TARBALL" -C "$WORK/unpacked" || die "cannot unpack $TARBALL"
SRC=$WORK/unpacked
# A tarball with one top-level folder (loaxa-agent-0.1.0/) is unpacked from inside it.
mapfile -t top < <(find "$SRC" -mindepth 1 -maxdepth 1)
if [[ ${#top[@]} -eq 1 && -d ${top[0]} && ! -d $SRC/device-agent ]]; then SRC=${top[0]}; fi
[[ -f $SRC/bin/loaxa-agent.mjs && -f $SRC/VERSION ]] || die "not an agent release: bin/loaxa-agent.mjs or VERSION missing (build it with npm run release:agent)"
VERSION=$(head -n1 "$SRC/VERSION")
[[ $VERSION =~ ^[0-9A-Za-z.+-]+$ ]] || die "unreadable version '$VERSION' in VERSION"

# ---- user and groups ---------------------------------------------------------------------------------
for group in audio gpio; do
  if ! getent group "$group" >/dev/null; then
    echo "creating group $group"
    groupadd --system "$group"
    if [[ $group == gpio ]]; then
      # Raspberry Pi OS ships this rule with its gpio group; elsewhere the agent needs it to reach the lines.
      mkdir -p "$DESTDIR/etc/udev/rules.d"
      cat >"$DESTDIR/etc/udev/rules.d/60-loaxa-gpio.rules" <<'RULES'
SUBSYSTEM=="gpio", KERNEL=="gpiochip*", GROUP="gpio", MODE="0660"
SUBSYSTEM=="gpio", ACTION=="add", PROGRAM="/bin/sh -c 'chgrp -R gpio /sys/class/gpio && chmod -R g+w /sys/class/gpio'"
RULES
    fi
  fi
done
if ! getent passwd "$AGENT_USER" >/dev/null; then
  echo "creating user $AGENT_USER"
  useradd --system --user-group --home-dir /var/lib/$SERVICE --no-create-home --shell /usr/sbin/nologin "$AGENT_USER"
fi
usermod --append --groups audio,gpio "$AGENT_USER"

# ---- files -------------------------------------------------------------------------------------------
mkdir -p "$PREFIX/releases"
# The agent updates itself (self-update): it unpacks new releases here and switches `current`.
chown "$AGENT_USER:$AGENT_USER" "$PREFIX" "$PREFIX/releases"
TARGET=$PREFIX/releases/$VERSION
if [[ -e $TARGET ]]; then
  echo "release $VERSION is already present; replacing it"
  rm -rf "$TARGET.old"
  mv "$TARGET" "$TARGET.old"
fi
cp -a "$SRC" "$TARGET"
chown -R root:root "$TARGET"
rm -rf "$TARGET.old"
# Switch atomically: a new link renamed over the old one.
ln -sfn "releases/$VERSION" "$PREFIX/current.new"
mv -T "$PREFIX/current.new" "$PREFIX/current"

mkdir -p "$ETC"
if [[ $WRITE_ENV -eq 1 ]]; then
  if [[ -f $ENV_FILE ]]; then cp -p "$ENV_FILE" "$ENV_FILE.bak"; fi
  {
    echo "# Loa Xã device agent settings, written by $PROG on $(date -u +%Y-%m-%dT%H:%M:%SZ)."
    echo "# Holds the box's MQTT password: readable by root and the service only."
    for name in "${ENV_ORDER[@]}"; do echo "$name=${ENV_VALUES[$name]}"; done
  } >"$ENV_FILE.new"
  chmod 0640 "$ENV_FILE.new"
  chown "root:$AGENT_USER" "$ENV_FILE.new"
  mv "$ENV_FILE.new" "$ENV_FILE"
  echo "wrote $ENV_FILE"
else
  echo "keeping $ENV_FILE"
fi

if [[ -n $CLAIM_CODE ]]; then
  mkdir -p "$CLAIM_DIR"
  chown "$AGENT_USER:$AGENT_USER" "$CLAIM_DIR"
  chmod 0700 "$CLAIM_DIR"
  echo "claiming this box at $SERVER"
  # As the service user, so the 0600 config file it writes is the service's own.
  runuser -u "$AGENT_USER" -- node "$TARGET/bin/loaxa-agent.mjs" claim --server "$SERVER" --code "$CLAIM_CODE" \
    --config "$CLAIM_DIR/agent.json" --state-dir /var/lib/$SERVICE --cache-dir /var/cache/$SERVICE ||
    die "the claim failed (the code may be used or expired; ask for a new one)"
fi

if [[ $MODEM_POLKIT -eq 1 ]]; then
  mkdir -p "$DESTDIR/etc/polkit-1/rules.d"
  cat >"$DESTDIR/etc/polkit-1/rules.d/60-loaxa-agent-modem.rules" <<RULES
// Lets the Loa Xã agent reset a wedged modem (LOAXA_AGENT_MODEM_RECOVERY_COMMAND="mmcli -m any --reset").
polkit.addRule(function (action, subject) {
  if (action.id.indexOf("org.freedesktop.ModemManager1.") === 0 && subject.user === "$AGENT_USER") return polkit.Result.YES;
});
RULES
fi

# Self-update: the agent starts its rollback watchdog with systemd-run (a transient loaxa-agent-rollback-*
# unit outside the service) and that watchdog restarts the service; allow exactly those units.
mkdir -p "$DESTDIR/etc/polkit-1/rules.d"
cat >"$DESTDIR/etc/polkit-1/rules.d/61-loaxa-agent-update.rules" <<RULES
// Lets the Loa Xã agent start its self-update rollback watchdog and restart its own service.
polkit.addRule(function (action, subject) {
  if (action.id !== "org.freedesktop.systemd1.manage-units" || subject.user !== "$AGENT_USER") return polkit.Result.NOT_HANDLED;
  var unit = action.lookup("unit") || "";
  if (unit === "$SERVICE.service" || unit.indexOf("loaxa-agent-rollback-") === 0) return polkit.Result.YES;
  return polkit.Result.NOT_HANDLED;
});
RULES

UNIT_SRC=$TARGET/deploy/loaxa-agent.service
[[ -f $UNIT_SRC ]] || UNIT_SRC=$(dirname "$(readlink -f "$0")")/../loaxa-agent.service
[[ -f $UNIT_SRC ]] || die "loaxa-agent.service not found in the release or next to this script"
mkdir -p "$UNIT_DIR"
install -m 0644 "$UNIT_SRC" "$UNIT_DIR/$SERVICE.service"

systemctl daemon-reload
systemctl enable "$SERVICE.service"
if [[ $START -eq 1 ]]; then
  systemctl restart "$SERVICE.service"
  echo "installed and started $SERVICE $VERSION; follow it with: journalctl -u $SERVICE -f"
else
  echo "installed $SERVICE $VERSION (enabled, not started)"
fi
