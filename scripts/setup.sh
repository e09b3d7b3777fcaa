#!/usr/bin/env bash
# One-time machine set-up for building, testing and benchmarking Nimbus on Debian.
# Installs what is missing (system packages by apt, cargo-nextest by cargo) and makes sure a
# PostgreSQL server answers on 127.0.0.1:5432 with a `test` database. Safe to run again.
set -euo pipefail

log() { printf '[setup] %s\n' "$*" >&2; }
SUDO=""
if [[ $(id -u) != 0 ]]; then SUDO="sudo"; fi

need_pkgs=()
have() { command -v "$1" >/dev/null 2>&1; }
have cc || need_pkgs+=(gcc)
# libjpeg-turbo is built from source by the turbojpeg crate (its SIMD code needs nasm).
have cmake || need_pkgs+=(cmake)
have nasm || need_pkgs+=(nasm)
have c++ || need_pkgs+=(g++)
# The imaging benchmark compares against libvips' own thumbnailer.
have vipsthumbnail || need_pkgs+=(libvips-tools)
have python3 || need_pkgs+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || need_pkgs+=(python3-venv)
have node || need_pkgs+=(nodejs)
have npm || need_pkgs+=(npm)
have pg_isready || need_pkgs+=(postgresql-client)
have curl || need_pkgs+=(curl)
# Benchmarks compare against nginx with wrk.
have wrk || need_pkgs+=(wrk)
have nginx || need_pkgs+=(nginx-light)
# The console's browser tests drive Debian's Chromium with playwright-core.
have chromium || need_pkgs+=(chromium)

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
if ! have pg_isready || ! pg_up; then
  have pg_ctlcluster || need_pkgs+=(postgresql)
fi

if ((${#need_pkgs[@]})); then
  log "installing: ${need_pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

if ! cargo nextest --version >/dev/null 2>&1; then
  log "installing cargo-nextest (once; takes a few minutes)"
  cargo install --locked cargo-nextest
fi

if ! pg_up; then
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  if [[ -z "$version" ]]; then
    log "PostgreSQL is not installed and could not be installed"; exit 1
  fi
  log "starting PostgreSQL $version"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start || $SUDO pg_ctlcluster "$version" main start
  for _ in $(seq 1 50); do pg_up && break; sleep 0.2; done
  # A fresh Debian cluster wants a password over TCP; give the test user a known one.
  $SUDO -u postgres psql -q -c "ALTER USER postgres PASSWORD 'postgres'" >/dev/null
fi
export PGPASSWORD=postgres
if ! psql -h 127.0.0.1 -U postgres -d test -qAtc 'SELECT 1' >/dev/null 2>&1; then
  log "creating database test"
  psql -h 127.0.0.1 -U postgres -d postgres -qc 'CREATE DATABASE test' >/dev/null
fi
# Photographs of people for the face-detection tests (kept outside the clone).
bash "$(dirname "$0")/fetch-test-photos.sh" >/dev/null
log "ready"
