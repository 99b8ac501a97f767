//! Telnet analyzer: hand-built sessions (negotiation stripped and recorded,
//! prompts, user names, failures, success, character mode), split delivery,
//! bounds, random input that must never panic, the seed corpus, the real
//! capture ndpi/pcap/telnet.pcap compared with tshark (`telnet.cmd`,
//! `telnet.subcmd`, `telnet.data`), and the simulator's Mirai brute force.
#![allow(clippy::expect_used)] // tests may panic on broken fixtures

mod proto_ics_support;

use gatewatch_engine::counters::Counters;
use gatewatch_engine::log::LogRecord;
use gatewatch_engine::proto::telnet::parser::{option_name, DO, DONT, IAC, SB, SE, WILL, WONT};
use gatewatch_engine::proto::telnet::{self, TelnetAnalyzer, TelnetCounters, TelnetRecord};
use gatewatch_engine::proto::Probe;
use gatewatch_engine::simulate::AttackKind;
use gatewatch_engine::Timestamp;
use proptest::prelude::*;
use proto_ics_support::*;

fn run(chunks: &[(bool, &[u8])]) -> (Vec<TelnetRecord>, TelnetCounters) {
    let mut a = TelnetAnalyzer::new(conn("CTN1"));
    let mut c = TelnetCounters::default();
    let mut out = Vec::new();
    for (i, (is_orig, bytes)) in chunks.iter().enumerate() {
        a.on_data(
            Timestamp::from_secs_nanos(7 + i as i64, 0),
            *is_orig,
            bytes,
            &mut c,
            &mut out,
        );
    }
    a.on_end(Timestamp::from_secs_nanos(99, 0), &mut c, &mut out);
    (out, c)
}

/// A BusyBox telnetd greeting and a Mirai-style exchange: one wrong
/// password, then a right one and the shell.
fn mirai_session() -> Vec<(bool, Vec<u8>)> {
    let mut greeting = vec![IAC, DO, 1, IAC, DO, 31, IAC, WILL, 1, IAC, WILL, 3];
    greeting.extend_from_slice(b"\r\nnvr login: ");
    let mut first = vec![IAC, WONT, 1, IAC, WONT, 31, IAC, DO, 1, IAC, DO, 3];
    first.extend_from_slice(b"root\r\n");
    vec![
        (false, greeting),
        (true, first),
        (false, b"root\r\nPassword: ".to_vec()),
        (true, b"xc3511\r\n".to_vec()),
        (false, b"\r\nLogin incorrect\r\nnvr login: ".to_vec()),
        (true, b"admin\r\n".to_vec()),
        (false, b"admin\r\nPassword: ".to_vec()),
        (true, b"admin\r\n".to_vec()),
        (
            false,
            b"\r\n\r\nBusyBox v1.19.3 (2016-04-12 10:02:53 CST) built-in shell (ash)\r\n# "
                .to_vec(),
        ),
        (true, b"/bin/busybox MIRAI\r\n".to_vec()),
        (
            false,
            b"/bin/busybox MIRAI\r\nMIRAI: applet not found\r\n# ".to_vec(),
        ),
    ]
}

fn borrowed(chunks: &[(bool, Vec<u8>)]) -> Vec<(bool, &[u8])> {
    chunks.iter().map(|(o, b)| (*o, b.as_slice())).collect()
}

#[test]
fn mirai_session_fields() {
    let (out, c) = run(&borrowed(&mirai_session()));
    assert_eq!(out.len(), 1);
    let r = &out[0];
    assert_eq!(r.path(), "telnet");
    assert_eq!(
        values(r)[6..],
        [
            "ECHO,NAWS,SUPPRESS-GO-AHEAD",
            "2",
            "1",
            "T",
            "root,admin",
            "nvr login:",
            "DO ECHO,DO NAWS,WILL ECHO,WILL SUPPRESS-GO-AHEAD",
        ]
    );
    assert_eq!(column(r, "ts"), "7.000000");
    assert_eq!(
        (c.negotiations, c.login_prompts, c.password_prompts),
        (8, 2, 2)
    );
    assert_eq!((c.login_attempts, c.failures, c.successes), (2, 1, 1));
    // Passwords never reach the record.
    assert!(!values(r).iter().any(|v| v.contains("xc3511")));
}

