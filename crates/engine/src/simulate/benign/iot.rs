//! Device-driven traffic: vendor cloud TLS, MQTT telemetry, HTTP checks, firmware
//! downloads, camera streams to the NVR, Modbus polls from the HMI, HL7 reports.
//!
//! Persistent connections (MQTT to the broker, the HMI's Modbus connection)
//! live in the device state and are closed with FIN and reopened after a
//! bounded number of messages, so every flow ends SF.

use crate::simulate::emit::{Micros, MILLI, SEC};
use crate::simulate::fleet::{Device, DeviceClass, Persistent};
use crate::simulate::net_services::{HttpBody, Net};
use crate::simulate::proto::industrial as ind;
use crate::simulate::proto::{civil, http, mqtt};
use crate::simulate::tcp::{Side, TcpSession, Timing, LINUX};

/// A TLS session to one of the vendor's cloud endpoints.
pub fn cloud_session(net: &mut Net, dev: &mut Device, t: Micros) {
    let p = dev.profile;
    let Some(&name) = dev.rng.pick(p.cloud) else {
        return;
    };
    let (ip, at) = net.resolve(dev, t, name);
    let server = net.internet(ip);
    let rounds = 1 + dev.rng.below(2);
    let mut plan = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        plan.push((
            dev.rng.range(180, 900) as usize,
            dev.rng.range(150, 3000) as usize,
        ));
    }
    net.tls_session(dev, at, (server, 443), Some(name), p.tls, &plan);
}

fn topic(pattern: &str, host: &str) -> String {
    pattern.replace("{host}", host)
}

fn telemetry(dev: &mut Device, t: Micros) -> Vec<u8> {
    let ts = t / SEC;
    let v = match dev.class() {
        DeviceClass::SmartPlug => format!(
            "{{\"power\":{:.1},\"voltage\":{:.1},\"ts\":{ts}}}",
            dev.rng.f64() * 60.0,
            228.0 + dev.rng.f64() * 6.0
        ),
        DeviceClass::Thermostat => format!(
            "{{\"temp\":{:.2},\"setpoint\":21.0,\"hvac\":\"{}\",\"ts\":{ts}}}",
            19.5 + dev.rng.f64() * 3.0,
            if dev.rng.chance(0.3) {
                "heating"
            } else {
                "idle"
            }
        ),
        DeviceClass::Hub => {
            let n = 2 + dev.rng.below(6);
            let items: Vec<String> = (0..n)
                .map(|i| {
                    format!(
                        "{{\"id\":\"0x00158d00{:08x}\",\"linkquality\":{},\"state\":\"{}\"}}",
                        i * 7919 + dev.index,
                        40 + dev.rng.below(200),
                        if dev.rng.chance(0.5) { "ON" } else { "OFF" }
                    )
                })
                .collect();
            format!("[{}]", items.join(","))
        }
        _ => format!("{{\"uptime\":{ts}}}"),
    };
    v.into_bytes()
}

/// Publishes telemetry on the device's MQTT connection, opening it first if needed.
pub fn mqtt_tick(net: &mut Net, dev: &mut Device, t: Micros) {
    let Some(m) = dev.profile.mqtt else { return };
    let stale = dev.mqtt.as_ref().is_none_or(|c| c.messages_left == 0);
    if stale {
        if let Some(mut old) = dev.mqtt.take() {
            old.tcp.t = t;
            old.tcp
                .send(&mut net.em, Side::Client, &mqtt::disconnect(m.version), 0);
            old.tcp.close(&mut net.em, Side::Client, 200);
            let after = old.tcp.t + SEC;
            open_mqtt(net, dev, after);
        } else {
            open_mqtt(net, dev, t);
        }
        return;
    }
    let host = dev.hostname.clone();
    let payload = telemetry(dev, t);
    let skip = dev.rng.chance(0.15);
    let command = dev.rng.chance(0.02);
    let Some(conn) = dev.mqtt.as_mut() else {
        return;
    };
    conn.tcp.t = t.max(conn.tcp.t + MILLI);
    conn.messages_left -= 1;
    if skip {
        // Nothing changed: keep the session alive instead of publishing.
        conn.tcp
            .request(&mut net.em, Side::Client, &mqtt::pingreq(), 0);
        conn.tcp
            .send(&mut net.em, Side::Server, &mqtt::pingresp(), 200);
    } else if m.qos > 0 {
        conn.next_id = conn.next_id.wrapping_add(1).max(1);
        let msg = mqtt::publish(&topic(m.topic, &host), &payload, 1, conn.next_id, m.version);
        conn.tcp.request(&mut net.em, Side::Client, &msg, 0);
        conn.tcp
            .send(&mut net.em, Side::Server, &mqtt::puback(conn.next_id), 300);
    } else {
        let msg = mqtt::publish(&topic(m.topic, &host), &payload, 0, 0, m.version);
        conn.tcp.send(&mut net.em, Side::Client, &msg, 0);
    }
    if let (true, Some(cmd)) = (command, m.command_topic) {
        let msg = mqtt::publish(
            &topic(cmd, &host),
            b"{\"state\":\"toggle\"}",
            0,
            0,
            m.version,
        );
        conn.tcp.send(&mut net.em, Side::Server, &msg, 500 * MILLI);
    }
}

