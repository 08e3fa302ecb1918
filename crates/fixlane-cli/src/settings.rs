//! Global arguments resolved once into a `Context`: the repository, the config, the store, the actor.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use fixlane_core::Config;
use fixlane_runner::git::{GitCli, Repository};
use fixlane_store::{AnyStore, StoreLocation};

use crate::cli::GlobalArgs;
use crate::commands::run::EarlySnapshot;
use crate::diagnostics;
use crate::exit::{ExitCode, Failure};

/// Everything a command needs to know about where it runs.
pub struct Context {
    pub repo: GitCli,
    pub config_path: PathBuf,
    /// The store, or why `--db`/`FIXLANE_DB` could not be understood (said when a command
    /// needs the store, so a command that does not still works).
    db: Result<StoreLocation, String>,
    actor_override: Option<String>,
    actor: std::sync::OnceLock<String>,
    /// The config as parsed while the repository was being found, if that was tried.
    early: std::sync::Mutex<Option<EarlyConfig>>,
    /// git's answers about `HEAD` asked while the command line was parsed, if that was tried.
    early_snapshot: std::sync::Mutex<Option<EarlySnapshot>>,
    /// Whether the config this command read declares webhooks, once it has read one.
    webhooks: std::sync::OnceLock<bool>,
}

/// The config's name when it is `fixlane.toml` at the repository root.
pub(crate) const ROOT_CONFIG: &str = "fixlane.toml";

/// Who acts when neither `--as`, `FIXLANE_USER` nor git's `user.email` says.
pub(crate) const UNKNOWN_ACTOR: &str = "unknown";

/// `fixlane.toml` in the current directory, read and parsed on a thread of its own while git
/// says where the repository is: `fixlane run` usually starts at the repository's root, and a
/// config of a thousand gates takes longer to parse than git takes to answer. Used only when it
/// is the file the command would have read; otherwise the config is read as always.
pub struct EarlyConfig {
    path: PathBuf,
    parsed: std::thread::JoinHandle<Option<EarlyParse>>,
    /// git's snapshot of `HEAD`, asked beside it (for a run started from the command line).
    snapshot: Option<EarlySnapshot>,
}

/// The early read: the SHA-256 of the text and what parsing it said.
type EarlyParse = (String, Result<Config, fixlane_core::config::ConfigErrors>);

impl EarlyConfig {
    /// Starts reading when the command line is a run (`fixlane run …`, `fixlane ci …`), before
    /// it is even parsed: parsing it builds every subcommand's options, a millisecond or more
    /// on the way to the first gate. A guess that turns out wrong (`-C`, `--config`, a start in
    /// a subdirectory) is dropped where the config is read, since its path is not the one the
    /// command reads.
    pub fn from_command_line() -> Option<Self> {
        let command = std::env::args_os().nth(1)?;
        if command != "run" && command != "ci" {
            return None;
        }
        let snapshot = EarlySnapshot::start();
        Self::start_in_current_directory().map(|early| Self { snapshot, ..early })
    }

    /// Whether this early read may stand for the config of a command run with `global`: not
    /// when `-C` or `--config` say the config is elsewhere.
    pub fn for_global(self, global: &GlobalArgs) -> Option<Self> {
        (global.directory.is_none() && global.config.is_none()).then_some(self)
    }

    fn start_in_current_directory() -> Option<Self> {
        let path = std::env::current_dir().ok()?.join(ROOT_CONFIG);
        let reading = path.clone();
        let parsed = std::thread::Builder::new()
            .name("fixlane-config".to_owned())
            .spawn(move || {
                let size = std::fs::metadata(&reading).ok()?.len();
                // A file too big is left to the usual read, which says so.
                if fixlane_core::config::oversize(ROOT_CONFIG, size).is_some() {
                    return None;
                }
                let source = std::fs::read_to_string(&reading).ok()?;
                let hash = fixlane_core::audit::content_hash(&source);
                Some((hash, fixlane_core::config::parse(&source, ROOT_CONFIG)))
            })
            .ok()?;
        Some(Self {
            path,
            parsed,
            snapshot: None,
        })
    }
}

impl Context {
    pub fn discover(global: &GlobalArgs) -> Result<Self, Failure> {
        let start = match &global.directory {
            Some(directory) => directory.clone(),
            None => std::env::current_dir().context("could not read the current directory")?,
        };
        let repo = GitCli::discover(&start).map_err(|error| {
            Failure::error(anyhow::anyhow!(
                "{error}\nfixlane works inside a git repository: run it there, or pass -C DIR"
            ))
        })?;
        let config_path = match &global.config {
            Some(path) if path.is_absolute() => path.clone(),
            Some(path) => start.join(path),
            None => repo.root().join("fixlane.toml"),
        };
        let db = match &global.db {
            Some(db) => StoreLocation::parse(db).map_err(|error| error.to_string()),
            None => Ok(StoreLocation::sqlite(repo.fixlane_dir().join("fixlane.db"))),
        };
        Ok(Self {
            repo,
            config_path,
            db,
            actor_override: global.actor.clone(),
            actor: std::sync::OnceLock::new(),
            early: std::sync::Mutex::new(None),
            early_snapshot: std::sync::Mutex::new(None),
            webhooks: std::sync::OnceLock::new(),
        })
    }

