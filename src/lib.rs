//! autograder: grades physics and data-science homework from a YAML spec.
//!
//! The flow is spec → assignment (files) → sandbox (runs student code) → grading (host verdicts)
//! → report (what a student sees). See ARCHITECTURE.md.
pub mod assignment;
pub mod datum;
pub mod github;
pub mod grading;
pub mod metrics;
pub mod queue;
pub mod report;
pub mod sandbox;
pub mod server;
pub mod spec;
