//! The fixlane binary.
fn main() {}
