//! Same seed → byte-identical capture and truth; a different seed → a different capture.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod simulate_common;

use gatewatch_engine::simulate::{simulate, AttackKind, SimConfig, SimError};
use simulate_common::{pcap_bytes, run};

#[test]
fn same_seed_gives_identical_bytes_and_truth() {
    let (a, sa) = run(20, 0.5, 42, &[AttackKind::All]);
    let (b, sb) = run(20, 0.5, 42, &[AttackKind::All]);
    assert!(a.len() > 1000);
    assert_eq!(pcap_bytes(&a), pcap_bytes(&b));
    assert_eq!(
        serde_json::to_string(&sa.truth).unwrap(),
        serde_json::to_string(&sb.truth).unwrap()
    );
    assert_eq!(sa.devices, sb.devices);
}

#[test]
fn different_seed_gives_a_different_capture() {
    let (a, sa) = run(20, 0.5, 1, &[]);
    let (b, sb) = run(20, 0.5, 2, &[]);
    assert_ne!(pcap_bytes(&a), pcap_bytes(&b));
    assert_ne!(
        sa.devices.iter().map(|d| &d.mac).collect::<Vec<_>>(),
        sb.devices.iter().map(|d| &d.mac).collect::<Vec<_>>()
    );
}

#[test]
fn out_of_range_configs_are_refused_with_the_field_named() {
    let mut out = Vec::new();
    let e = simulate(&SimConfig::new(0, 1.0, 1), &mut out).unwrap_err();
    assert!(matches!(e, SimError::Devices { got: 0, .. }));
    assert!(e.to_string().contains("--devices"));
    let e = simulate(&SimConfig::new(5, f64::NAN, 1), &mut out).unwrap_err();
    assert!(e.to_string().contains("--hours"));
    assert!(out.is_empty());
}
