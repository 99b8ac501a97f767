//! People-driven traffic on laptops and phones: browsing bursts and print jobs.
//!
//! A browsing burst resolves a few sites and runs a TLS session to each with
//! request/response rounds of web-like sizes; a print job sends a PJL-wrapped
//! PostScript document to a fleet printer on port 9100.

use crate::simulate::emit::{Micros, MILLI, SEC};
use crate::simulate::fleet::Device;
use crate::simulate::net_services::Net;
use crate::simulate::tcp::Side;

const RAW_PRINT_PORT: u16 = 9100;

/// A response size drawn from a heavy-tailed, web-like distribution (≈ 1 KB … 80 KB, mean ≈ 10 KB).
fn page_size(dev: &mut Device) -> usize {
    let x = dev.rng.f64();
    let kb = 1.0 + 79.0 * x.powi(8);
    (kb * 1024.0) as usize
}

/// Visits 1–3 sites from the profile's list.
pub fn browse(net: &mut Net, dev: &mut Device, t: Micros) {
    let sites = 1 + dev.rng.below(2);
    let mut at = t;
    for _ in 0..sites {
        let Some(&name) = dev.rng.pick(dev.profile.cloud) else {
            return;
        };
        let (ip, after_dns) = net.resolve(dev, at, name);
        let server = net.internet(ip);
        let rounds = 1 + dev.rng.below(3);
        let plan: Vec<(usize, usize)> = (0..rounds)
            .map(|_| (dev.rng.range(300, 1400) as usize, page_size(dev)))
            .collect();
        let end = net.tls_session(
            dev,
            after_dns,
            (server, 443),
            Some(name),
            dev.profile.tls,
            &plan,
        );
        at = end.min(after_dns + 20 * SEC) + dev.rng.range_i64(50 * MILLI, 3 * SEC);
    }
}

/// Sends a document to one of the fleet's printers.
pub fn print_job(net: &mut Net, dev: &mut Device, t: Micros) {
    let Some(&printer) = dev.rng.pick(&net.printers) else {
        return;
    };
    let mut s = net.tcp(dev, printer, RAW_PRINT_PORT, t);
    s.connect(&mut net.em, dev.profile.tcp);
    let pages = 1 + dev.rng.below(8);
    let mut doc = format!(
        "\x1b%-12345X@PJL JOB NAME=\"Document {}\"\r\n@PJL SET USERNAME=\"{}\"\r\n@PJL ENTER LANGUAGE=POSTSCRIPT\r\n%!PS-Adobe-3.0\n%%Pages: {pages}\n",
        dev.rng.below(1000),
        dev.hostname
    )
    .into_bytes();
    // Each page carries a hex-encoded image (text, like a driver's PostScript output).
    for page in 1..=pages {
        doc.extend_from_slice(format!("%%Page: {page} {page}\n600 800 8 [600 0 0 -800 0 800] currentfile /ASCIIHexDecode filter image\n").as_bytes());
        for chunk in net.noise_vec(12_000).chunks(40) {
            for b in chunk {
                doc.extend_from_slice(format!("{b:02x}").as_bytes());
            }
            doc.push(b'\n');
        }
        doc.extend_from_slice(b">\nshowpage\n");
    }
    doc.extend_from_slice(b"%%EOF\n\x1b%-12345X@PJL EOJ\r\n\x1b%-12345X");
    s.send(&mut net.em, Side::Client, &doc, 0);
    s.close(&mut net.em, Side::Client, 50 * MILLI);
}
