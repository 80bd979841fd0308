//! autograder: grades physics and data-science homework from a YAML spec.
pub mod datum;
pub mod metrics;
pub mod spec;
pub mod sandbox;
