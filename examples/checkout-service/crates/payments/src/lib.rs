//! The payments crate of the example service.
pub fn ok() -> bool {
    true
}