fn open_mqtt(net: &mut Net, dev: &mut Device, t: Micros) {
    let Some(m) = dev.profile.mqtt else { return };
    let broker = net.infra.broker;
    let mut s = net.tcp(dev, broker, mqtt::PORT, t);
    s.connect(&mut net.em, dev.profile.tcp);
    let password = format!(
        "pw-{:06x}",
        crate::simulate::rng::hash_bytes(net.seed, dev.hostname.as_bytes()) & 0xff_ffff
    );
    let client_id = format!("{}-{:02x}{:02x}", dev.hostname, dev.mac[4], dev.mac[5]);
    let connect = mqtt::connect(
        &client_id,
        m.username,
        m.username.map(|_| password.as_str()),
        60,
        m.version,
    );
    s.request(&mut net.em, Side::Client, &connect, 0);
    if let Some(cmd) = m.command_topic {
        s.request(&mut net.em, Side::Server, &mqtt::connack(0, m.version), 400);
        let sub = mqtt::subscribe(1, &topic(cmd, &dev.hostname), m.qos, m.version);
        s.request(&mut net.em, Side::Client, &sub, 2 * MILLI);
        s.send(
            &mut net.em,
            Side::Server,
            &mqtt::suback(1, m.qos, m.version),
            300,
        );
    } else {
        s.send(&mut net.em, Side::Server, &mqtt::connack(0, m.version), 400);
    }
    dev.mqtt = Some(Persistent {
        tcp: s,
        messages_left: 60 + dev.rng.below(180) as u32,
        next_id: 1,
    });
}

/// A plain-HTTP connectivity probe or vendor check-in.
pub fn http_check(net: &mut Net, dev: &mut Device, t: Micros) {
    let Some((host, path)) = dev.profile.http_check else {
        return;
    };
    let (ip, at) = net.resolve(dev, t, host);
    let server = net.internet(ip);
    let ua = if path == "/connecttest.txt" {
        "Microsoft NCSI"
    } else if host == "captive.apple.com" {
        "CaptiveNetworkSupport-481.0.1 wispr"
    } else {
        dev.profile.user_agent
    };
    let req = http::request("GET", host, path, ua, &[("Cache-Control", "no-cache")], &[]);
    let secs = at / SEC;
    let (head, body): (Vec<u8>, &[u8]) = match path {
        "/generate_204" => (
            http::response_head(
                204,
                "No Content",
                "HTTP server (unknown)",
                "text/plain",
                0,
                secs,
            ),
            b"",
        ),
        "/connecttest.txt" => (
            http::response_head(200, "OK", "Microsoft-IIS/10.0", "text/plain", 22, secs),
            b"Microsoft Connect Test",
        ),
        "/hotspot-detect.html" => {
            const OK: &[u8] =
                b"<HTML><HEAD><TITLE>Success</TITLE></HEAD><BODY>Success</BODY></HTML>";
            (
                http::response_head(
                    200,
                    "OK",
                    "AppleHttpServer/b8d6f0d",
                    "text/html",
                    OK.len(),
                    secs,
                ),
                OK,
            )
        }
        _ => {
            const JSON: &[u8] = b"{\"code\":0,\"msg\":\"ok\",\"interval\":300}";
            (
                http::response_head(200, "OK", "nginx", "application/json", JSON.len(), secs),
                JSON,
            )
        }
    };
    net.http_session(
        dev,
        at,
        (server, http::PORT),
        &req,
        &head,
        HttpBody::Bytes(body),
    );
}

