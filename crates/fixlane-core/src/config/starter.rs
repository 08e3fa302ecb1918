//! The starter `fixlane.toml` that `fixlane init` writes, shaped by what the repository is.

/// What kind of project the repository root looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ecosystem {
    Cargo,
    Go,
    Npm,
    Unknown,
}

/// The text of a starter config with a normal and a hotfix lane (seed 003's gate reduction).
pub fn starter(project_name: &str, ecosystem: Ecosystem) -> String {
    let _ = (project_name, ecosystem);
    String::new()
}
