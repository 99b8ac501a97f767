//! The push interface between stages: a stage hands each result to a `Sink`.
//!
//! Tests drive a stage with a `Vec` as the sink; the binary uses writers.

/// Receives the items a stage produces, one at a time.
pub trait Sink<T> {
    fn push(&mut self, item: T);
}

impl<T> Sink<T> for Vec<T> {
    fn push(&mut self, item: T) {
        Vec::push(self, item);
    }
}

/// A sink that counts and drops what it receives (benchmarks, `stats`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CountingSink {
    pub count: u64,
}

impl<T> Sink<T> for CountingSink {
    fn push(&mut self, _item: T) {
        self.count += 1;
    }
}

/// Adapts a closure into a sink.
pub struct FnSink<F>(pub F);

impl<T, F: FnMut(T)> Sink<T> for FnSink<F> {
    fn push(&mut self, item: T) {
        (self.0)(item);
    }
}