/// Downloads the next firmware image over HTTP (once per run); returns the time it finished.
pub fn firmware_update(net: &mut Net, dev: &mut Device, t: Micros) -> Option<Micros> {
    let p = dev.profile;
    if dev.firmware_version == p.firmware_versions.1 || p.class == DeviceClass::Plc {
        return None;
    }
    let (host, pattern) = p.firmware;
    let next = p.firmware_versions.1;
    let path = pattern.replace("{v}", next);
    let (ip, at) = net.resolve(dev, t, host);
    let server = net.internet(ip);
    let ua = if p.user_agent.is_empty() {
        "firmware-updater/1.0"
    } else {
        p.user_agent
    };
    let req = http::request(
        "GET",
        host,
        &path,
        ua,
        &[("X-Firmware-Current", dev.firmware_version)],
        &[],
    );
    let size = dev.rng.range(200_000, 1_000_000) as usize;
    let head = http::response_head(
        200,
        "OK",
        "nginx",
        "application/octet-stream",
        size,
        at / SEC,
    );
    let end = net.http_session(
        dev,
        at,
        (server, http::PORT),
        &req,
        &head,
        HttpBody::Noise(size),
    );
    dev.firmware_version = next;
    Some(end)
}

fn nvr_session(net: &mut Net, dev: &mut Device, port: u16, t: Micros) -> TcpSession {
    let nvr = net.infra.nvr;
    let cport = dev.rng.range(40_000, 60_000) as u16;
    let isn = (dev.rng.next_u32(), dev.rng.next_u32());
    TcpSession::new(nvr, dev.host(), cport, port, isn, Timing::lan(), t)
}

/// One RTSP request: method, URL, response headers, SDP body.
type RtspStep<'a> = (&'a str, String, Vec<(&'a str, String)>, Option<&'a str>);

/// The NVR pulls a short RTSP clip (interleaved RTP over TCP) from a camera.
pub fn camera_stream(net: &mut Net, dev: &mut Device, t: Micros) {
    let mut s = nvr_session(net, dev, http::RTSP_PORT, t);
    s.connect(&mut net.em, LINUX);
    let url = format!("rtsp://{}:554/Streaming/Channels/102", dev.ip);
    let ua = "NVR-RTSP-Client/2.0";
    let session_id = dev.rng.next_u32();
    let sdp = format!(
        "v=0\r\no=- {session_id} 1 IN IP4 {ip}\r\ns=Media Presentation\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:trackID=1\r\n",
        ip = dev.ip
    );
    let steps: [RtspStep<'_>; 4] = [
        (
            "OPTIONS",
            url.clone(),
            vec![(
                "Public",
                "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN".to_string(),
            )],
            None,
        ),
        ("DESCRIBE", url.clone(), vec![], Some(sdp.as_str())),
        (
            "SETUP",
            format!("{url}/trackID=1"),
            vec![
                ("Session", format!("{session_id};timeout=60")),
                (
                    "Transport",
                    "RTP/AVP/TCP;unicast;interleaved=0-1".to_string(),
                ),
            ],
            None,
        ),
        (
            "PLAY",
            url.clone(),
            vec![
                ("Session", session_id.to_string()),
                ("RTP-Info", format!("url={url}/trackID=1;seq=1;rtptime=0")),
            ],
            None,
        ),
    ];
    for (cseq, (method, target, headers, body)) in steps.iter().enumerate() {
        let extra: &[(&str, &str)] = if *method == "SETUP" {
            &[("Transport", "RTP/AVP/TCP;unicast;interleaved=0-1")]
        } else {
            &[]
        };
        let req = http::rtsp_request(method, target, cseq as u32 + 1, ua, extra);
        let hdrs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let resp = http::rtsp_response(cseq as u32 + 1, &hdrs, *body);
        s.request(&mut net.em, Side::Client, &req, MILLI);
        s.request(&mut net.em, Side::Server, &resp, 2 * MILLI);
    }
    // 1.6–3.2 s of sub-stream video at ~25 frames/s, one chunk per frame.
    let frames = 40 + dev.rng.below(40);
    let ssrc = dev.rng.next_u32();
    let mut seq: u16 = 1;
    for f in 0..frames {
        let keyframe = f % 50 == 0;
        let size = if keyframe {
            9_000 + dev.rng.below(6_000)
        } else {
            700 + dev.rng.below(1_800)
        };
        let mut chunk = Vec::with_capacity(size + 64);
        let mut left = size;
        while left > 0 {
            let n = left.min(1_380);
            left -= n;
            let mut payload = net.noise_vec(n);
            if let Some(h) = payload.get_mut(..2) {
                h.copy_from_slice(&[0x7c, if left == 0 { 0x45 } else { 0x05 }]);
            }
            http::rtp_interleaved(
                &mut chunk,
                0,
                seq,
                (f as u32) * 3600,
                ssrc,
                left == 0,
                &payload,
            );
            seq = seq.wrapping_add(1);
        }
        s.send(&mut net.em, Side::Server, &chunk, 40 * MILLI);
    }
    let teardown = http::rtsp_request(
        "TEARDOWN",
        &url,
        5,
        ua,
        &[("Session", &session_id.to_string())],
    );
    s.request(&mut net.em, Side::Client, &teardown, 10 * MILLI);
    s.send(
        &mut net.em,
        Side::Server,
        &http::rtsp_response(5, &[], None),
        MILLI,
    );
    s.close(&mut net.em, Side::Client, MILLI);
}

