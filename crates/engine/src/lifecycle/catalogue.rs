//! The lifecycle catalogue: what the operator (or a vendor feed) knows about
//! products. Deserialized from YAML by the caller (the engine does no I/O):
//!
//! ```yaml
//! version: 1
//! products:
//!   - vendor: Hikvision          # matched case-insensitively, as a prefix of the device's vendor
//!     model: DS-2CD2143G2        # found case-insensitively in the device's model; omitted = any model
//!     end_of_life: 2027-12-31    # end of vendor support (YYYY-MM-DD), optional
//!     latest: 5.7.15             # newest released firmware, optional
//!     default_credentials: true  # ships with a well-known default password
//!     vulnerable:                # firmware ranges with known CVEs
//!       - below: 5.7.10          # versions older than this (exclusive)
//!         cves: [CVE-2021-36260]
//! ```
//! Vendors match as case-insensitive prefixes (`Hikvision` matches
//! `Hikvision Digital`), models as case-insensitive substrings (`HS110`
//! matches `Kasa HS110`). Limits: the caller bounds the file size; entries
//! are matched in order, the most specific (vendor + model) first.

use serde::Deserialize;

use super::version::compare_versions;
use crate::time::Timestamp;

/// The catalogue format this build reads.
pub const CATALOGUE_VERSION: u32 = 1;

/// A whole catalogue file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    pub version: u32,
    #[serde(default)]
    pub products: Vec<Product>,
}

/// Lifecycle facts about one product (vendor, optionally one model).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub vendor: String,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub end_of_life: Option<String>,
    #[serde(default)]
    pub latest: Option<String>,
    #[serde(default)]
    pub default_credentials: bool,
    #[serde(default)]
    pub vulnerable: Vec<VulnerableRange>,
    /// Free text: where the facts come from.
    #[serde(default)]
    pub source: Option<String>,
}

/// Firmware versions with known vulnerabilities: `from` (inclusive, optional)
/// up to `below` (exclusive, optional).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VulnerableRange {
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub below: Option<String>,
    pub cves: Vec<String>,
}

/// Something wrong in a catalogue, naming the entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    #[error("catalogue version {found} is not supported (this build reads version {CATALOGUE_VERSION}); upgrade gatewatch or convert the file")]
    Version { found: u32 },
    #[error("product {index} ({vendor}): end_of_life `{value}` is not a date (YYYY-MM-DD)")]
    BadDate {
        index: usize,
        vendor: String,
        value: String,
    },
    #[error("product {index} ({vendor}): a vulnerable range has neither `from` nor `below`")]
    OpenRange { index: usize, vendor: String },
    #[error("product {index}: vendor is empty")]
    EmptyVendor { index: usize },
}

impl Catalogue {
    /// Checks what serde cannot: version, dates, ranges. Products are 1-based in messages.
    pub fn validate(&self) -> Result<(), CatalogueError> {
        if self.version != CATALOGUE_VERSION {
            return Err(CatalogueError::Version {
                found: self.version,
            });
        }
        for (i, p) in self.products.iter().enumerate() {
            let index = i + 1;
            if p.vendor.trim().is_empty() {
                return Err(CatalogueError::EmptyVendor { index });
            }
            if let Some(d) = &p.end_of_life {
                if parse_date(d).is_none() {
                    return Err(CatalogueError::BadDate {
                        index,
                        vendor: p.vendor.clone(),
                        value: d.clone(),
                    });
                }
            }
            if p.vulnerable
                .iter()
                .any(|r| r.from.is_none() && r.below.is_none())
            {
                return Err(CatalogueError::OpenRange {
                    index,
                    vendor: p.vendor.clone(),
                });
            }
        }
        Ok(())
    }

    /// The most specific product entry for a vendor and model.
    pub fn lookup(&self, vendor: &str, model: Option<&str>) -> Option<&Product> {
        let matches = |p: &&Product| {
            starts_with_ci(vendor, &p.vendor)
                && match (&p.model, model) {
                    (None, _) => true,
                    (Some(pm), Some(m)) => contains_ci(m, pm),
                    (Some(_), None) => false,
                }
        };
        let mut candidates = self.products.iter().filter(matches);
        let first = candidates.next()?;
        if first.model.is_some() {
            return Some(first);
        }
        Some(candidates.find(|p| p.model.is_some()).unwrap_or(first))
    }
}

