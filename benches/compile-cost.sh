#!/usr/bin/env bash
# What the derive costs at compile time: builds a crate of 50 entities with
# 3 relations each, and the same structs without the derive, 3 times each
# after touching the source, and prints the median of each and the ratio.
# Dependencies are built once beforehand and not counted.
#
# Usage: bash benches/compile-cost.sh [entities]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
n="${1:-50}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export CARGO_TARGET_DIR="$work/target"

make_crate() { # name, with_derive
  local dir="$work/$1"
  mkdir -p "$dir/src"
  cat > "$dir/Cargo.toml" <<TOML
[package]
name = "$1"
version = "0.0.0"
edition = "2024"
[dependencies]
loader-runtime = { path = "$root/loader-runtime" }
[workspace]
TOML
  {
    echo "#![allow(dead_code, clippy::duplicated_attributes)]"
    for ((i = 0; i < n; i++)); do
      next=$(((i + 1) % n)); prev=$(((i + n - 1) % n))
      if [ "$2" = yes ]; then
        echo "#[derive(loader_runtime::Entity)]"
        echo "#[entity(table = \"entity_$i\")]"
        echo "#[has_many(E$next, fk = \"parent_id\", name = \"children\")]"
        echo "#[has_one(E$next, fk = \"parent_id\", name = \"first_child\")]"
        echo "#[belongs_to(E$prev, fk = \"parent_id\", name = \"parent\")]"
      fi
      echo "pub struct E$i { pub id: i64, pub name: String, pub parent_id: i64, pub note: Option<String> }"
    done
  } > "$dir/src/lib.rs"
}

build_times() { # name
  local dir="$work/$1" times=()
  (cd "$dir" && cargo build --quiet 2>/dev/null)
  for _ in 1 2 3; do
    touch "$dir/src/lib.rs"
    local start end
    start=$(date +%s.%N)
    (cd "$dir" && cargo build --quiet)
    end=$(date +%s.%N)
    times+=("$(awk "BEGIN { printf \"%.3f\", $end - $start }")")
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n 2p
}

make_crate with_derive yes
make_crate without_derive no
with=$(build_times with_derive)
without=$(build_times without_derive)
echo "entities: $n, relations each: 3"
echo "cargo build with the derive:    ${with} s (median of 3)"
echo "cargo build without the derive: ${without} s (median of 3)"
echo "ratio: $(awk "BEGIN { printf \"%.1f\", $with / $without }")"