#[test]
fn split_delivery_gives_the_same_record() {
    let s = mirai_session();
    let (whole, _) = run(&borrowed(&s));
    // Byte by byte on the client side (character mode); the server's prompts
    // arrive whole, as a telnetd sends them.
    let mut chunks = Vec::new();
    for (o, b) in &s {
        if *o {
            chunks.extend(b.iter().map(|x| (true, vec![*x])));
        } else {
            chunks.push((false, b.clone()));
        }
    }
    let (split, _) = run(&borrowed(&chunks));
    assert_eq!(values(&whole[0])[1..], values(&split[0])[1..]);
    // Server negotiation split inside commands.
    let greeting = &s[0].1;
    let (a, b) = greeting.split_at(4);
    let mut chunks = borrowed(&s);
    chunks.splice(0..1, [(false, a), (false, b)]);
    let (split, _) = run(&chunks);
    assert_eq!(values(&whole[0])[1..], values(&split[0])[1..]);
}

#[test]
fn failures_only_and_username_refused() {
    let (out, c) = run(&[
        (false, b"Username: "),
        (true, b"admin\r\n"),
        (false, b"Password: "),
        (true, b"1234\r\n"),
        (false, b"\r\n% Authentication failed\r\n\r\nUsername: "),
        (true, b"guest\r\n"),
        (false, b"\r\nAccess denied\r\n"),
    ]);
    let r = &out[0];
    assert_eq!(column(r, "login_attempts"), "2");
    assert_eq!(column(r, "failures"), "2");
    assert_eq!(column(r, "success"), "F");
    assert_eq!(column(r, "usernames"), "admin,guest");
    assert_eq!(column(r, "options"), "");
    assert_eq!(c.failures, 2);
}

#[test]
fn subnegotiation_and_escapes_are_stripped() {
    let mut server = vec![IAC, SB, 24, 1, IAC, SE, IAC, DONT, 39];
    server.extend_from_slice(b"caf");
    server.extend_from_slice(&[IAC, IAC]);
    server.extend_from_slice(b"\r\nlogin: ");
    let (out, c) = run(&[(false, &server)]);
    assert_eq!(column(&out[0], "options"), "TERMINAL-TYPE,NEW-ENVIRON");
    assert_eq!(column(&out[0], "banner"), "caf\u{fffd}");
    assert_eq!((c.subnegotiations, c.negotiations), (1, 1));
    // An endless subnegotiation is abandoned and counted.
    let mut endless = vec![IAC, SB, 24];
    endless.extend(std::iter::repeat_n(b'x', 5000));
    let (_, c) = run(&[(true, &endless)]);
    assert_eq!(c.subnegotiation_overflows, 1);
    let (_, c) = run(&[(true, &[IAC, 17, IAC, 241])]);
    assert_eq!((c.bad_commands, c.commands), (1, 1));
}

#[test]
fn bounds_hold() {
    let mut chunks: Vec<(bool, Vec<u8>)> = Vec::new();
    for i in 0..40 {
        chunks.push((false, vec![IAC, WILL, 100 + i]));
    }
    for i in 0..20 {
        chunks.push((false, b"login: ".to_vec()));
        chunks.push((true, format!("user{i}{}\r\n", "z".repeat(300)).into_bytes()));
    }
    chunks.push((false, format!("{}\r\n", "b".repeat(1000)).into_bytes()));
    let (out, c) = run(&borrowed(&chunks));
    let r = &out[0];
    assert_eq!(r.options.len(), telnet::state::MAX_OPTIONS);
    assert_eq!(r.server_negotiation.len(), telnet::state::MAX_NEGOTIATION);
    assert_eq!(r.usernames.len(), telnet::state::MAX_USERNAMES);
    assert!(r
        .usernames
        .iter()
        .all(|u| u.len() <= telnet::state::MAX_USERNAME_LEN));
    assert!(r
        .banner
        .as_ref()
        .is_some_and(|b| b.len() <= telnet::state::MAX_BANNER_LEN));
    assert_eq!(c.options_dropped, 8);
    assert_eq!(c.usernames_dropped, 12);
    assert!(c.lines_truncated >= 20);
}

#[test]
fn gap_and_empty_connections() {
    let mut a = TelnetAnalyzer::new(conn("CTN2"));
    let mut c = TelnetCounters::default();
    let mut out = Vec::new();
    a.on_data(Timestamp::ZERO, false, &[b'h', IAC], &mut c, &mut out);
    a.on_gap(false, 10, &mut c);
    a.on_data(Timestamp::ZERO, false, b"login: ", &mut c, &mut out);
    a.on_end(Timestamp::ZERO, &mut c, &mut out);
    assert_eq!(c.gaps, 1);
    assert_eq!(
        column(&out[0], "banner"),
        "login:",
        "the half line before the gap is dropped"
    );
    let (out, _) = run(&[]);
    assert!(out.is_empty(), "no payload, no record");
}