impl Product {
    /// CVEs of the ranges `firmware` falls in.
    pub fn cves_for(&self, firmware: &str) -> Vec<&str> {
        self.vulnerable
            .iter()
            .filter(|r| {
                r.from
                    .as_deref()
                    .is_none_or(|f| compare_versions(firmware, f).is_ge())
                    && r.below
                        .as_deref()
                        .is_none_or(|b| compare_versions(firmware, b).is_lt())
            })
            .flat_map(|r| r.cves.iter().map(String::as_str))
            .collect()
    }

    /// End of life as packet time (midnight UTC), if given and valid.
    pub fn end_of_life_ts(&self) -> Option<Timestamp> {
        self.end_of_life.as_deref().and_then(parse_date)
    }
}

fn contains_ci(value: &str, needle: &str) -> bool {
    value
        .to_ascii_lowercase()
        .contains(&needle.trim().to_ascii_lowercase())
}

fn starts_with_ci(value: &str, prefix: &str) -> bool {
    let (v, p) = (value.trim(), prefix.trim());
    v.len() >= p.len()
        && v.get(..p.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(p))
}

/// `YYYY-MM-DD` → midnight UTC of that day; `None` when not a real date.
pub fn parse_date(s: &str) -> Option<Timestamp> {
    let mut it = s.trim().splitn(3, '-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: u32 = it.next()?.parse().ok()?;
    let d: u32 = it.next()?.parse().ok()?;
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    Some(Timestamp::from_secs_nanos(
        days_from_civil(y, m, d) * 86_400,
        0,
    ))
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(vendor: &str, model: Option<&str>) -> Product {
        Product {
            vendor: vendor.into(),
            model: model.map(Into::into),
            ..Product::default()
        }
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01"), Some(Timestamp::ZERO));
        assert_eq!(
            parse_date("2023-11-14"),
            Some(Timestamp::from_secs_nanos(1_699_920_000, 0))
        );
        assert_eq!(
            parse_date("2024-02-29"),
            Some(Timestamp::from_secs_nanos(1_709_164_800, 0))
        );
        assert!(parse_date("2023-02-29").is_none());
        assert!(parse_date("2023-13-01").is_none());
        assert!(parse_date("next year").is_none());
    }

    #[test]
    fn lookup_prefers_the_model_entry() {
        let cat = Catalogue {
            version: 1,
            products: vec![
                product("Hikvision", None),
                product("hikvision", Some("DS-2CD2143")),
            ],
        };
        let p = cat.lookup("Hikvision", Some("DS-2CD2143G2-I")).unwrap();
        assert_eq!(p.model.as_deref(), Some("DS-2CD2143"));
        let p = cat.lookup("Hikvision Digital", Some("DS-7608")).unwrap();
        assert!(p.model.is_none());
        assert!(cat.lookup("Axis", Some("M3106")).is_none());
    }

    #[test]
    fn vulnerable_ranges() {
        let mut p = product("TP-Link", Some("Kasa HS110"));
        p.vulnerable = vec![
            VulnerableRange {
                from: None,
                below: Some("1.5.8".into()),
                cves: vec!["CVE-A".into()],
            },
            VulnerableRange {
                from: Some("1.5.7".into()),
                below: Some("1.6".into()),
                cves: vec!["CVE-B".into()],
            },
        ];
        assert_eq!(p.cves_for("1.5.6"), vec!["CVE-A"]);
        assert_eq!(p.cves_for("1.5.7"), vec!["CVE-A", "CVE-B"]);
        assert_eq!(p.cves_for("1.5.10"), vec!["CVE-B"]);
        assert!(p.cves_for("1.6.0").is_empty());
    }

    #[test]
    fn validation_names_the_entry() {
        let mut cat = Catalogue {
            version: 1,
            products: vec![product("A", None)],
        };
        assert!(cat.validate().is_ok());
        cat.products[0].end_of_life = Some("31/12/2027".into());
        let e = cat.validate().unwrap_err().to_string();
        assert!(
            e.contains("product 1 (A)") && e.contains("31/12/2027"),
            "{e}"
        );
        cat.version = 2;
        assert!(cat
            .validate()
            .unwrap_err()
            .to_string()
            .contains("version 2"));
    }
}
