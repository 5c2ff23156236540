#!/usr/bin/env bash
# Layers.links: no layer's library needs a symbol that only a layer it does not link defines (a
# function declared in a low header but defined above links today only by luck of the order in
# which the final link lists the libraries).
# Usage: check_links.sh <nm> <area>:<library>:<linked,areas> ...
set -euo pipefail
export LC_ALL=C
nm_tool=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

declare -A library linked
for spec in "$@"; do
  IFS=: read -r area file deps <<<"$spec"
  library[$area]=$file
  linked[$area]=",$area,$deps,"
  # Strong definitions only: inline functions and templates (weak) are defined wherever used.
  "$nm_tool" --defined-only -g "$file" | awk -v area="$area" 'NF == 3 && $2 ~ /^[TDBRu]$/ { print $3, area }' \
    >>"$tmp/defined.all"
done
sort -u "$tmp/defined.all" >"$tmp/defined"

failures=0
for area in "${!library[@]}"; do
  "$nm_tool" -u "${library[$area]}" | awk '$1 == "U" { print $2 }' | sort -u >"$tmp/needed"
  while read -r symbol owner; do
    if [[ ${linked[$area]} != *",$owner,"* ]]; then
      name=$(c++filt "$symbol" 2>/dev/null || echo "$symbol")
      echo "aigw_$area needs $name, defined in aigw_$owner, which it does not link"
      failures=$((failures + 1))
    fi
  done < <(join "$tmp/needed" "$tmp/defined")
done
if ((failures > 0)); then
  echo "$failures symbol(s) cross the layers upwards: move the definition down, or the declaration up"
  exit 1
fi
echo "checked ${#library[@]} layers: every symbol a library needs comes from itself, a layer it links, or outside aigw"
