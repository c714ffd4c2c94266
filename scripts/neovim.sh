#!/usr/bin/env bash
# Sourced by scripts/test: makes sure Debian's Neovim is installed (tests/neovim.rs runs the
# language server in it, headless, as a user's editor).

neovim_install() {
  if command -v nvim >/dev/null 2>&1; then
    return 0
  fi
  echo "installing neovim from Debian's packages" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends neovim >/dev/null
}
