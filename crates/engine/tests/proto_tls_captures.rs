//! Real captures from `../shared/data` through the TLS analyzer, compared with
//! tshark (SNI, JA3, ServerHello cipher, JA3S) and with nDPI's expected
//! output (`[JA3C: ..]`, `[JA4: ..]`, `[JA3S: ..]`, certificate SHA-1).
//! Skips with a message when the data folder or tshark is absent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod tls_support;

use std::collections::HashMap;
use std::path::Path;

use gatewatch_engine::proto::tls::{names, SslRecord};
use tls_support::{analyze_capture, data_dir, endpoints, tshark_available, tshark_fields};

/// Agreement of one field: (matching, compared).
#[derive(Default, Debug, Clone, Copy)]
struct Tally {
    same: usize,
    total: usize,
}

impl Tally {
    fn add(&mut self, same: bool) {
        self.total += 1;
        self.same += usize::from(same);
    }
}

#[derive(Default, Debug)]
struct Agreement {
    sni: Tally,
    ja3: Tally,
    cipher: Tally,
    ja3s: Tally,
    missing: usize,
}

/// `a:p` from tshark address and port columns (IPv4 or IPv6).
fn endpoint(v4: &str, v6: &str, port: &str) -> String {
    let addr = if v4.is_empty() { v6 } else { v4 };
    // Several values (tunnels) are comma-separated: the innermost is last.
    let addr = addr.rsplit(',').next().unwrap_or(addr);
    format!("{addr}:{port}")
}

/// Compares one capture with tshark; mismatches are printed.
fn compare_with_tshark(path: &Path, agreement: &mut Agreement) {
    let (records, _) = analyze_capture(path);
    let by_client: HashMap<(String, String), &SslRecord> =
        records.iter().map(|r| (endpoints(r), r)).collect();
    let name = path.file_name().unwrap().to_string_lossy();
    let hello_fields = [
        "ip.src",
        "ipv6.src",
        "tcp.srcport",
        "udp.srcport",
        "ip.dst",
        "ipv6.dst",
        "tcp.dstport",
        "udp.dstport",
        "tls.handshake.extensions_server_name",
        "tls.handshake.ja3",
        "dtls.handshake.ja3",
        "tls.handshake.ciphersuite",
        "tls.handshake.ja3s",
        "dtls.handshake.ja3s",
        "dtls.handshake.ciphersuite",
    ];
    let key = |row: &[String], client_is_src: bool| {
        let src = endpoint(&row[0], &row[1], &format!("{}{}", row[2], row[3]));
        let dst = endpoint(&row[4], &row[5], &format!("{}{}", row[6], row[7]));
        if client_is_src {
            (src, dst)
        } else {
            (dst, src)
        }
    };
    let mut seen = std::collections::HashSet::new();
    let filter = "tls.handshake.type == 1 || dtls.handshake.type == 1";
    for row in tshark_fields(path, filter, &hello_fields) {
        let k = key(&row, true);
        if !seen.insert(("c", k.clone())) {
            continue;
        }
        let Some(r) = by_client.get(&k) else {
            agreement.missing += 1;
            eprintln!("{name}: no record for client hello {k:?}");
            continue;
        };
        let sni = row[8].split(',').next().unwrap_or("");
        let ja3 = if row[9].is_empty() { &row[10] } else { &row[9] };
        let ja3 = ja3.split(',').next().unwrap_or("");
        let same_sni = r.server_name.as_deref().unwrap_or("") == sni;
        let same_ja3 = r.ja3.as_deref().unwrap_or("") == ja3;
        if !same_sni || !same_ja3 {
            eprintln!(
                "{name} {k:?}: sni {:?} vs tshark {sni:?}, ja3 {:?} vs {ja3:?}",
                r.server_name, r.ja3
            );
        }
        agreement.sni.add(same_sni);
        agreement.ja3.add(same_ja3);
    }
    let filter = "tls.handshake.type == 2 || dtls.handshake.type == 2";
    for row in tshark_fields(path, filter, &hello_fields) {
        let k = key(&row, false);
        if !seen.insert(("s", k.clone())) {
            continue;
        }
        let Some(r) = by_client.get(&k) else {
            agreement.missing += 1;
            eprintln!("{name}: no record for server hello {k:?}");
            continue;
        };
        let suite = if row[11].is_empty() {
            &row[14]
        } else {
            &row[11]
        };
        let suite = suite.split(',').next().unwrap_or("");
        let id = u16::from_str_radix(suite.trim_start_matches("0x"), 16).unwrap_or(0);
        let ja3s = if row[12].is_empty() {
            &row[13]
        } else {
            &row[12]
        };
        let ja3s = ja3s.split(',').next().unwrap_or("");
        let same_cipher = r.cipher.as_deref() == Some(&*names::cipher(id));
        let same_ja3s = r.ja3s.as_deref().unwrap_or("") == ja3s;
        if !same_cipher || !same_ja3s {
            eprintln!(
                "{name} {k:?}: cipher {:?} vs tshark {suite}, ja3s {:?} vs {ja3s:?}",
                r.cipher, r.ja3s
            );
        }
        agreement.cipher.add(same_cipher);
        agreement.ja3s.add(same_ja3s);
    }
}

