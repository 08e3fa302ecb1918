//! The file system side of reading Go packages: listing a directory, with the entry types its
//! listing already gives, and reading the head of each Go file opened relative to its
//! directory's descriptor, so that a module of thousands of files costs about one `openat`, one
//! `read` and one `close` a file, and no path is built or walked per file.

use std::collections::BTreeSet;
use std::ffi::CStr;
use std::io;
use std::ops::Range;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;

use rustix::fs::{AtFlags, CWD, FileType, Mode, OFlags};
use rustix::io::Errno;

use super::imports::imports_of;

/// How much of a Go file is read first: one page, which holds the imports of nearly every Go
/// file; the whole file is read only when they go on past it.
pub(super) const HEAD_BYTES: usize = 4 * 1024;

/// Directories the go tool itself ignores, and the usual huge ones.
fn ignored(name: &str) -> bool {
    name.starts_with('.')
        || name.starts_with('_')
        || matches!(name, "testdata" | "vendor" | "node_modules" | "target")
}

/// A file the go tool builds: `*.go`, not hidden nor `_`-prefixed (Go's rule, case and all:
/// `X.GO` is not one). What `Path::extension` would say, without its parsing per entry: a name
/// not starting with `.` has the extension `go` exactly when it ends in `.go`.
#[expect(
    clippy::case_sensitive_file_extension_comparisons,
    reason = "Go's own rule is case-sensitive"
)]
fn is_go_file(name: &str) -> bool {
    name.ends_with(".go") && !name.starts_with(['.', '_'])
}

/// File names, each NUL-ended in one buffer: the thousands of a module cost a few allocations,
/// and each is ready to hand to `openat` as it is.
#[derive(Debug, Default)]
pub(super) struct Names {
    bytes: Vec<u8>,
    /// Where each name ends, its NUL included.
    ends: Vec<usize>,
}

impl Names {
    pub(super) fn push(&mut self, name: &CStr) {
        self.bytes.extend_from_slice(name.to_bytes_with_nul());
        self.ends.push(self.bytes.len());
    }

    pub(super) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(super) fn append(&mut self, other: &Names) {
        for index in 0..other.len() {
            self.push(other.get(index));
        }
    }

    /// The name at `index`, which must be below [`Names::len`]; an empty name otherwise.
    pub(super) fn get(&self, index: usize) -> &CStr {
        let start = match index {
            0 => 0,
            _ => self.ends.get(index - 1).copied().unwrap_or(0),
        };
        let end = self.ends.get(index).copied().unwrap_or(start);
        CStr::from_bytes_with_nul(&self.bytes[start..end]).unwrap_or_default()
    }

    /// The name at `index` as text (names are kept only when they are UTF-8).
    pub(super) fn text(&self, index: usize) -> &str {
        self.get(index).to_str().unwrap_or_default()
    }
}

/// What a directory holds, as far as Go packages go.
#[derive(Debug, Default)]
pub(super) struct Listing {
    /// The names of its Go files.
    pub(super) go_files: Names,
    /// The subdirectories worth walking, by name: not ignored, not links.
    pub(super) directories: Vec<String>,
    /// Whether it holds a `go.mod` file (or a link to one): a module's root.
    pub(super) go_mod: bool,
}

/// An entry's type: the one its listing gave, or from `fstatat` where the file system gives
/// none. A link is a link, not what it points to, as the walk never follows one to a directory.
fn entry_type(directory: BorrowedFd<'_>, name: &CStr, listed: FileType) -> Option<FileType> {
    if listed != FileType::Unknown {
        return Some(listed);
    }
    let stat = rustix::fs::statat(directory, name, AtFlags::SYMLINK_NOFOLLOW).ok()?;
    Some(FileType::from_raw_mode(stat.st_mode))
}

/// Whether `name` in `directory` is a regular file, following a link.
fn is_file(directory: BorrowedFd<'_>, name: &CStr) -> bool {
    rustix::fs::statat(directory, name, AtFlags::empty())
        .is_ok_and(|stat| FileType::from_raw_mode(stat.st_mode) == FileType::RegularFile)
}

