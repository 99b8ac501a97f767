//! The `gatewatch` binary: command line, capture files, output writers.
fn main() {
    println!("gatewatch (skeleton)");
}
