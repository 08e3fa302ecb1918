//! Stores records.
