fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mac = gatewatch_engine::identity::model::parse_mac(&args[2]).unwrap();
    let mut ex = gatewatch_engine::classify::FeatureExtractor::new(mac);
    let f = std::fs::File::open(&args[1]).unwrap();
    gatewatch_engine::classify::capture::run_capture(f, &mut ex).unwrap();
    for t in ex.tokens() { println!("{t}"); }
    let v = ex.finish();
    for (n, x) in gatewatch_engine::classify::feature_names().iter().zip(v.values.iter()) { if *x != 0.0 && !n.contains("token") { println!("{n} = {x}"); } }
}