fn report(label: &str, a: &Agreement) {
    eprintln!(
        "{label}: sni {}/{}, ja3 {}/{}, cipher {}/{}, ja3s {}/{}, hellos without record {}",
        a.sni.same,
        a.sni.total,
        a.ja3.same,
        a.ja3.total,
        a.cipher.same,
        a.cipher.total,
        a.ja3s.same,
        a.ja3s.total,
        a.missing
    );
}

fn assert_all_agree(a: &Agreement) {
    for (field, t) in [
        ("sni", a.sni),
        ("ja3", a.ja3),
        ("cipher", a.cipher),
        ("ja3s", a.ja3s),
    ] {
        assert_eq!(
            t.same, t.total,
            "{field}: {}/{} agree with tshark",
            t.same, t.total
        );
    }
    assert_eq!(a.missing, 0, "hellos tshark saw without a record");
}

const NDPI_TLS: [&str; 12] = [
    "443-chrome.pcap",
    "443-curl.pcap",
    "google_ssl.pcap",
    "tls_esni_sni_both.pcap",
    "tls-esni-fuzzed.pcap",
    "tls_certificate_too_long.pcap",
    "ssl-cert-name-mismatch.pcap",
    "selfsigned.pcap",
    "ja3_lots_of_cipher_suites.pcap",
    "tls_alert.pcap",
    "tls_unidirectional.pcap",
    "dtls2.pcap",
];

#[test]
fn tshark_agrees_on_ndpi_tls_captures() {
    let Some(dir) = data_dir() else { return };
    if !tshark_available() {
        return;
    }
    let mut a = Agreement::default();
    for name in NDPI_TLS {
        compare_with_tshark(&dir.join("ndpi/pcap").join(name), &mut a);
    }
    report("nDPI TLS captures vs tshark", &a);
    assert!(a.ja3.total >= 10, "too few hellos compared: {a:?}");
    assert_all_agree(&a);
}

/// One flow of nDPI's expected output that carries a JA3C.
#[derive(Debug)]
struct NdpiFlow {
    endpoints: [String; 2],
    ja3c: String,
    ja4: Option<String>,
    ja3s: Option<String>,
    sha1: Option<String>,
}

/// The `[Key: value]` of an nDPI flow line.
fn bracket<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let start = line.find(&format!("[{key}: "))? + key.len() + 3;
    let end = line.get(start..)?.find(']')? + start;
    line.get(start..end)
}

fn ndpi_flows(out: &str) -> Vec<NdpiFlow> {
    let mut flows = Vec::new();
    for line in out.lines() {
        let Some(ja3c) = bracket(line, "JA3C") else {
            continue;
        };
        if line.contains("/QUIC") {
            continue; // QUIC is not analysed here
        }
        let mut words = line
            .split_whitespace()
            .skip_while(|w| *w != "TCP" && *w != "UDP");
        let (Some(_), Some(a), Some(_), Some(b)) =
            (words.next(), words.next(), words.next(), words.next())
        else {
            continue;
        };
        let norm = |s: &str| s.replace(['[', ']'], "");
        flows.push(NdpiFlow {
            endpoints: [norm(a), norm(b)],
            ja3c: ja3c.to_owned(),
            ja4: bracket(line, "JA4").map(str::to_owned),
            ja3s: bracket(line, "JA3S").map(|s| s.split(' ').next().unwrap_or(s).to_owned()),
            sha1: bracket(line, "Certificate SHA-1")
                .map(|s| s.replace(':', "").to_ascii_lowercase()),
        });
    }
    flows
}