    /// The context with a config read early (see [`EarlyConfig`]).
    pub fn with_early_config(self, early: Option<EarlyConfig>) -> Self {
        let (early, snapshot) = match early {
            Some(mut early) => {
                let snapshot = early.snapshot.take();
                (Some(early), snapshot)
            }
            None => (None, None),
        };
        Self {
            early: std::sync::Mutex::new(early),
            early_snapshot: std::sync::Mutex::new(snapshot),
            ..self
        }
    }

    /// git's snapshot of `HEAD` asked early, if it was (see [`EarlySnapshot`]); once.
    pub fn take_early_snapshot(&self) -> Option<EarlySnapshot> {
        self.early_snapshot.lock().ok()?.take()
    }

    /// The acting person: `--as`, else `FIXLANE_USER`, else git's `user.email`. Asked of git
    /// only when needed, since each git call delays the first gate.
    pub fn actor(&self) -> &str {
        self.actor.get_or_init(|| {
            self.actor_override
                .clone()
                .or_else(|| self.repo.user_email())
                .unwrap_or_else(|| UNKNOWN_ACTOR.to_owned())
        })
    }

    /// The person `--as` (or `FIXLANE_USER`) names, if any: refused in client mode, where the
    /// token's owner acts.
    pub fn acting_as(&self) -> Option<&str> {
        self.actor_override.as_deref()
    }

    pub fn root(&self) -> &Path {
        self.repo.root()
    }

    /// The config file's name as shown in messages: relative to the repository when inside it.
    pub fn config_display(&self) -> String {
        self.config_path
            .strip_prefix(self.root())
            .unwrap_or(&self.config_path)
            .to_string_lossy()
            .into_owned()
    }

    /// Reads and validates the config; on errors prints every one of them and fails with the
    /// config's exit code (5).
    pub fn load_config(&self) -> Result<Config, Failure> {
        self.load_config_and_hash().map(|(config, _)| config)
    }

    /// The config and the SHA-256 of its text, for logging when it changes.
    pub fn load_config_and_hash(&self) -> Result<(Config, String), Failure> {
        let loaded = self.read_config_and_hash();
        if let Ok((config, _)) = &loaded {
            let _ = self.webhooks.set(!config.notify.webhooks.is_empty());
        }
        loaded
    }

    /// Whether the config this command read declares no webhook: `false` when it read none
    /// (or it declares some), so the deliveries after a command need not read it again.
    pub fn read_a_config_without_webhooks(&self) -> bool {
        self.webhooks.get() == Some(&false)
    }

    fn read_config_and_hash(&self) -> Result<(Config, String), Failure> {
        let display = self.config_display();
        let early = self.early.lock().ok().and_then(|mut early| early.take());
        if let Some(early) = early
            && early.path == self.config_path
            && display == ROOT_CONFIG
            && let Ok(Some((hash, parsed))) = early.parsed.join()
        {
            return parsed
                .map(|config| (config, hash))
                .map_err(|errors| invalid_config(&errors, &display));
        }
        load_config_file(&self.config_path, &display)
    }

    /// The store's location; a `--db` or `FIXLANE_DB` that could not be understood fails here,
    /// with the store's exit code (6): the store cannot be opened.
    pub fn store_location(&self) -> Result<StoreLocation, Failure> {
        self.db.clone().map_err(|error| {
            Failure::store(anyhow::anyhow!(
                "{error}; pass --db or set FIXLANE_DB to a file path, `sqlite://PATH` or \
                 `postgres://USER@HOST/DB`"
            ))
        })
    }

    /// Opens the store for a command that records, creating and upgrading it as needed.
    pub async fn open_store(&self) -> Result<AnyStore, Failure> {
        let location = self.store_location()?;
        fixlane_store::open(&location)
            .await
            .map_err(|error| store_failure(&error, &location))
    }

    /// Opens the store for a command that only reads: nothing is created, upgraded or written,
    /// so read access to the store is enough.
    pub async fn open_store_read_only(&self) -> Result<AnyStore, Failure> {
        let location = self.store_location()?;
        fixlane_store::open_read_only(&location)
            .await
            .map_err(|error| store_failure(&error, &location))
    }
}

