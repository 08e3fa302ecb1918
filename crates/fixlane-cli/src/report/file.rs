//! A report file (`--junit`, `--summary`) as an `io::Write` opened at its first write, at the
//! end of the run: a report that cannot be written does not keep the gates from running, and its
//! errors name the file.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Whether the file is replaced or appended to.
#[derive(Debug, Clone, Copy)]
enum Mode {
    Replace,
    /// CI job summaries collect several steps' output in one file.
    Append,
}

pub struct ReportFile {
    path: PathBuf,
    mode: Mode,
    /// What the file is, in messages: `"JUnit report"`, `"summary"`.
    what: &'static str,
    file: Option<File>,
}

impl ReportFile {
    /// Created, or emptied first.
    pub fn replace(path: &Path, what: &'static str) -> Self {
        Self::new(path, Mode::Replace, what)
    }

    /// Created, or written after what it holds.
    pub fn append(path: &Path, what: &'static str) -> Self {
        Self::new(path, Mode::Append, what)
    }

    fn new(path: &Path, mode: Mode, what: &'static str) -> Self {
        Self {
            path: path.to_path_buf(),
            mode,
            what,
            file: None,
        }
    }

    fn open(&self) -> io::Result<File> {
        match self.mode {
            // A file replaced is one step to the person: "could not write" either way.
            Mode::Replace => {
                File::create(&self.path).map_err(|error| self.failure("write", &error))
            }
            Mode::Append => OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(|error| self.failure("open", &error)),
        }
    }

    fn failure(&self, verb: &str, error: &io::Error) -> io::Error {
        io::Error::new(
            error.kind(),
            format!(
                "could not {verb} the {} {}: {error}",
                self.what,
                self.path.display()
            ),
        )
    }
}

impl Write for ReportFile {
    fn write(&mut self, buffer: &[u8]) -> io::Result<usize> {
        let file = match self.file.take() {
            Some(file) => file,
            None => self.open()?,
        };
        let file = self.file.insert(file);
        file.write(buffer)
            .map_err(|error| self.failure("write", &error))
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.file {
            Some(file) => file.flush(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_created_before_the_first_write() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("report.xml");
        let mut file = ReportFile::replace(&path, "JUnit report");
        file.flush().unwrap();
        assert!(!path.exists());
        file.write_all(b"<testsuites/>").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "<testsuites/>");
    }

    #[test]
    fn a_replaced_file_loses_what_it_held_and_an_appended_one_keeps_it() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("file");
        std::fs::write(&path, "earlier\n").unwrap();
        ReportFile::append(&path, "summary")
            .write_all(b"later\n")
            .unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "earlier\nlater\n");
        ReportFile::replace(&path, "JUnit report")
            .write_all(b"only\n")
            .unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "only\n");
    }

    #[test]
    fn a_file_that_cannot_be_opened_is_named_in_the_error() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("missing/report");
        let error = anyhow::Error::from(
            ReportFile::append(&path, "summary")
                .write_all(b"x")
                .unwrap_err(),
        );
        assert_eq!(
            format!("{error:#}"),
            format!(
                "could not open the summary {}: No such file or directory (os error 2)",
                path.display()
            )
        );
        let error = anyhow::Error::from(
            ReportFile::replace(&path, "JUnit report")
                .write_all(b"x")
                .unwrap_err(),
        );
        assert_eq!(
            format!("{error:#}"),
            format!(
                "could not write the JUnit report {}: No such file or directory (os error 2)",
                path.display()
            )
        );
    }
}
