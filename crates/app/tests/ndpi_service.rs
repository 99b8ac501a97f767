//! Oracle: nDPI's expected results (../shared/data/ndpi/result/*.out) name
//! the protocol of each flow. For the protocols gatewatch analyzes, conn.log's
//! `service` must agree on at least 95 % of those flows; the test prints the
//! rate per protocol and the flows that differ.
//!
//! Skips with a printed reason when ../shared/data is absent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

fn data_dir() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/ndpi");
    d.is_dir().then_some(d)
}

/// nDPI master protocol → gatewatch service.
fn service_for(ndpi: &str) -> Option<&'static str> {
    Some(match ndpi {
        "DNS" | "MDNS" => "dns",
        "HTTP" | "HTTP_Proxy" => "http",
        "TLS" => "ssl",
        "MQTT" => "mqtt",
        "SSH" => "ssh",
        "Telnet" => "telnet",
        "SSDP" => "ssdp",
        "COAP" => "coap",
        "Modbus" => "modbus",
        "DNP3" => "dnp3",
        "NTP" => "ntp",
        "DHCP" | "DHCPV6" => "dhcp",
        "RTSP" => "rtsp",
        _ => return None,
    })
}

/// `a:port`, `[v6]:port` → normalised `addr:port`.
fn endpoint(s: &str) -> String {
    s.replace(['[', ']'], "")
}

type Pair = (String, String, String);

fn pair(proto: &str, a: String, b: String) -> Pair {
    if a <= b {
        (proto.to_string(), a, b)
    } else {
        (proto.to_string(), b, a)
    }
}

/// Flow lines of one result file: (pair, nDPI master protocol name).
fn ndpi_flows(out: &str) -> Vec<(Pair, String)> {
    let mut v = Vec::new();
    for line in out.lines() {
        let toks: Vec<&str> = line.split_whitespace().collect();
        // "<n> TCP a:p <-> b:p [proto: 7.178/HTTP.Amazon]..."
        let Some(i) = toks.iter().position(|t| *t == "TCP" || *t == "UDP") else {
            continue;
        };
        if toks.get(i + 2).is_none_or(|d| *d != "<->" && *d != "->") {
            continue;
        }
        let Some(p) = line.find("[proto: ") else {
            continue;
        };
        let rest = &line[p + 8..];
        let name = rest.split(']').next().unwrap_or("");
        let master = name
            .split('/')
            .nth(1)
            .unwrap_or("")
            .split('.')
            .next()
            .unwrap_or("");
        let proto = toks[i].to_ascii_lowercase();
        v.push((
            pair(&proto, endpoint(toks[i + 1]), endpoint(toks[i + 3])),
            master.to_string(),
        ));
    }
    v
}

/// Our services per pair (several connections may share a pair).
fn our_services(file: &Path) -> HashMap<Pair, Vec<String>> {
    let out = Command::new(env!("CARGO_BIN_EXE_gatewatch"))
        .args(["--quiet", "flows", "--format", "jsonl"])
        .arg(file)
        .output()
        .unwrap();
    let mut m: HashMap<Pair, Vec<String>> = HashMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let a = format!("{}:{}", v["id.orig_h"].as_str().unwrap(), v["id.orig_p"]);
        let b = format!("{}:{}", v["id.resp_h"].as_str().unwrap(), v["id.resp_p"]);
        let svc = v["service"].as_str().unwrap_or("-").to_string();
        m.entry(pair(v["proto"].as_str().unwrap(), a, b))
            .or_default()
            .push(svc);
    }
    m
}

#[test]
fn service_agrees_with_ndpi() {
    let Some(ndpi) = data_dir() else {
        eprintln!("skipping: ../shared/data/ndpi is not present");
        return;
    };
    let mut per: BTreeMap<&'static str, (u32, u32)> = BTreeMap::new();
    let mut misses = Vec::new();
    let mut results: Vec<_> = std::fs::read_dir(ndpi.join("result"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    results.sort();
    for res in results {
        let name = res
            .file_name()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches(".out")
            .to_string();
        let pcap = ndpi.join("pcap").join(&name);
        if !pcap.exists() {
            continue;
        }
        let text = std::fs::read_to_string(&res).unwrap_or_default();
        let flows: Vec<_> = ndpi_flows(&text)
            .into_iter()
            .filter_map(|(p, m)| service_for(&m).map(|s| (p, s)))
            .collect();
        if flows.is_empty() {
            continue;
        }
        let ours = our_services(&pcap);
        for (p, want) in flows {
            let e = per.entry(want).or_default();
            e.0 += 1;
            let got = ours.get(&p);
            if got.is_some_and(|v| v.iter().any(|s| s.split(',').any(|x| x == want))) {
                e.1 += 1;
            } else {
                misses.push(format!("{name}: {p:?} nDPI {want}, gatewatch {got:?}"));
            }
        }
    }
    let (total, agree) = per.values().fold((0, 0), |(t, a), (n, k)| (t + n, a + k));
    for (svc, (n, k)) in &per {
        eprintln!("{svc:<8} {k}/{n}");
    }
    for m in misses.iter().take(40) {
        eprintln!("  miss: {m}");
    }
    let rate = f64::from(agree) / f64::from(total.max(1));
    eprintln!(
        "service agrees with nDPI on {agree}/{total} flows ({:.1} %)",
        rate * 100.0
    );
    assert!(total > 0, "no comparable flows found");
    assert!(rate >= 0.95, "agreement {rate:.3} below 0.95");
}