#[test]
fn probe_and_counters() {
    assert_eq!(telnet::probe(&[IAC, DO, 1], false), Probe::Yes);
    assert_eq!(telnet::probe(&[IAC, SB, 24], true), Probe::Yes);
    assert_eq!(telnet::probe(b"login: ", false), Probe::Maybe);
    assert_eq!(telnet::probe(&[0x16, 0x03, 0x01, 0x00], true), Probe::No);
    assert!(TelnetCounters::default()
        .to_vec()
        .iter()
        .all(|(n, _)| n.starts_with("proto.telnet.")));
}

proptest! {
    #[test]
    fn random_bytes_never_panic(chunks in prop::collection::vec((any::<bool>(), prop::collection::vec(any::<u8>(), 0..300)), 0..12)) {
        let borrowed: Vec<(bool, &[u8])> = chunks.iter().map(|(o, b)| (*o, b.as_slice())).collect();
        let (out, c) = run(&borrowed);
        let total: usize = chunks.iter().map(|(_, b)| b.len()).sum();
        prop_assert_eq!(out.len(), usize::from(total > 0));
        // Every byte is text or part of a command: counters move.
        if total > 0 {
            prop_assert!(c.text_bytes + c.negotiations + c.subnegotiations + c.commands + c.bad_commands > 0 || chunks.iter().all(|(_, b)| b.iter().all(|&x| x == IAC)) || total < 3);
        }
        if let Some(r) = out.first() {
            prop_assert!(r.failures <= r.login_attempts + 1);
            prop_assert!(r.usernames.len() <= telnet::state::MAX_USERNAMES);
        }
    }

    #[test]
    fn mutated_sessions_never_panic(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..10),
                                    cuts in prop::collection::vec(0usize..150, 0..6)) {
        let s = mirai_session();
        let mut resp: Vec<u8> = s.iter().filter(|(o, _)| !*o).flat_map(|(_, b)| b.clone()).collect();
        let orig: Vec<u8> = s.iter().filter(|(o, _)| *o).flat_map(|(_, b)| b.clone()).collect();
        for (at, v) in &flips {
            let i = at.index(resp.len());
            resp[i] = *v;
        }
        let mut chunks: Vec<(bool, &[u8])> = split_at_points(&resp, &cuts).into_iter().map(|p| (false, p)).collect();
        chunks.extend(split_at_points(&orig, &cuts).into_iter().map(|p| (true, p)));
        let (out, _) = run(&chunks);
        prop_assert_eq!(out.len(), 1);
    }
}

fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let mut endless = vec![IAC, SB, 24];
    endless.extend(std::iter::repeat_n(b'x', 1100));
    vec![
        ("mirai_session.bin", script(&borrowed(&mirai_session()))),
        (
            "char_mode_login.bin",
            script(&[
                (false, b"host login: "),
                (true, b"r"),
                (true, b"o"),
                (true, b"o"),
                (true, b"t"),
                (true, b"\r\0"),
                (false, b"Password:"),
                (true, b"pw\r\0"),
                (false, b"\r\nLast login: today\r\n$ "),
            ]),
        ),
        ("endless_subnegotiation.bin", script(&[(true, &endless)])),
        (
            "iac_escapes.bin",
            script(&[(
                false,
                &[
                    IAC, IAC, IAC, DO, 24, IAC, SB, 24, 1, IAC, IAC, IAC, SE, b'o', b'k', b'\n',
                ],
            )]),
        ),
    ]
}

#[test]
fn seed_corpus_matches_and_replays() {
    for (file, bytes) in seeds() {
        check_seed("telnet", file, &bytes);
    }
    for (file, bytes) in corpus_files("telnet") {
        let (out, c) = run(&script_chunks(&bytes));
        match file.as_str() {
            "mirai_session.bin" => assert_eq!(column(&out[0], "success"), "T"),
            "char_mode_login.bin" => {
                assert_eq!(column(&out[0], "usernames"), "root");
                assert_eq!(column(&out[0], "success"), "T");
            }
            "endless_subnegotiation.bin" => assert_eq!(c.subnegotiation_overflows, 1),
            "iac_escapes.bin" => assert_eq!(c.subnegotiations, 1),
            other => eprintln!("seed {other}: replayed ({} records)", out.len()),
        }
    }
}

