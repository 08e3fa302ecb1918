//! Runs gates.