/// Every nDPI result with `[JA3C: ..]` whose capture is TLS over TCP or DTLS
/// (QUIC is not analysed here; tunnels are not followed by the decoder).
#[test]
fn ndpi_fingerprints_agree() {
    let Some(dir) = data_dir() else { return };
    let results = dir.join("ndpi/result");
    let mut names: Vec<String> = std::fs::read_dir(&results)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".out"))
        .collect();
    names.sort();
    let (mut ja3, mut ja4, mut ja3s, mut sha1) = (
        Tally::default(),
        Tally::default(),
        Tally::default(),
        Tally::default(),
    );
    let mut ja4_parts = Tally::default();
    let mut unmatched = Vec::new();
    for name in names {
        let out = std::fs::read_to_string(results.join(&name)).unwrap();
        let flows = ndpi_flows(&out);
        let capture = dir.join("ndpi/pcap").join(name.trim_end_matches(".out"));
        if flows.is_empty() || !capture.is_file() || name.starts_with("quic") {
            continue;
        }
        let (records, _) = analyze_capture(&capture);
        for f in flows {
            let r = records.iter().find(|r| {
                let (a, b) = endpoints(r);
                f.endpoints.contains(&a) && f.endpoints.contains(&b)
            });
            let Some(r) = r else {
                unmatched.push(format!("{name} {:?}", f.endpoints));
                continue;
            };
            let check = |t: &mut Tally, what: &str, ours: Option<&str>, theirs: &str| {
                t.add(ours == Some(theirs));
                if ours != Some(theirs) {
                    eprintln!("{name} {:?}: {what} {ours:?} vs nDPI {theirs}", f.endpoints);
                }
            };
            check(&mut ja3, "JA3", r.ja3.as_deref(), &f.ja3c);
            if let Some(v) = &f.ja4 {
                let ours = r.ja4.as_deref().unwrap_or("");
                ja4.add(ours == v);
                let (ours_a, ours_hashes) = ours.split_at(ours.find('_').unwrap_or(0));
                let (theirs_a, theirs_hashes) = v.split_at(v.find('_').unwrap_or(0));
                // nDPI deviates from the FoxIO spec in JA4_a's SNI flag ('d' without an SNI
                // extension, 'i' for an IP-literal SNI) and ALPN characters ("ht" for
                // "http/1.1"), and hashes an empty extension list instead of printing
                // 000000000000; everything else must agree.
                let hashes_agree = ours_hashes == theirs_hashes
                    || ours_hashes.replace("_000000000000", "_e3b0c44298fc") == theirs_hashes;
                let prefix_agree =
                    ours_a.get(..3) == theirs_a.get(..3) && ours_a.get(4..8) == theirs_a.get(4..8);
                ja4_parts.add(hashes_agree && prefix_agree);
                if ours != v {
                    eprintln!("{name} {:?}: JA4 {ours} vs nDPI {v}", f.endpoints);
                }
            }
            if let Some(v) = &f.ja3s {
                check(&mut ja3s, "JA3S", r.ja3s.as_deref(), v);
            }
            if let Some(v) = &f.sha1 {
                check(&mut sha1, "cert SHA-1", r.cert_sha1.as_deref(), v);
            }
        }
    }
    eprintln!(
        "nDPI agreement: JA3C {}/{}, JA4 {}/{} (outside nDPI's known deviations {}/{}), JA3S {}/{}, cert SHA-1 {}/{}; flows without a record: {}",
        ja3.same, ja3.total, ja4.same, ja4.total, ja4_parts.same, ja4_parts.total, ja3s.same, ja3s.total,
        sha1.same, sha1.total, unmatched.len()
    );
    for u in &unmatched {
        eprintln!("  no record: {u}");
    }
    assert!(ja3.total >= 100, "too few flows compared");
    for (what, t) in [
        ("JA3C", ja3),
        ("JA4 (parts)", ja4_parts),
        ("JA3S", ja3s),
        ("cert SHA-1", sha1),
    ] {
        assert_eq!(t.same, t.total, "{what} disagrees with nDPI");
    }
    // Only tunnelled flows (6in4, VXLAN) are not decoded.
    assert!(unmatched.len() <= 4, "{unmatched:?}");
}

/// One IoT Sentinel setup capture with TLS per device type.
const IOT_SENTINEL_TLS: [&str; 14] = [
    "D-LinkCam/Setup-A-1-STA.pcap",
    "D-LinkDoorSensor/Setup-C-1-STA.pcap",
    "D-LinkHomeHub/Setup-A-1-STA.pcap",
    "D-LinkSensor/Setup-A-1-STA.pcap",
    "D-LinkSiren/Setup-A-1-STA.pcap",
    "D-LinkSwitch/Setup-A-1-STA.pcap",
    "D-LinkWaterSensor/Setup-A-1-STA.pcap",
    "TP-LinkPlugHS100/Setup-A-1-STA.pcap",
    "TP-LinkPlugHS110/Setup-A-1-STA.pcap",
    "WeMoInsightSwitch/Setup-A-1-STA.pcap",
    "WeMoInsightSwitch2/Setup-C-1-STA.pcap",
    "WeMoLink/Setup-A-1-STA.pcap",
    "WeMoSwitch/Setup-A-1-STA.pcap",
    "WeMoSwitch2/Setup-C-1-STA.pcap",
];

#[test]
fn tshark_agrees_on_iot_sentinel_sample() {
    let Some(dir) = data_dir() else { return };
    if !tshark_available() {
        return;
    }
    let mut a = Agreement::default();
    for name in IOT_SENTINEL_TLS {
        compare_with_tshark(&dir.join("iot-sentinel").join(name), &mut a);
    }
    report("IoT Sentinel sample vs tshark", &a);
    assert!(a.ja3.total >= 14, "too few hellos compared: {a:?}");
    assert_all_agree(&a);
}

/// Every IoT Sentinel capture (slow: two tshark runs per file).
#[test]
#[ignore = "runs tshark on ~550 captures; run with --ignored"]
fn tshark_agrees_on_all_iot_sentinel() {
    let Some(dir) = data_dir() else { return };
    if !tshark_available() {
        return;
    }
    let mut files = Vec::new();
    let mut stack = vec![dir.join("iot-sentinel")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "pcap") {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut a = Agreement::default();
    for f in &files {
        compare_with_tshark(f, &mut a);
    }
    report(
        &format!("all IoT Sentinel ({} files) vs tshark", files.len()),
        &a,
    );
    assert_all_agree(&a);
}