fn analyze(flows: &[Flow]) -> (Vec<TelnetRecord>, TelnetCounters) {
    let mut c = TelnetCounters::default();
    let mut out = Vec::new();
    for flow in flows {
        if !flow.tcp || flow.conn.resp_p != telnet::PORT {
            continue;
        }
        let mut a = TelnetAnalyzer::new(flow.conn.clone());
        for ev in &flow.events {
            match ev {
                Event::Data {
                    ts, is_orig, bytes, ..
                } => a.on_data(*ts, *is_orig, bytes, &mut c, &mut out),
                Event::Gap { is_orig, len } => a.on_gap(*is_orig, *len, &mut c),
            }
        }
        a.on_end(flow.last_ts, &mut c, &mut out);
    }
    (out, c)
}

#[test]
fn real_capture_login_and_tshark_negotiation() {
    let Some(data) = data_dir() else { return };
    let path = data.join("ndpi/pcap/telnet.pcap");
    let (out, c) = analyze(&flows(&path));
    assert_eq!(out.len(), 1);
    let r = &out[0];
    eprintln!(
        "telnet.pcap: {:?}; counters {:?}",
        values(r),
        c.to_vec()
            .into_iter()
            .filter(|(_, v)| *v > 0)
            .collect::<Vec<_>>()
    );
    // The session: OpenBSD banner, user "fake" typed, one password, a shell.
    assert_eq!(column(r, "banner"), "OpenBSD/i386 (oof) (ttyp2)");
    assert_eq!(
        column(r, "usernames"),
        "fake",
        "nDPI's expected output names the same user"
    );
    assert_eq!((r.login_attempts, r.failures, r.success), (1, 0, true));
    // tshark: every WILL/WONT/DO/DONT and SB it dissects, and the options
    // named. Its `telnet.subcmd` also lists bytes inside subnegotiations, so
    // options are paired with commands only in frames without SB.
    let Some(lines) = tshark(
        &path,
        &["-Y", "telnet && !tcp.analysis.retransmission"],
        &["telnet.cmd", "telnet.subcmd", "telnet.data"],
    ) else {
        return;
    };
    let (mut negotiations, mut subnegotiations, mut options) = (0u64, 0u64, Vec::new());
    let mut text_lines = Vec::new();
    for l in &lines {
        let cmds: Vec<u8> = l[0].split(',').filter_map(|x| x.parse().ok()).collect();
        let opts: Vec<u8> = l[1].split(',').filter_map(|x| x.parse().ok()).collect();
        negotiations += cmds
            .iter()
            .filter(|&&c| matches!(c, WILL | WONT | DO | DONT))
            .count() as u64;
        subnegotiations += cmds.iter().filter(|&&c| c == SB).count() as u64;
        if !cmds.contains(&SB) {
            options.extend(opts.iter().map(|&o| option_name(o).into_owned()));
        }
        text_lines.extend(l[2].split(',').map(str::to_string));
    }
    options.sort();
    options.dedup();
    eprintln!("tshark: {negotiations} negotiations, {subnegotiations} subnegotiations, options of plain negotiation frames {options:?}");
    assert_eq!(c.negotiations, negotiations);
    assert_eq!(c.subnegotiations, subnegotiations);
    let missing: Vec<&String> = options.iter().filter(|o| !r.options.contains(o)).collect();
    assert!(
        missing.is_empty(),
        "options tshark saw that we did not: {missing:?}"
    );
    assert!(text_lines
        .iter()
        .any(|t| t.starts_with("OpenBSD/i386 (oof) (ttyp2)")));
    assert!(text_lines.iter().any(|t| t.starts_with("fake")));
}

#[test]
fn simulated_mirai_brute_force() {
    let capture = simulated_capture(20, 1.0, 7, &[AttackKind::BruteforceTelnet]);
    let (out, c) = analyze(&flows_from_bytes(&capture));
    assert!(out.len() >= 2, "sessions: {}", out.len());
    for r in &out {
        assert_eq!(r.login_attempts, 1, "{r:?}");
        assert_eq!(r.usernames.len(), 1);
        assert_eq!(u64::from(r.success) + r.failures, 1, "{r:?}");
        assert_eq!(r.banner.as_deref(), Some("nvr login:"));
    }
    let successes = out.iter().filter(|r| r.success).count();
    assert!(successes <= 1);
    eprintln!(
        "simulated telnet brute force: {} sessions, {successes} success; counters {:?}",
        out.len(),
        c.to_vec()
            .into_iter()
            .filter(|(_, v)| *v > 0)
            .collect::<Vec<_>>()
    );
}
