//! Named counters each stage keeps about what it saw and what it refused.
//!
//! Every stage owns a plain struct of `u64` fields (fast to bump on the hot
//! path) and implements [`Counters`] so `stats` and the bench can list them by
//! dotted name, e.g. `decode.ipv4.bad_header_length`.

/// A set of named counters, visited in a stable order.
pub trait Counters {
    /// Calls `f` once per counter with its dotted name and value.
    fn visit(&self, f: &mut dyn FnMut(&'static str, u64));

    /// The counters as a list of (name, value), in visit order.
    fn to_vec(&self) -> Vec<(&'static str, u64)> {
        let mut v = Vec::new();
        self.visit(&mut |name, value| v.push((name, value)));
        v
    }
}