/// The NVR fetches a JPEG snapshot over HTTP.
pub fn camera_snapshot(net: &mut Net, dev: &mut Device, t: Micros) {
    let mut s = nvr_session(net, dev, http::PORT, t);
    s.connect(&mut net.em, LINUX);
    let path = if dev.profile.vendor == "Axis" {
        "/axis-cgi/jpg/image.cgi?resolution=640x360"
    } else {
        "/ISAPI/Streaming/channels/102/picture"
    };
    let host = dev.ip.to_string();
    let req = http::request(
        "GET",
        &host,
        path,
        "NVR-HTTP-Client/2.0",
        &[("Authorization", "Basic YWRtaW46MTIzNDU=")],
        &[],
    );
    let size = 12_000 + dev.rng.below(18_000);
    let noise = net.noise_vec(4096);
    let body = http::jpeg(size, 640, 360, &noise);
    let mut resp = http::response_head(
        200,
        "OK",
        if dev.profile.vendor == "Axis" {
            "Apache"
        } else {
            "App-webs/"
        },
        "image/jpeg",
        body.len(),
        t / SEC,
    );
    resp.extend_from_slice(&body);
    s.exchange(&mut net.em, &req, &resp, 15 * MILLI);
    s.close(&mut net.em, Side::Client, MILLI);
}

