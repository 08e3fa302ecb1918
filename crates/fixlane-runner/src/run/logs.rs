//! Where gates' output goes: each gate writes into a pipe the runner reads, and one writer
//! thread per run puts every gate's output into `<log_dir>/<gate>.log`, creating the directory
//! and a gate's file at its first output.
//!
//! Creating a file is the slow part of a log on a busy disk (from 0.05 to almost 1 ms on ext4),
//! and it used to stand between a gate and its start. Now nothing on the way to a gate touches
//! the disk: a gate that prints nothing costs no file at all, and the thread, started at the
//! run's first output, does the creating and writing beside the scheduler. A gate's log is
//! complete on disk before its end is reported ([`Logs::close`] waits for the writer).

use std::collections::HashMap;
use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, mpsc};

use tokio::sync::oneshot;

/// What the writer thread is asked to do.
enum Message {
    /// More of a gate's output; the first chunk of a gate creates its file at `path`.
    Chunk {
        gate: usize,
        path: PathBuf,
        bytes: Vec<u8>,
    },
    /// The gate's output is over: its file is closed and how writing went is answered.
    Close {
        gate: usize,
        done: oneshot::Sender<Result<(), String>>,
    },
}

/// The run's gate logs: a handle the gate tasks share.
pub(super) struct Logs {
    dir: PathBuf,
    writer: OnceLock<Writer>,
}

struct Writer {
    sender: Mutex<Option<mpsc::Sender<Message>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Logs {
    pub(super) fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            writer: OnceLock::new(),
        }
    }

    /// The log file of the gate called `name`.
    pub(super) fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.log"))
    }

    fn writer(&self) -> &Writer {
        self.writer.get_or_init(|| {
            let (sender, receiver) = mpsc::channel();
            let dir = self.dir.clone();
            let thread = std::thread::Builder::new()
                .name("fixlane-logs".to_owned())
                .spawn(move || write_logs(&dir, &receiver))
                .ok();
            Writer {
                sender: Mutex::new(thread.is_some().then_some(sender)),
                thread: Mutex::new(thread),
            }
        })
    }

    fn send(&self, message: Message) -> Result<(), Message> {
        let Ok(sender) = self.writer().sender.lock() else {
            return Err(message);
        };
        match sender.as_ref() {
            Some(sender) => sender.send(message).map_err(|error| error.0),
            None => Err(message),
        }
    }

    /// Hands a chunk of the gate's output to the writer. `false` when there is no writer to
    /// take it (its thread could not start, or the run is over).
    pub(super) fn write(&self, gate: usize, path: &Path, bytes: Vec<u8>) -> bool {
        self.send(Message::Chunk {
            gate,
            path: path.to_path_buf(),
            bytes,
        })
        .is_ok()
    }

    /// Waits until everything the gate wrote is in its file, and says whether it all is.
    pub(super) async fn close(&self, gate: usize) -> Result<(), String> {
        let (done, answer) = oneshot::channel();
        if self.send(Message::Close { gate, done }).is_err() {
            return Err("the log writer is not running".to_owned());
        }
        answer
            .await
            .unwrap_or_else(|_| Err("the log writer stopped".to_owned()))
    }

    /// Ends the writer once what it was given is written. Output that comes later (from a
    /// process a gate left running in the background) is not kept.
    pub(super) fn finish(&self) {
        let Some(writer) = self.writer.get() else {
            return;
        };
        if let Ok(mut sender) = writer.sender.lock() {
            sender.take();
        }
        let thread = writer
            .thread
            .lock()
            .ok()
            .and_then(|mut thread| thread.take());
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

/// One gate's file as the writer keeps it: open, closed at the gate's end, or the first error
/// that stopped it.
enum GateFile {
    Open(File),
    Closed,
    Failed(String),
}

/// Appends output that came after the gate's end (a process it left in the background).
fn append_late(path: &Path, bytes: &[u8]) {
    if let Ok(mut file) = std::fs::OpenOptions::new().append(true).open(path) {
        let _ = file.write_all(bytes);
    }
}

/// The writer thread: every message in order, until the run drops its sender.
fn write_logs(dir: &Path, messages: &mpsc::Receiver<Message>) {
    let mut files: HashMap<usize, GateFile> = HashMap::new();
    let mut dir_ready: Option<Result<(), String>> = None;
    while let Ok(message) = messages.recv() {
        match message {
            Message::Chunk { gate, path, bytes } => {
                let file = files.entry(gate).or_insert_with(|| {
                    let ready = dir_ready.get_or_insert_with(|| {
                        std::fs::create_dir_all(dir).map_err(|error| {
                            format!(
                                "could not create the log directory {}: {error}",
                                dir.display()
                            )
                        })
                    });
                    match ready {
                        Ok(()) => File::create(&path).map_or_else(
                            |error| {
                                GateFile::Failed(format!(
                                    "could not create the log file {}: {error}",
                                    path.display()
                                ))
                            },
                            GateFile::Open,
                        ),
                        Err(error) => GateFile::Failed(error.clone()),
                    }
                });
                match file {
                    GateFile::Open(open) => {
                        if let Err(error) = open.write_all(&bytes) {
                            *file = GateFile::Failed(format!(
                                "could not write the log file {}: {error}",
                                path.display()
                            ));
                        }
                    }
                    GateFile::Closed => append_late(&path, &bytes),
                    GateFile::Failed(_) => {}
                }
            }
            Message::Close { gate, done } => {
                // A closed file is dropped, so a run of many gates holds few descriptors.
                let result = match files.insert(gate, GateFile::Closed) {
                    Some(GateFile::Failed(error)) => {
                        files.insert(gate, GateFile::Failed(error.clone()));
                        Err(error)
                    }
                    Some(GateFile::Open(_) | GateFile::Closed) | None => Ok(()),
                };
                let _ = done.send(result);
            }
        }
    }
}