fn open_directory(path: &Path) -> Result<rustix::fd::OwnedFd, Errno> {
    rustix::fs::openat(
        CWD,
        path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// Calls `each` with the name and listed type of every entry of the directory `fd`, `.` and
/// `..` left out. On Linux, through one buffer large enough for most directories in one
/// `getdents64`, where `Dir` starts small and costs a call per few dozen entries.
#[cfg(target_os = "linux")]
fn each_entry(
    fd: BorrowedFd<'_>,
    buffer: &mut Vec<u8>,
    mut each: impl FnMut(&CStr, FileType),
) -> io::Result<()> {
    /// Room for a few hundred entries: the size glibc's `readdir` reads with.
    const LISTING_BYTES: usize = 32 * 1024;
    buffer.clear();
    buffer.reserve(LISTING_BYTES);
    let mut entries = rustix::fs::RawDir::new(fd, buffer.spare_capacity_mut());
    while let Some(entry) = entries.next() {
        let entry = match entry {
            Ok(entry) => entry,
            // Removed while listed: nothing more is in it.
            Err(Errno::NOENT) => break,
            Err(error) => return Err(error.into()),
        };
        let name = entry.file_name();
        if !matches!(name.to_bytes(), b"." | b"..") {
            each(name, entry.file_type());
        }
    }
    Ok(())
}

/// Calls `each` with the name and listed type of every entry of the directory `fd`, `.` and
/// `..` left out.
#[cfg(not(target_os = "linux"))]
fn each_entry(
    fd: BorrowedFd<'_>,
    _buffer: &mut Vec<u8>,
    mut each: impl FnMut(&CStr, FileType),
) -> io::Result<()> {
    let mut entries = rustix::fs::Dir::read_from(fd)?;
    while let Some(entry) = entries.read() {
        let entry = entry?;
        let name = entry.file_name();
        if !matches!(name.to_bytes(), b"." | b"..") {
            each(name, entry.file_type());
        }
    }
    Ok(())
}

/// What the directory at `path` holds, listed through `buffer`; `Ok(None)` when it vanished
/// (or became a file) since its parent was listed, which leaves nothing to read.
pub(super) fn list(path: &Path, buffer: &mut Vec<u8>) -> io::Result<Option<Listing>> {
    let fd = match open_directory(path) {
        Ok(fd) => fd,
        Err(Errno::NOENT | Errno::NOTDIR) => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    let fd = fd.as_fd();
    let mut listing = Listing::default();
    each_entry(fd, buffer, |name, listed| {
        let Ok(text) = name.to_str() else {
            return;
        };
        let Some(kind) = entry_type(fd, name, listed) else {
            // Gone since the listing began.
            return;
        };
        if kind == FileType::Directory {
            if !ignored(text) {
                listing.directories.push(text.to_owned());
            }
        } else if text == "go.mod" {
            listing.go_mod = kind == FileType::RegularFile || is_file(fd, name);
        } else if is_go_file(text) {
            // A link named like a Go file is read through; one to a directory fails to read.
            listing.go_files.push(name);
        }
    })?;
    Ok(Some(listing))
}

/// What reading some files of one package found: the import paths, and the files that could
/// not be read (by index into its names) with why.
#[derive(Debug, Default)]
pub(super) struct Found {
    pub(super) imports: BTreeSet<String>,
    pub(super) unreadable: Vec<(usize, String)>,
}

/// The buffers one reader reuses for every file.
pub(super) struct Reader {
    head: Vec<u8>,
    whole: Vec<u8>,
    spans: Vec<Range<usize>>,
}

impl Reader {
    pub(super) fn new() -> Self {
        Self {
            head: vec![0; HEAD_BYTES],
            whole: Vec::new(),
            spans: Vec::new(),
        }
    }

    /// The imports of the files `range` of `names` in the directory at `path`, into `found`.
    pub(super) fn read(
        &mut self,
        path: &Path,
        names: &Names,
        range: Range<usize>,
        found: &mut Found,
    ) {
        let directory = match open_directory(path) {
            Ok(fd) => fd,
            // Its files vanished with it, and import nothing.
            Err(Errno::NOENT) => return,
            Err(error) => {
                let why = io::Error::from(error).to_string();
                found
                    .unreadable
                    .extend(range.map(|index| (index, why.clone())));
                return;
            }
        };
        for index in range {
            if let Err(error) = self.file(directory.as_fd(), names.get(index), &mut found.imports) {
                found.unreadable.push((index, error.to_string()));
            }
        }
    }

    /// The imports of the Go file `name` in `directory`, into `imports`: its head is read, and
    /// the rest only when the imports go on past it.
    fn file(
        &mut self,
        directory: BorrowedFd<'_>,
        name: &CStr,
        imports: &mut BTreeSet<String>,
    ) -> io::Result<()> {
        // `NONBLOCK` so that a FIFO named like a Go file reads as empty instead of waiting for
        // a writer; it changes nothing for a regular file.
        let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK;
        let file = match rustix::fs::openat(directory, name, flags, Mode::empty()) {
            Ok(file) => file,
            // A file that vanished meanwhile imports nothing.
            Err(Errno::NOENT) => return Ok(()),
            Err(error) => return Err(error.into()),
        };
        let mut filled = 0;
        while filled < self.head.len() {
            let read = match rustix::io::read(&file, &mut self.head[filled..]) {
                Ok(read) => read,
                Err(Errno::INTR) => continue,
                Err(error) => return Err(error.into()),
            };
            filled += read;
            // Most files are read whole by the first read, and their imports end in it: no
            // second read to learn that the file ended.
            if imports_of(&self.head[..filled], &mut self.spans) || read == 0 {
                add(&self.head[..filled], &self.spans, imports);
                return Ok(());
            }
        }
        self.whole.clear();
        self.whole.extend_from_slice(&self.head);
        std::io::Read::read_to_end(&mut std::fs::File::from(file), &mut self.whole)?;
        imports_of(&self.whole, &mut self.spans);
        add(&self.whole, &self.spans, imports);
        Ok(())
    }
}

/// The import paths at `spans` of `bytes` into `imports`, each allocated only when new: a
/// package's files mostly import the same few.
fn add(bytes: &[u8], spans: &[Range<usize>], imports: &mut BTreeSet<String>) {
    for span in spans {
        let path = String::from_utf8_lossy(&bytes[span.clone()]);
        if !imports.contains(path.as_ref()) {
            imports.insert(path.into_owned());
        }
    }
}
