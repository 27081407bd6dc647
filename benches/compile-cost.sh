#!/usr/bin/env bash
# What declaring a schema costs at compile time, against Diesel: a crate of
# 50 entities (one file each) with 3 relations each, written three ways:
#
#   plain   the structs alone, no derive (the baseline)
#   loader  #[derive(Entity)] with has_many, has_one and belongs_to
#   diesel  Diesel 2.3 the way `diesel print-schema` and its guide write it:
#           table! for every table in schema.rs, joinable! for each foreign
#           key, allow_tables_to_appear_in_same_query! over all of them, and
#           #[derive(Queryable, Selectable, Identifiable, Associations)] with
#           belongs_to on each struct
#
# Each is built cold (`cargo clean -p` of the crate alone, dependencies kept)
# and incrementally (one entity file touched), in interleaved rounds (7 by
# default), medians shown.
# Dependencies are built once beforehand and not counted. It then prints the
# expanded code size per entity (`-Zunpretty=expanded`, through
# RUSTC_BOOTSTRAP on the stable toolchain) of each crate minus the plain one.
#
# Usage: bash benches/compile-cost.sh [entities] [rounds]   (about 10 minutes)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
n="${1:-50}"
runs="${2:-7}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export CARGO_TARGET_DIR="$work/target"

manifest() { # name, dependencies
  cat <<TOML
[package]
name = "$1"
version = "0.0.0"
edition = "2024"
[dependencies]
$2
[workspace]
TOML
}

make_crate() { # name: plain | loader | diesel
  local dir="$work/$1" deps=""
  mkdir -p "$dir/src"
  case "$1" in
    loader) deps="loader-runtime = { path = \"$root/loader-runtime\" }" ;;
    diesel) deps='diesel = { version = "2.3", default-features = false, features = ["sqlite"] }
libsqlite3-sys = { version = "0.35", features = ["bundled"] }' ;;
  esac
  manifest "schema_$1" "$deps" > "$dir/Cargo.toml"
  {
    echo "#![allow(dead_code, clippy::duplicated_attributes)]"
    [ "$1" = diesel ] && echo "pub mod schema;"
    for ((i = 0; i < n; i++)); do echo "pub mod e$i;"; done
  } > "$dir/src/lib.rs"
  if [ "$1" = diesel ]; then
    {
      for ((i = 0; i < n; i++)); do
        echo "diesel::table! { e_$i (id) { id -> BigInt, name -> Text, parent_id -> BigInt, note -> Nullable<Text>, } }"
      done
      for ((i = 0; i < n; i++)); do
        echo "diesel::joinable!(e_$i -> e_$(((i + n - 1) % n)) (parent_id));"
      done
      echo -n "diesel::allow_tables_to_appear_in_same_query!("
      for ((i = 0; i < n; i++)); do echo -n "e_$i, "; done
      echo ");"
    } > "$dir/src/schema.rs"
  fi
  for ((i = 0; i < n; i++)); do
    local next=$(((i + 1) % n)) prev=$(((i + n - 1) % n))
    {
      case "$1" in
        loader)
          echo "use crate::*;"
          echo "#[derive(loader_runtime::Entity)]"
          echo "#[entity(table = \"e_$i\")]"
          echo "#[has_many(e$next::E$next, fk = \"parent_id\", name = \"children\")]"
          echo "#[has_one(e$next::E$next, fk = \"parent_id\", name = \"first_child\")]"
          echo "#[belongs_to(e$prev::E$prev, fk = \"parent_id\", name = \"parent\")]"
          ;;
        diesel)
          echo "use diesel::prelude::*;"
          echo "use crate::*;"
          echo "#[derive(Queryable, Selectable, Identifiable, Associations, Debug)]"
          echo "#[diesel(table_name = crate::schema::e_$i, belongs_to(e$prev::E$prev, foreign_key = parent_id))]"
          ;;
      esac
      echo "pub struct E$i { pub id: i64, pub name: String, pub parent_id: i64, pub note: Option<String> }"
    } > "$dir/src/e$i.rs"
  done
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

seconds() { # command...
  local start end
  start=$(date +%s.%N)
  "$@" > /dev/null 2>&1
  end=$(date +%s.%N)
  awk "BEGIN { printf \"%.2f\n\", $end - $start }"
}

build() { (cd "$work/$1" && cargo build --quiet); }

# One cold and one incremental build of each crate per round, the crates
# interleaved within a round, so that the shared machine's slow spells fall
# on all three alike.
cold_once() { # name
  (cd "$work/$1" && cargo clean --quiet -p "schema_$1")
  seconds build "$1"
}

incremental_once() { # name
  touch "$work/$1/src/e$((n / 2)).rs"
  seconds build "$1"
}

expanded_bytes() { # name
  (cd "$work/$1" && RUSTC_BOOTSTRAP=1 cargo rustc --quiet --lib -- -Zunpretty=expanded 2>/dev/null) | wc -c
}

declare -A cold_s incr_s size
crates="plain loader diesel"
for crate in $crates; do
  make_crate "$crate"
  echo "building $crate's dependencies..." >&2
  build "$crate"
  : > "$work/$crate.cold"
  : > "$work/$crate.incremental"
done
for ((r = 1; r <= runs; r++)); do
  echo "round $r of $runs..." >&2
  for crate in $crates; do
    cold_once "$crate" >> "$work/$crate.cold"
    incremental_once "$crate" >> "$work/$crate.incremental"
  done
done
for crate in $crates; do
  cold_s[$crate]=$(median < "$work/$crate.cold")
  incr_s[$crate]=$(median < "$work/$crate.incremental")
  size[$crate]=$(expanded_bytes "$crate")
done

echo "$n entities in one file each, 3 relations each; rustc $(rustc --version | cut -d' ' -f2); medians of $runs rounds"
echo
echo "| crate | cold build of the crate | incremental (one entity file touched) | expanded code per entity |"
echo "|---|---:|---:|---:|"
for crate in $crates; do
  per=$(((size[$crate] - size[plain]) / n))
  echo "| $crate | ${cold_s[$crate]} s | ${incr_s[$crate]} s | $([ "$crate" = plain ] && echo "$((size[plain] / n)) B (the structs)" || echo "+$per B") |"
done
echo
awk "BEGIN { printf \"loader / diesel: cold %.2fx, incremental %.2fx\n\", ${cold_s[loader]} / ${cold_s[diesel]}, ${incr_s[loader]} / ${incr_s[diesel]} }"
