#!/usr/bin/env bash
# Builds the .deb with cpack from an already built tree and checks it: contents, control fields, that the
# packaged server starts with the packaged default config, and (when asked) that systemd-analyze accepts the unit.
#   test_package.sh BUILD_DIR contents|unit
set -euo pipefail
build_dir="$1"
what="$2"
fail() { echo "FAIL: $*" >&2; exit 1; }

tmp="$(mktemp -d "${TMPDIR:-/tmp}/dpost-package-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
cpack --config "$build_dir/CPackConfig.cmake" -B "$tmp/out" >"$tmp/cpack.log" 2>&1 || { cat "$tmp/cpack.log" >&2; fail "cpack"; }
deb="$(ls "$tmp"/out/dossier-post_*.deb)"
echo "package: $deb ($(stat -c %s "$deb") bytes)"
mkdir "$tmp/root"
dpkg-deb -x "$deb" "$tmp/root"
unit="$tmp/root/usr/lib/systemd/system/dossier-server.service"

if [ "$what" = "contents" ]; then
  dpkg-deb -c "$deb" >"$tmp/contents"
  for path in ./usr/bin/dossier-server ./usr/bin/dossier-scanner ./usr/lib/systemd/system/dossier-server.service \
              ./etc/dossier-post/server.conf ./usr/share/doc/dossier-post/operations.md; do
    grep -q " $path\$" "$tmp/contents" || fail "$path is not in the package"
  done
  grep -q "rwxr-xr-x root/root .* ./usr/bin/dossier-server\$" "$tmp/contents" || fail "dossier-server not 0755 root"
  depends="$(dpkg-deb -f "$deb" Depends)"
  echo "Depends: $depends"
  for lib in libsqlite3-0 libsodium23 libzxing2 libcairo2 libstdc++6 adduser; do
    case "$depends" in *"$lib"*) ;; *) fail "Depends lacks $lib (dpkg-shlibdeps)";; esac
  done
  # Into files first: `grep -q` closing a pipe early would fail the pipeline under pipefail (SIGPIPE).
  mkdir "$tmp/control"
  dpkg-deb -e "$deb" "$tmp/control"
  grep -qx /etc/dossier-post/server.conf "$tmp/control/conffiles" || fail "server.conf is not a conffile"
  for script in postinst prerm postrm; do
    [ -x "$tmp/control/$script" ] || fail "no executable $script"
  done
  grep -q '^ExecStart=/usr/bin/dossier-server serve --config /etc/dossier-post/server.conf$' "$unit" \
    || fail "the unit does not start the server with --config /etc/dossier-post/server.conf"
  # The packaged server accepts the packaged config (flags override its listen and db for the test).
  server="$tmp/root/usr/bin/dossier-server"
  "$server" --config "$tmp/root/etc/dossier-post/server.conf" --listen 127.0.0.1:0 --db "$tmp/t.db" \
    >"$tmp/stdout" 2>"$tmp/stderr" &
  pid=$!
  for _ in $(seq 1 300); do
    grep -q "listening on" "$tmp/stdout" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  grep -q "listening on" "$tmp/stdout" || { kill -9 "$pid" 2>/dev/null || true; cat "$tmp/stderr" >&2; fail "the packaged server did not start with the packaged config"; }
  grep -q '"config_file":"'"$tmp"'/root/etc/dossier-post/server.conf"' "$tmp/stderr" || fail "no effective configuration line"
  kill -TERM "$pid"
  wait "$pid" || fail "the packaged server did not exit 0 on SIGTERM"
  echo "contents, control fields, conffile, maintainer scripts and the default config: ok"
elif [ "$what" = "unit" ]; then
  if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "systemd-analyze is not installed: the unit was NOT verified (install systemd to run this check)" >&2
    exit 77
  fi
  # verify insists that ExecStart's binary exists on this machine: point it at the extracted one, nothing else
  # changes. It exits 0 even on unknown keys or bad values, so any output is a failure too.
  sed "s|^ExecStart=/usr/bin/dossier-server|ExecStart=$tmp/root/usr/bin/dossier-server|" "$unit" >"$tmp/dossier-server.service"
  if ! systemd-analyze verify "$tmp/dossier-server.service" >"$tmp/verify.log" 2>&1; then
    cat "$tmp/verify.log" >&2; fail "systemd-analyze verify refused the unit"
  fi
  if [ -s "$tmp/verify.log" ]; then cat "$tmp/verify.log" >&2; fail "systemd-analyze verify complained"; fi
  for key in NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes StateDirectory=dossier-post User=dossier-post; do
    grep -qx "$key" "$unit" || fail "the unit lacks $key"
  done
  echo "systemd-analyze verify: the unit is accepted, hardening present"
else
  fail "usage: test_package.sh BUILD_DIR contents|unit"
fi