/// Reads and validates the config at `path` (`display` is its name in messages); on errors
/// prints every one of them and fails with the config's exit code (5). Returns the config and
/// the SHA-256 of its text.
pub fn load_config_file(path: &Path, display: &str) -> Result<(Config, String), Failure> {
    // A file over the limit is refused before it is read: it could be any size.
    if let Ok(metadata) = std::fs::metadata(path)
        && let Some(error) = fixlane_core::config::oversize(display, metadata.len())
    {
        eprint!("{}", diagnostics::render_plain_error(&error));
        return Err(Failure::config(anyhow::anyhow!(
            "{display} is too big to be a config; nothing was run"
        )));
    }
    let source = std::fs::read_to_string(path).map_err(|error| {
        Failure::config(anyhow::anyhow!(
            "could not read {}: {error}\nwrite one with `fixlane init`, or pass --config FILE",
            path.display()
        ))
    })?;
    let hash = fixlane_core::audit::content_hash(&source);
    let config = fixlane_core::config::parse(&source, display)
        .map_err(|errors| invalid_config(&errors, display))?;
    Ok((config, hash))
}

/// Prints every error of a config that does not validate; the failure says nothing ran.
fn invalid_config(errors: &fixlane_core::config::ConfigErrors, display: &str) -> Failure {
    eprint!("{}", diagnostics::render_config_errors(errors));
    Failure::config(anyhow::anyhow!("{display} is not valid; nothing was run"))
}

/// Where `serve` and `token` find their config, their store and the operator: they run on a
/// server host, often outside any repository, so `--config` and `--db` say where; inside a
/// repository they default as every other command does.
pub struct Standalone {
    pub config_path: PathBuf,
    /// The config's name in messages: relative to the repository when inside one.
    pub config_display: String,
    pub location: StoreLocation,
    /// Who acts, for the audit log: `--as`, else git's user.email, else `$USER`.
    pub actor: String,
}

impl Standalone {
    pub fn resolve(global: &GlobalArgs) -> Result<Self, Failure> {
        let start = match &global.directory {
            Some(directory) => directory.clone(),
            None => std::env::current_dir().context("could not read the current directory")?,
        };
        let repo = GitCli::discover(&start).ok();
        let config_path = match (&global.config, &repo) {
            (Some(path), _) if path.is_absolute() => path.clone(),
            (Some(path), _) => start.join(path),
            (None, Some(repo)) => repo.root().join("fixlane.toml"),
            (None, None) => {
                return Err(Failure::config(anyhow::anyhow!(
                    "outside a git repository there is no default fixlane.toml: pass --config \
                     PATH to the config whose [people] and rules this command uses"
                )));
            }
        };
        let location = match (&global.db, &repo) {
            (Some(db), _) => StoreLocation::parse(db).map_err(|error| {
                Failure::store(anyhow::anyhow!(
                    "{error}; pass --db or set FIXLANE_DB to a file path, `sqlite://PATH` or \
                     `postgres://USER@HOST/DB`"
                ))
            })?,
            (None, Some(repo)) => StoreLocation::sqlite(repo.fixlane_dir().join("fixlane.db")),
            (None, None) => {
                return Err(Failure::store(anyhow::anyhow!(
                    "outside a git repository there is no default store: pass --db or set \
                     FIXLANE_DB to `postgres://USER@HOST/DB` or a SQLite file path"
                )));
            }
        };
        let config_display = repo
            .as_ref()
            .and_then(|repo| config_path.strip_prefix(repo.root()).ok())
            .unwrap_or(&config_path)
            .to_string_lossy()
            .into_owned();
        let actor = global
            .actor
            .clone()
            .or_else(|| repo.as_ref().and_then(Repository::user_email))
            .or_else(|| {
                std::env::var("USER")
                    .ok()
                    .filter(|user| !user.trim().is_empty())
            })
            .unwrap_or_else(|| "operator".to_owned());
        Ok(Self {
            config_path,
            config_display,
            location,
            actor,
        })
    }

    /// The config and the SHA-256 of its text.
    pub fn load_config(&self) -> Result<(Config, String), Failure> {
        load_config_file(&self.config_path, &self.config_display)
    }

    /// Opens the store for writing, creating and upgrading it as needed.
    pub async fn open_store(&self) -> Result<AnyStore, Failure> {
        fixlane_store::open(&self.location)
            .await
            .map_err(|error| store_failure(&error, &self.location))
    }

    /// Opens the store for reading only.
    pub async fn open_store_read_only(&self) -> Result<AnyStore, Failure> {
        fixlane_store::open_read_only(&self.location)
            .await
            .map_err(|error| store_failure(&error, &self.location))
    }
}

/// A store that could not be opened, and where it was looked for. Both are shown through
/// `StoreLocation`'s `Display`, which hides passwords. The store's messages say what failed;
/// how to point fixlane at another store is the command line's to say, so it is said here.
pub fn store_failure(error: &fixlane_store::StoreError, location: &StoreLocation) -> Failure {
    Failure {
        code: ExitCode::for_store(error),
        error: anyhow::anyhow!(
            "{error}\nthe store is {location}; pass --db PATH|URL or set FIXLANE_DB to use another"
        ),
    }
}

/// The runtime of the async commands: one thread, since each waits on one store or canary at a
/// time and a second thread would only cost its start-up.
pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| {
            Failure::error(anyhow::anyhow!(
                "could not start the async runtime: {error}"
            ))
        })
}
