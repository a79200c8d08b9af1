//! Manifests (D19 §3.4): bind a run to exact pack versions and hashes. A DAILY manifest per
//! date, with a deterministic seed; one FREEPLAY manifest binding every current pack.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::PackIndex;
use crate::json::canon::ContentHash;
use crate::project::config::Config;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "seedc manifest")]
pub struct Manifest {
    /// Format version (1).
    pub v: u32,
    /// `manifest_<date>_daily` or `manifest_freeplay_<hash prefix>`.
    pub manifest_id: String,
    pub mode: Mode,
    /// Epoch seconds: the date's midnight UTC for a daily; never the build time.
    pub created_at: i64,
    /// The run seed, an integer in [0, 2^53) so JavaScript reads it exactly.
    pub seed: u64,
    /// Sorted by pack_id; every hash names a bundle of the same build.
    pub pack_refs: Vec<PackRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily: Option<DailyInfo>,
    /// From seedc.toml `daily.constraints` (empty for FREEPLAY).
    pub constraints: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Mode {
    Daily,
    Freeplay,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PackRef {
    pub pack_id: String,
    pub version: String,
    pub hash: ContentHash,
}

impl PackRef {
    pub fn of(b: &PackIndex) -> Self {
        PackRef { pack_id: b.pack_id.clone(), version: b.version.clone(), hash: b.pack_hash }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DailyInfo {
    /// `daily_<date>`.
    pub daily_id: String,
    /// `YYYY-MM-DD`.
    pub date: String,
}

/// The daily seed: the first 8 bytes of SHA-256("seedc-daily-v1" NUL salt NUL date), big
/// endian, shifted right by 11 bits: an integer in [0, 2^53). Stable forever: changing it
/// would change every published daily.
pub(crate) fn daily_seed(salt: &str, date: jiff::civil::Date) -> u64 {
    let mut h = Sha256::new();
    h.update(b"seedc-daily-v1\0");
    h.update(salt.as_bytes());
    h.update(b"\0");
    h.update(date.to_string().as_bytes());
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) >> 11
}

/// Midnight UTC of a date, in epoch seconds.
pub(crate) fn midnight_utc(date: jiff::civil::Date) -> i64 {
    date.to_zoned_datetime(jiff::tz::TimeZone::UTC).map(|z| z.timestamp().as_second()).unwrap_or(0)
}

pub(crate) fn daily(config: &Config, date: jiff::civil::Date, pack_refs: Vec<PackRef>) -> Manifest {
    Manifest {
        v: 1,
        manifest_id: format!("manifest_{date}_daily"),
        mode: Mode::Daily,
        created_at: midnight_utc(date),
        seed: daily_seed(&config.project.daily_salt, date),
        pack_refs,
        daily: Some(DailyInfo { daily_id: format!("daily_{date}"), date: date.to_string() }),
        constraints: config.daily.constraints.clone(),
    }
}

/// The FREEPLAY manifest: every current pack. Its id carries a prefix of the hash of the
/// rest of the manifest, so a given id always denotes the same bytes (a new salt or
/// SOURCE_DATE_EPOCH gives a new id, never a changed manifest under an old one).
pub(crate) fn freeplay(config: &Config, pack_refs: Vec<PackRef>, created_at: i64) -> Manifest {
    let refs = crate::json::canon::canonical_of(&pack_refs).expect("pack refs always canonicalize");
    let mut h = Sha256::new();
    h.update(b"seedc-freeplay-v1\0");
    h.update(config.project.daily_salt.as_bytes());
    h.update(&refs);
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let mut manifest = Manifest {
        v: 1,
        manifest_id: String::new(),
        mode: Mode::Freeplay,
        created_at,
        seed: u64::from_be_bytes(first) >> 11,
        pack_refs,
        daily: None,
        constraints: BTreeMap::new(),
    };
    let body = crate::json::canon::canonical_of(&manifest).expect("manifests always canonicalize");
    manifest.manifest_id = format!("manifest_freeplay_{}", &ContentHash::of(&body).hex()[..16]);
    manifest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daily_seed_is_stable_and_below_2_pow_53() {
        let d: jiff::civil::Date = "2026-01-25".parse().unwrap();
        let s = daily_seed("ember-depths-daily-v1", d);
        assert!(s < 1 << 53);
        assert_eq!(s, daily_seed("ember-depths-daily-v1", d));
        assert_ne!(s, daily_seed("other-salt", d));
        assert_ne!(s, daily_seed("ember-depths-daily-v1", "2026-01-26".parse().unwrap()));
    }

    #[test]
    fn created_at_is_midnight_utc() {
        assert_eq!(midnight_utc("2026-01-25".parse().unwrap()), 1_769_299_200);
    }
}
