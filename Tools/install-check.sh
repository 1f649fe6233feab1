#!/usr/bin/env bash
# `make install` into a temporary PREFIX, then what a user does next: the
# binary runs from another directory, `man wbreplay-check` shows the page,
# and the bash completion loads and completes a subcommand.
# Prints "N passed, N failed" and exits 1 on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
passed=0 failed=0
check() {  # check DESCRIPTION COMMAND...
  local what=$1; shift
  if out=$("$@" 2>&1); then passed=$((passed + 1)); echo "ok    $what"
  else failed=$((failed + 1)); echo "FAIL  $what"; echo "$out" | tail -5 | sed 's/^/      /'; fi
}
make -s install PREFIX="$prefix" >/dev/null || { echo "0 passed, 1 failed (make install)"; exit 1; }
bin=$prefix/bin/wbreplay
check "wbreplay runs from another directory" bash -c "cd / && '$bin' --version"
check "wbreplay check from another directory" bash -c "cd / && '$bin' check '$PWD/Tests/ReplayTests/Fixtures/truncate_conversion_twin.txt' >/dev/null"
check "man wbreplay-check" bash -c "MANPATH='$prefix/share/man' man -P cat wbreplay-check | grep -q -- '--format'"
check "man wbreplay" bash -c "MANPATH='$prefix/share/man' man -P cat wbreplay | grep -qi 'check'"
check "bash completion loads" bash -c "source '$prefix/share/bash-completion/completions/wbreplay' && complete -p wbreplay"
check "bash completion completes 'wbreplay ch'" bash -c "
  source '$prefix/share/bash-completion/completions/wbreplay'
  fn=\$(complete -p wbreplay | sed -E 's/.*-F ([^ ]+).*/\1/')
  COMP_WORDS=(wbreplay ch); COMP_CWORD=1; COMP_LINE='wbreplay ch'; COMP_POINT=\${#COMP_LINE}
  \$fn wbreplay ch wbreplay; printf '%s\n' \"\${COMPREPLY[@]}\" | grep -qx check"
check "zsh and fish completions installed" test -s "$prefix/share/zsh/site-functions/_wbreplay" -a -s "$prefix/share/fish/vendor_completions.d/wbreplay.fish"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
