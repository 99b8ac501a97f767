//! Wires the stages: capture reader → decoder → flow table → sinks.
//!
//! OWNER NOTE: filled in once source, decode and flow land.
