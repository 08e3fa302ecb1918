#!/usr/bin/env bash
# The first hotfix run of an incident against the normal lane, on a generated Cargo workspace of
# nine members (tokio, serde, regex, clap…) with the fixlane.toml `fixlane init` writes for it.
#
#   benches/hotfix-lane.sh            # about 10 minutes on 2 cores, most of it the cold build
#
# It runs the normal lane on `main` (cold, to warm the cache), keeps that target directory, then
# puts a one-line fix in `shop-money` (a library six members depend on, directly or not) on a
# hotfix branch and measures, each from the same warm cache:
#   normal      the normal lane on the fix (what the fix costs without an emergency lane)
#   first       the first hotfix run on the fix
#   warm        a second hotfix run after the fix is amended (another line in shop-money)
#   rerun       the same commit once more (nothing left to build)
# and prints each against the normal lane measured in this same run. The ratios the starter
# aims for: first <= 0.25, warm <= 0.15.
#
# FIXLANE (default target/debug/fixlane, built if missing) is the binary measured;
# FIXLANE_BENCH_BUDGET (seconds, default 2700) bounds the whole script; FIXLANE_BENCH_KEEP=1
# keeps the workspace. Crates come from Cargo's registry (offline when it has them cached).
# Not run in CI: it measures cargo far more than fixlane.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
fixlane=${FIXLANE:-$repo/target/debug/fixlane}
if [ ! -x "$fixlane" ]; then
  (cd "$repo" && cargo build --quiet -p fixlane-cli)
fi
budget=${FIXLANE_BENCH_BUDGET:-2700}
deadline=$(( $(date +%s) + budget ))
work=$(mktemp -d "${TMPDIR:-/tmp}/fixlane-hotfix-bench.XXXXXX")
if [ "${FIXLANE_BENCH_KEEP:-}" != 1 ]; then
  trap 'rm -rf "$work"' EXIT
fi
ws=$work/shop
mkdir -p "$ws"
cd "$ws"

# --- the workspace -------------------------------------------------------------------------
member() { # name, [dependencies] lines, [dev-dependencies] lines
  mkdir -p "crates/$1/src"
  printf '[package]\nname = "%s"\nversion = "0.1.0"\nedition = "2021"\npublish = false\n\n[dependencies]\n%b\n[dev-dependencies]\n%b\n' \
    "$1" "$2" "$3" > "crates/$1/Cargo.toml"
}
cat > Cargo.toml <<'TOML'
[workspace]
resolver = "2"
members = ["crates/*"]
TOML
printf 'target\n.fixlane-bench\n' > .gitignore

member shop-core 'serde = { version = "1", features = ["derive"] }\nthiserror = "2"' ''
cat > crates/shop-core/src/lib.rs <<'RS'
//! Shared types of the shop.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sku(pub String);

#[derive(Debug, thiserror::Error)]
pub enum ShopError {
    #[error("unknown sku {0:?}")]
    UnknownSku(Sku),
    #[error("invalid amount {0}")]
    InvalidAmount(i64),
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn errors_name_the_sku() {
        let error = ShopError::UnknownSku(Sku("a-1".into()));
        assert_eq!(error.to_string(), "unknown sku Sku(\"a-1\")");
    }
}
RS

member shop-money 'shop-core = { path = "../shop-core" }\nserde = "1"' ''
cat > crates/shop-money/src/lib.rs <<'RS'
//! Amounts of money in cents.
use shop_core::ShopError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Cents(pub i64);

/// Applies a percentage discount, rounding half up.
pub fn discount(amount: Cents, percent: i64) -> Result<Cents, ShopError> {
    if !(0..=100).contains(&percent) {
        return Err(ShopError::InvalidAmount(percent));
    }
    let off = (amount.0 * percent + 50) / 100;
    Ok(Cents(amount.0 - off))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn discounts_round_half_up() {
        assert_eq!(discount(Cents(999), 10).unwrap(), Cents(899));
        assert!(discount(Cents(1), 101).is_err());
    }
}
RS

member shop-util 'memchr = "2"\nitoa = "1"' ''
cat > crates/shop-util/src/lib.rs <<'RS'
//! Small text helpers.
pub fn count_lines(text: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', text).count()
}
pub fn number(value: u64) -> String {
    itoa::Buffer::new().format(value).to_owned()
}
#[cfg(test)]
mod tests {
    #[test]
    fn counts() {
        assert_eq!(super::count_lines(b"a\nb\n"), 2);
        assert_eq!(super::number(42), "42");
    }
}
RS

member shop-store 'shop-core = { path = "../shop-core" }\nserde_json = "1"\ntokio = { version = "1", features = ["rt", "fs", "sync", "io-util"] }' \
  'tempfile = "3"\ntokio = { version = "1", features = ["macros"] }'
cat > crates/shop-store/src/lib.rs <<'RS'
//! Orders on disk, one JSON file each.
use std::path::Path;

pub async fn save(dir: &Path, id: u64, sku: &shop_core::Sku) -> std::io::Result<()> {
    let text = serde_json::to_string(sku)?;
    tokio::fs::write(dir.join(format!("{id}.json")), text).await
}

