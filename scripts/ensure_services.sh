#!/usr/bin/env bash
# Make sure PostgreSQL, Redis, RabbitMQ and clamd answer on 127.0.0.1 for `make test`, and that
# Debian's chromium is there for the browser tests (Playwright cannot download its own browser here).
# Starts each one that is installed but stopped; installs what is missing from Debian's packages.
# clamd gets a signature database written here (no signature download is possible): one .hdb
# line for the EICAR test file, so that the tests can show an infected upload being refused.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CLAMAV_DIR="$ROOT/var/clamav"
APT_UPDATED=""

log() { echo "[services] $*"; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {  # wait_for NAME SECONDS COMMAND...
  local name=$1 seconds=$2; shift 2
  for _ in $(seq 1 $((seconds * 4))); do
    if "$@" >/dev/null 2>&1; then log "$name is up"; return 0; fi
    sleep 0.25
  done
  log "$name did not come up within ${seconds}s"; return 1
}

apt_install() {
  if [ -z "$APT_UPDATED" ]; then apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then log "postgresql is up"; return; fi
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  local version; version=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_for postgresql 30 pg_isready -q -h 127.0.0.1 -p 5432
}

ensure_redis() {
  if port_open 6379; then log "redis is up"; return; fi
  command -v redis-server >/dev/null || apt_install redis-server
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for redis 15 port_open 6379
}

ensure_rabbitmq() {
  if port_open 5672; then log "rabbitmq is up"; return; fi
  command -v rabbitmq-server >/dev/null || apt_install rabbitmq-server
  rabbitmq-server -detached || true
  wait_for rabbitmq 60 port_open 5672
}

clamd_pong() {
  exec 3<>/dev/tcp/127.0.0.1/3310 || return 1
  printf 'zPING\0' >&3
  local answer; answer=$(timeout 2 head -c 4 <&3) || return 1
  exec 3<&-
  [ "$answer" = "PONG" ]
}

write_clamav_config() {
  mkdir -p "$CLAMAV_DIR/db"
  # The EICAR anti-virus test file, and its signature in ClamAV's hash format (md5:size:name).
  local eicar='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
  local md5; md5=$(printf '%s' "$eicar" | md5sum | cut -d' ' -f1)
  printf '%s:%s:Eicar-Test-Signature\n' "$md5" "${#eicar}" > "$CLAMAV_DIR/db/autogpt-test.hdb"
  cat > "$CLAMAV_DIR/clamd.conf" <<CONF
TCPSocket 3310
TCPAddr 127.0.0.1
DatabaseDirectory $CLAMAV_DIR/db
LogFile $CLAMAV_DIR/clamd.log
PidFile $CLAMAV_DIR/clamd.pid
Foreground no
User $(id -un)
StreamMaxLength 50M
MaxThreads 4
CONF
}

ensure_clamd() {
  if port_open 3310 && clamd_pong; then log "clamd is up"; return; fi
  command -v clamd >/dev/null || [ -x /usr/sbin/clamd ] || apt_install clamav-daemon
  write_clamav_config
  /usr/sbin/clamd -c "$CLAMAV_DIR/clamd.conf"
  wait_for clamd 60 clamd_pong
}

ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then log "chromium is installed"; return; fi
  apt_install chromium
  log "chromium installed: $(/usr/bin/chromium --version 2>/dev/null || echo '?')"
}

ensure_postgres
ensure_redis
ensure_rabbitmq
ensure_clamd
ensure_chromium
