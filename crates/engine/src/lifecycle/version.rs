//! Firmware version strings in → an ordering out.
//!
//! Vendors write versions in every shape (`5.7.15`, `V5.7.3 build 210628`,
//! `002_2310A`, `9.02.00`, `S911BXXU3BWJM`). A version is split into runs of
//! digits and runs of letters, ignoring separators; runs compare pairwise,
//! digits by value, letters case-insensitively, digits before letters, and a
//! version that is a prefix of another is older (`1.5` < `1.5.1`).
//! Limits: [`MAX_VERSION_PARTS`] runs are compared, the rest is ignored.

use std::cmp::Ordering;

/// Runs of digits or letters compared; longer versions are cut.
pub const MAX_VERSION_PARTS: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Num(u64),
    Text(String),
}

fn parts(v: &str) -> Vec<Part> {
    let mut out = Vec::new();
    let mut chars = v.trim().trim_start_matches(['v', 'V']).chars().peekable();
    while let Some(&c) = chars.peek() {
        if out.len() >= MAX_VERSION_PARTS {
            break;
        }
        if c.is_ascii_digit() {
            let mut n: u64 = 0;
            while let Some(&d) = chars.peek() {
                let Some(digit) = d.to_digit(10) else { break };
                n = n.saturating_mul(10).saturating_add(u64::from(digit));
                chars.next();
            }
            out.push(Part::Num(n));
        } else if c.is_alphabetic() {
            let mut s = String::new();
            while let Some(&a) = chars.peek() {
                if !a.is_alphabetic() {
                    break;
                }
                s.extend(a.to_lowercase());
                chars.next();
            }
            out.push(Part::Text(s));
        } else {
            chars.next();
        }
    }
    out
}

/// Compares two firmware versions (see the module comment for the rules).
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let (pa, pb) = (parts(a), parts(b));
    for (x, y) in pa.iter().zip(pb.iter()) {
        let ord = match (x, y) {
            (Part::Num(x), Part::Num(y)) => x.cmp(y),
            (Part::Text(x), Part::Text(y)) => x.cmp(y),
            (Part::Num(_), Part::Text(_)) => Ordering::Less,
            (Part::Text(_), Part::Num(_)) => Ordering::Greater,
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    pa.len().cmp(&pb.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering::*;

    #[test]
    fn orders_vendor_shapes() {
        assert_eq!(compare_versions("5.7.3", "5.7.15"), Less);
        assert_eq!(compare_versions("V5.7.15 build 210628", "5.7.15"), Greater);
        assert_eq!(compare_versions("1.5", "1.5.1"), Less);
        assert_eq!(compare_versions("9.02.00", "9.2.0"), Equal);
        assert_eq!(compare_versions("002_2310A", "002_2336C"), Less);
        assert_eq!(compare_versions("1.60.1960149090", "1.61.1961096070"), Less);
        assert_eq!(compare_versions("S911BXXU3BWJM", "S911BXXU3BWK5"), Less);
        assert_eq!(compare_versions("", ""), Equal);
    }

    #[test]
    fn huge_numbers_and_long_strings_do_not_panic() {
        let long = "1.".repeat(10_000);
        assert_eq!(compare_versions(&long, &long), Equal);
        assert_eq!(compare_versions("99999999999999999999999", "1"), Greater);
    }
}