/// The HMI polls the PLC over its persistent Modbus/TCP connection.
pub fn modbus_poll(net: &mut Net, dev: &mut Device, t: Micros) {
    let stale = dev.modbus.as_ref().is_none_or(|c| c.messages_left == 0);
    let mut at = t;
    if stale {
        if let Some(mut old) = dev.modbus.take() {
            old.tcp.t = t;
            old.tcp.close(&mut net.em, Side::Client, 0);
            at = old.tcp.t + 500 * MILLI;
        }
        let hmi = net.infra.hmi;
        let cport = dev.rng.range(49_152, 65_000) as u16;
        let isn = (dev.rng.next_u32(), dev.rng.next_u32());
        let mut s = TcpSession::new(
            hmi,
            dev.host(),
            cport,
            ind::MODBUS_PORT,
            isn,
            Timing::lan(),
            at,
        );
        s.connect(&mut net.em, crate::simulate::tcp::WINDOWS);
        at = s.t + 5 * MILLI;
        dev.modbus = Some(Persistent {
            tcp: s,
            messages_left: 500 + dev.rng.below(400) as u32,
            next_id: 0,
        });
    }
    let roll = dev.rng.f64();
    let values = dev.rng.bytes::<8>();
    let Some(conn) = dev.modbus.as_mut() else {
        return;
    };
    conn.messages_left -= 1;
    conn.next_id = conn.next_id.wrapping_add(1);
    let tid = conn.next_id;
    conn.tcp.t = at.max(conn.tcp.t + MILLI);
    let (req, resp) = if roll < 0.55 {
        (
            ind::modbus_read(tid, 1, ind::FC_READ_HOLDING, 0, 20),
            ind::modbus_read_response(tid, 1, ind::FC_READ_HOLDING, 20, &values),
        )
    } else if roll < 0.8 {
        (
            ind::modbus_read(tid, 1, ind::FC_READ_COILS, 0, 16),
            ind::modbus_read_response(tid, 1, ind::FC_READ_COILS, 16, &values),
        )
    } else if roll < 0.99 {
        (
            ind::modbus_read(tid, 1, ind::FC_READ_INPUT, 100, 8),
            ind::modbus_read_response(tid, 1, ind::FC_READ_INPUT, 8, &values),
        )
    } else {
        let v = u16::from_be_bytes([values[0], values[1]]) % 500;
        let w = ind::modbus_write_single(tid, 1, 40, v);
        (w.clone(), w)
    };
    conn.tcp.request(&mut net.em, Side::Client, &req, 0);
    conn.tcp.send(
        &mut net.em,
        Side::Server,
        &resp,
        dev.rng.range_i64(2 * MILLI, 8 * MILLI),
    );
}

/// An infusion pump reports status to the clinical interface engine (HL7 v2 over MLLP).
pub fn hl7_report(net: &mut Net, dev: &mut Device, t: Micros) {
    let clinical = net.infra.clinical;
    let mut s = net.tcp(dev, clinical, ind::MLLP_PORT, t);
    s.connect(&mut net.em, dev.profile.tcp);
    let c = civil(t / SEC);
    let stamp = format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    );
    let msg_id = format!("{}{:06}", dev.index, dev.rng.below(1_000_000));
    const DRUGS: [&str; 5] = [
        "HEPARIN 25000 UNITS/250 ML",
        "NOREPINEPHRINE 4 MG/250 ML",
        "VANCOMYCIN 1 G/200 ML",
        "INSULIN 100 UNITS/100 ML",
        "PROPOFOL 1000 MG/100 ML",
    ];
    let drug = dev.rng.pick(&DRUGS).copied().unwrap_or("SALINE");
    let app = if dev.profile.vendor == "BD" {
        "ALARIS"
    } else {
        "SPECTRUM"
    };
    let msg = ind::mllp(&[
        format!(
            "MSH|^~\\&|{app}|{}|EMR|HOSPITAL|{stamp}||ORU^R01^ORU_R01|{msg_id}|P|2.6",
            dev.hostname
        ),
        format!(
            "PID|1||MRN{:07}^^^HOSP^MR",
            1_000_000 + dev.index * 37 % 900_000
        ),
        format!("OBR|1|||PUMP^Infusion status^L|||{stamp}"),
        format!(
            "OBX|1|NM|RATE^Infusion rate^L||{:.1}|mL/h|||||F",
            1.0 + dev.rng.f64() * 120.0
        ),
        format!(
            "OBX|2|NM|VTBI^Volume to be infused^L||{}|mL|||||F",
            50 + dev.rng.below(450)
        ),
        format!("OBX|3|ST|DRUG^Drug^L||{drug}||||||F"),
    ]);
    let ack = ind::mllp(&[
        format!(
            "MSH|^~\\&|EMR|HOSPITAL|{app}|{}|{stamp}||ACK^R01^ACK|A{msg_id}|P|2.6",
            dev.hostname
        ),
        format!("MSA|AA|{msg_id}"),
    ]);
    s.exchange(&mut net.em, &msg, &ack, 4 * MILLI);
    s.close(&mut net.em, Side::Client, 2 * MILLI);
}
