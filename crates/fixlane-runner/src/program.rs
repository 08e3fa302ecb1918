//! Finding a program on a `PATH` once, so fixlane can spawn it by absolute path: with the
//! environment changed, a bare name makes the standard library fork the whole process and search
//! `PATH` in the child instead of using `posix_spawn`.

use std::ffi::OsStr;
use std::path::PathBuf;

/// The first executable file called `name` in the absolute directories of `path`.
pub fn find_executable(name: &str, path: &OsStr) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    std::env::split_paths(path)
        .filter(|directory| directory.is_absolute())
        .map(|directory| directory.join(name))
        .find(|candidate| {
            candidate.metadata().is_ok_and(|metadata| {
                metadata.is_file() && metadata.permissions().mode() & 0o111 != 0
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_sh_and_not_what_is_missing() {
        let path = OsStr::new("relative/bin:/nonexistent:/bin:/usr/bin");
        assert!(find_executable("sh", path).is_some_and(|found| found.is_absolute()));
        assert_eq!(find_executable("no-such-program-anywhere", path), None);
        assert_eq!(find_executable("sh", OsStr::new("relative/bin")), None);
    }
}