pub async fn load(dir: &Path, id: u64) -> std::io::Result<shop_core::Sku> {
    let text = tokio::fs::read_to_string(dir.join(format!("{id}.json"))).await?;
    Ok(serde_json::from_str(&text)?)
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn an_order_comes_back() {
        let dir = tempfile::tempdir().unwrap();
        let sku = shop_core::Sku("a-1".into());
        super::save(dir.path(), 7, &sku).await.unwrap();
        assert_eq!(super::load(dir.path(), 7).await.unwrap(), sku);
    }
}
RS

member shop-pricing 'shop-core = { path = "../shop-core" }\nshop-money = { path = "../shop-money" }\nregex = "1"' ''
cat > crates/shop-pricing/src/lib.rs <<'RS'
//! Prices from coupon codes.
use shop_money::{Cents, discount};

/// `SAVE10` takes 10% off; anything else nothing.
pub fn price(amount: Cents, coupon: &str) -> Cents {
    let pattern = regex::Regex::new(r"^SAVE(\d{1,2})$").expect("a valid pattern");
    match pattern.captures(coupon).and_then(|found| found[1].parse().ok()) {
        Some(percent) => discount(amount, percent).unwrap_or(amount),
        None => amount,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn coupons() {
        assert_eq!(price(Cents(1000), "SAVE10"), Cents(900));
        assert_eq!(price(Cents(1000), "FREE"), Cents(1000));
    }
}
RS

member shop-tax 'shop-money = { path = "../shop-money" }' ''
cat > crates/shop-tax/src/lib.rs <<'RS'
//! Sales tax.
use shop_money::Cents;
pub fn with_tax(amount: Cents, percent: i64) -> Cents {
    Cents(amount.0 + (amount.0 * percent + 50) / 100)
}
#[cfg(test)]
mod tests {
    #[test]
    fn adds() {
        assert_eq!(super::with_tax(shop_money::Cents(1000), 19), shop_money::Cents(1190));
    }
}
RS

member shop-report 'shop-money = { path = "../shop-money" }\nserde_json = { version = "1", features = ["preserve_order"] }' ''
cat > crates/shop-report/src/lib.rs <<'RS'
//! Daily totals as JSON, keys in the order written.
use shop_money::Cents;
pub fn total(lines: &[(&str, Cents)]) -> String {
    let mut map = serde_json::Map::new();
    for (name, cents) in lines {
        map.insert((*name).to_owned(), serde_json::json!(cents.0));
    }
    serde_json::Value::Object(map).to_string()
}
#[cfg(test)]
mod tests {
    #[test]
    fn keeps_order() {
        let text = super::total(&[("z", shop_money::Cents(1)), ("a", shop_money::Cents(2))]);
        assert_eq!(text, r#"{"z":1,"a":2}"#);
    }
}
RS

member shop-api 'shop-core = { path = "../shop-core" }\nshop-store = { path = "../shop-store" }\nshop-pricing = { path = "../shop-pricing" }\nshop-money = { path = "../shop-money" }\ntokio = { version = "1", features = ["rt-multi-thread", "macros", "net", "time"] }\nserde_json = "1"' ''
cat > crates/shop-api/src/lib.rs <<'RS'
//! The checkout handler.
use shop_money::Cents;

pub async fn checkout(dir: &std::path::Path, id: u64, sku: &str, coupon: &str) -> std::io::Result<Cents> {
    shop_store::save(dir, id, &shop_core::Sku(sku.to_owned())).await?;
    Ok(shop_pricing::price(Cents(1000), coupon))
}
RS
mkdir -p crates/shop-api/tests
cat > crates/shop-api/tests/checkout.rs <<'RS'
#[tokio::test]
async fn checkout_saves_and_prices() {
    let dir = std::env::temp_dir().join(format!("shop-api-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let price = shop_api::checkout(&dir, 1, "a-1", "SAVE10").await.unwrap();
    assert_eq!(price, shop_money::Cents(900));
    std::fs::remove_dir_all(&dir).unwrap();
}
RS

member shop-cli 'shop-api = { path = "../shop-api" }\nclap = { version = "4", features = ["derive"] }\ntokio = { version = "1", features = ["rt-multi-thread"] }' ''
cat > crates/shop-cli/src/main.rs <<'RS'
//! `shop checkout SKU [--coupon CODE]`.
use clap::Parser;

#[derive(Parser)]
struct Args {
    sku: String,
    #[arg(long, default_value = "")]
    coupon: String,
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Runtime::new()?;
    let price = runtime.block_on(shop_api::checkout(&std::env::temp_dir(), 1, &args.sku, &args.coupon))?;
    println!("{}", price.0);
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses() {
        use clap::Parser as _;
        let args = super::Args::parse_from(["shop", "a-1", "--coupon", "SAVE5"]);
        assert_eq!(args.coupon, "SAVE5");
    }
}
RS

cargo generate-lockfile --offline --quiet 2>/dev/null || cargo generate-lockfile --quiet
git init --quiet --initial-branch=main
git config user.email bench@example.com
git config user.name bench
"$fixlane" init >/dev/null
git add --all
git commit --quiet -m "the shop"

# --- runs ----------------------------------------------------------------------------------
left() { echo $(( deadline - $(date +%s) )); }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# run NAME ARGS…: one `fixlane run --json`, timed; its events kept in $work/NAME.jsonl.
run() {
  local name=$1
  shift
  local started ended
  if [ "$(left)" -le 0 ]; then
    echo "the budget of ${budget}s is spent; stopping before '$name'" >&2
    exit 3
  fi
  started=$(now_ms)
  CI=true timeout "$(left)" "$fixlane" run --json "$@" > "$work/$name.jsonl" 2> "$work/$name.stderr" || true
  ended=$(now_ms)
  echo $(( ended - started )) > "$work/$name.ms"
}
ms() { cat "$work/$1.ms"; }
# The gates a run ran, with their durations and outcomes.
gates() {
  sed -n 's/.*"event":"gate_finished".*"gate":"\([^"]*\)".*"outcome":"\([^"]*\)".*"duration_ms":\([0-9]*\).*/\1 \3ms \2/p' "$work/$1.jsonl" | tr '\n' ',' | sed 's/,$//; s/,/, /g'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

echo "cold normal lane on main (warms the cache; not compared)…" >&2
run cold --lane normal
cp -a target "$work/target.warm"

git checkout --quiet -b hotfix/INC-2026-12-01-001-discount-rounding
sed -i 's|let off = (amount.0 \* percent + 50) / 100;|let off = (amount.0 * percent + 50) / 100; // rounds half up|' crates/shop-money/src/lib.rs
git commit --quiet -am "fix: discount rounding"

echo "normal lane on the fix…" >&2
run normal --lane normal
rm -rf target
cp -a "$work/target.warm" target
echo "first hotfix run on the fix…" >&2
run first --lane hotfix
sed -i 's|// rounds half up|// rounds half up, as the tills do|' crates/shop-money/src/lib.rs
git commit --quiet -am "fix: discount rounding, amended"
echo "second hotfix run (the fix amended)…" >&2
run warm --lane hotfix
echo "the same commit again…" >&2
run rerun --lane hotfix

# Self-check: the first hotfix run's unit gate compiled no crate from the registry (it reused
# the normal lane's dependencies).
first_run=$(sed -n 's/.*"run_id":"\([^"]*\)".*/\1/p' "$work/first.jsonl" | head -n 1)
rebuilt=$(grep -c 'Compiling [a-z_-]* v[0-9]' ".git/fixlane/logs/$first_run/unit.log" 2>/dev/null || true)
own=$(grep -c 'Compiling shop-' ".git/fixlane/logs/$first_run/unit.log" 2>/dev/null || true)

# For contrast, what the first hotfix run's unit gate would cost as `cargo test -p` of the same
# packages, from the same warm cache: cargo resolves features for those packages alone.
rm -rf target
mv "$work/target.warm" target
packages=$(sed -n 's/.*"packages":{"direct":\[\([^]]*\)\],"dependents":\[\([^]]*\)\].*/\1,\2/p' "$work/first.jsonl" | head -n 1)
started=$(now_ms)
# shellcheck disable=SC2046 # one -p per package
timeout "$(left)" cargo test --locked --lib --bins $(for p in $(echo "$packages" | tr -d '"' | tr ',' ' '); do printf -- '-p %s ' "$p"; done) \
  > "$work/contrast.log" 2>&1 || true
echo $(( $(now_ms) - started )) > "$work/contrast.ms"
contrast_rebuilt=$(( $(grep -c 'Compiling [a-z_-]* v[0-9]' "$work/contrast.log" || true) - $(grep -c 'Compiling shop-' "$work/contrast.log" || true) ))

normal=$(ms normal)
printf 'fixlane hotfix-lane benchmark: %s cores, cargo %s, nextest %s\n' \
  "$(nproc)" "$(cargo --version | cut -d' ' -f2)" "$(cargo nextest --version 2>/dev/null | head -n 1 | cut -d' ' -f2 || echo none)"
printf '  %-7s %8s ms  %-6s  %s\n' cold "$(ms cold)" "" "$(gates cold)"
printf '  %-7s %8s ms  %-6s  %s\n' normal "$normal" 1.000 "$(gates normal)"
for name in first warm rerun; do
  printf '  %-7s %8s ms  %-6s  %s\n' "$name" "$(ms "$name")" "$(ratio "$(ms "$name")" "$normal")" "$(gates "$name")"
done
printf '  first hotfix unit gate compiled %s crates from the registry and %s of the workspace\n' \
  "$(( rebuilt - own ))" "$own"
printf '  contrast: `cargo test -p` of the same packages from the same cache took %s ms (%s x the hotfix unit gate) and compiled %s crates from the registry\n' \
  "$(ms contrast)" "$(ratio "$(ms contrast)" "$(sed -n 's/.*"event":"gate_finished".*"gate":"unit".*"duration_ms":\([0-9]*\).*/\1/p' "$work/first.jsonl")")" "$contrast_rebuilt"
