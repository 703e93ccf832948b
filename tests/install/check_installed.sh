# Sourced by install_test.sh and tools/package-deb.sh: check_installed ROOT SOURCE_DIR REFERENCE_BRAID WORK
# checks an installed tree (from `cmake --install` or `dpkg -x`) under ROOT: the layout, the unit and the sample
# configuration naming the installed paths, `braid test` on the installed rules (their event files included),
# and the installed braid with the installed rules on examples/demo.ndjson giving the alerts REFERENCE_BRAID gives
# with the source tree's rules (alerts from Okta, AWS and GitHub, and a chain among them).
check_installed() {
  ci_root=$1 ci_src=$2 ci_ref=$3 ci_work=$(cd "$4" && pwd)
  ci_fail() { echo "install check: $*" >&2; exit 1; }
  for f in usr/bin/braid etc/braid/braid.env usr/lib/systemd/system/braid.service usr/share/doc/braid/copyright \
           usr/share/doc/braid/operations.md usr/share/braid/rules/aws/lists_panther.braid; do
    [ -e "$ci_root/$f" ] || ci_fail "missing /$f"
  done
  [ -x "$ci_root/usr/bin/braid" ] || ci_fail "/usr/bin/braid is not executable"
  n_src=$(cd "$ci_src/rules" && find . -type f \( -name '*.braid' -o -name '*.ndjson' \) | sort | tee "$ci_work/rules.src" | wc -l)
  (cd "$ci_root/usr/share/braid/rules" && find . -type f | sort) > "$ci_work/rules.installed"
  cmp -s "$ci_work/rules.src" "$ci_work/rules.installed" || {
    diff "$ci_work/rules.src" "$ci_work/rules.installed" | head >&2; ci_fail "the installed rules differ from rules/"; }
  unit=$ci_root/usr/lib/systemd/system/braid.service
  for line in 'ExecStart=/usr/bin/braid run --state /var/lib/braid $BRAID_ARGS' 'EnvironmentFile=/etc/braid/braid.env' \
              'StateDirectory=braid' 'DynamicUser=yes' 'Restart=on-failure' \
              'ProtectSystem=strict' 'NoNewPrivileges=yes' 'ExecReload=/bin/kill -HUP $MAINPID'; do
    grep -qxF "$line" "$unit" || ci_fail "braid.service lacks: $line"
  done
  grep -q '^BRAID_ARGS=--rules /usr/share/braid/rules ' "$ci_root/etc/braid/braid.env" ||
    ci_fail "braid.env does not name the installed rules"
  # Every flag the unit and the sample configuration pass is one `braid run` knows.
  for flag in --state $(sed -n 's/^BRAID_ARGS=//p' "$ci_root/etc/braid/braid.env" | tr ' ' '\n' | grep '^-'); do
    "$ci_root/usr/bin/braid" run --help | grep -q -- "$flag" || ci_fail "braid.env passes $flag, which braid run does not know"
  done
  if command -v systemd-analyze >/dev/null 2>&1; then
    # The unit as systemd reads it; the binaries are those of the scratch root, so /bin/true stands in.
    sed 's#^ExecStart=/usr/bin/braid#ExecStart=/bin/true#' "$unit" > "$ci_work/braid.service"
    systemd-analyze verify "$ci_work/braid.service" || ci_fail "systemd-analyze verify refused braid.service"
  else
    echo "install check: systemd-analyze not found: the unit is not verified"
  fi
  export BRAID_CACHE_DIR="$ci_work/jit-cache"
  "$ci_root/usr/bin/braid" test "$ci_root/usr/share/braid/rules" > "$ci_work/test.out" 2>&1 ||
    { tail -20 "$ci_work/test.out" >&2; ci_fail "braid test failed on the installed rules"; }
  "$ci_root/usr/bin/braid" run --rules "$ci_root/usr/share/braid/rules" "$ci_src/examples/demo.ndjson" \
    > "$ci_work/installed.ndjson" || ci_fail "the installed braid failed on the demo"
  "$ci_ref" run --rules "$ci_src/rules" "$ci_src/examples/demo.ndjson" > "$ci_work/reference.ndjson" ||
    ci_fail "$ci_ref failed on the demo"
  for f in installed reference; do
    sed -E 's/"processing_time":"[^"]*",//' "$ci_work/$f.ndjson" > "$ci_work/$f.norm"
  done
  cmp -s "$ci_work/installed.norm" "$ci_work/reference.norm" || {
    diff "$ci_work/reference.norm" "$ci_work/installed.norm" | head -5 | cut -c1-300 >&2
    ci_fail "the installed braid and rules give other alerts on the demo than the build with rules/"; }
  n=$(wc -l < "$ci_work/installed.ndjson")
  [ "$n" -ge 10 ] || ci_fail "only $n alerts on the demo"
  for src in okta.system aws.cloudtrail github.audit; do
    grep -q "\"source\":\"$src\"" "$ci_work/installed.ndjson" || ci_fail "no alert from $src on the demo"
  done
  grep -q '"scope":"chain"' "$ci_work/installed.ndjson" || ci_fail "no chain alert on the demo"
  echo "install check: $n_src rule files installed; braid test passed; $n demo alerts, the same as the build's"
}
