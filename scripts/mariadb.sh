#!/usr/bin/env bash
# Sourced by scripts/test: makes sure Debian's MariaDB server and client are installed (the task
# tests start their own server on a free loopback port, with a temporary data directory, and stop it).

mariadb_install() {
  if command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ]; then
    return 0
  fi
  echo "installing mariadb-server from Debian's packages" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends mariadb-server mariadb-client >/dev/null
  # The package's own server is not wanted: the tests start theirs.
  $sudo service mariadb stop >/dev/null 2>&1 || true
}
