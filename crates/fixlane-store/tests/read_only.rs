//! `open_read_only`: an auditor's access to the store. On a `SQLite` file that cannot be written
//! (alone, in a directory that cannot be written either) and on `PostgreSQL` as a role granted
//! only `SELECT`: the log verifies and exports, nothing is created or migrated, writes fail, and
//! a schema that is missing, older or newer is named.
//!
//! The `PostgreSQL` halves run when `FIXLANE_TEST_POSTGRES_URL` is set, each on a fresh database
//! dropped afterwards.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers (not `#[test]` functions themselves) may fail loudly"
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use fixlane_core::audit::{AuditAction, ConfirmWhileRunning};
use fixlane_store::{AnyStore, NewRun, Store, StoreError, StoreLocation, open, open_read_only};
use jiff::Timestamp;
use serde_json::json;
use sqlx::AssertSqlSafe;

fn location(text: &str) -> StoreLocation {
    text.parse().unwrap()
}

/// Writes a small history: a standalone entry and a started run (two audit entries).
async fn write_history(store: &AnyStore) {
    store
        .append_audit(
            "alice",
            &AuditAction::ConfirmWhileRunning(ConfirmWhileRunning {
                rev: "abc".into(),
                run_id: "run-0".into(),
                lane: "normal".into(),
                reasons: vec![],
            }),
        )
        .await
        .unwrap();
    store
        .start_run(
            "alice",
            &NewRun {
                run_id: "run-1".to_owned(),
                rev: fixlane_core::Rev::parse("abc").unwrap(),
                branch: Some("main".to_owned()),
                lane: "normal".to_owned(),
                emergency: false,
                incident: None,
                started_at: Timestamp::now(),
                plan: json!({}),
                runner: None,
            },
        )
        .await
        .unwrap();
}

/// What an auditor does, and what they must not be able to do.
async fn audit_without_writing(store: &AnyStore) {
    assert_eq!(store.verify_audit().await.unwrap(), Ok(2));
    assert_eq!(store.audit_entries().await.unwrap().len(), 2);
    assert!(store.audit_head().await.unwrap().is_some());
    assert!(store.run("run-1").await.unwrap().is_some());
    assert!(store.emergencies().await.unwrap().is_empty());
    let tamper = AuditAction::ConfirmWhileRunning(ConfirmWhileRunning {
        rev: "abc".into(),
        run_id: "run-0".into(),
        lane: "normal".into(),
        reasons: vec!["tamper".into()],
    });
    let write = store.append_audit("mallory", &tamper).await;
    assert!(write.is_err(), "a read-only store accepted a write");
    assert_eq!(store.verify_audit().await.unwrap(), Ok(2));
}

/// Files (and perhaps their directory) made read-only for this process, undone on drop so the
/// temporary directory can be removed. Modes 0444 and 0555 first; when they are not enough (root
/// ignores modes), the immutable attribute too, which binds root as well.
struct ReadOnly {
    paths: Vec<PathBuf>,
    immutable: bool,
}

impl ReadOnly {
    fn make(files: &[&Path], dir: Option<&Path>) -> Self {
        use std::os::unix::fs::PermissionsExt as _;
        let mut paths: Vec<PathBuf> = files.iter().map(|file| file.to_path_buf()).collect();
        for file in files {
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o444)).unwrap();
        }
        let mut writable = files
            .iter()
            .any(|file| std::fs::OpenOptions::new().append(true).open(file).is_ok());
        if let Some(dir) = dir {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
            let probe = dir.join("probe");
            writable |= std::fs::write(&probe, b"").is_ok();
            let _ = std::fs::remove_file(&probe);
            paths.push(dir.to_owned());
        }
        let guard = Self {
            paths,
            immutable: writable,
        };
        if writable {
            chattr("+i", &guard.paths);
            assert!(
                std::fs::OpenOptions::new()
                    .append(true)
                    .open(files[0])
                    .is_err(),
                "could not make {} read-only for this test",
                files[0].display()
            );
        }
        guard
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt as _;
        if self.immutable {
            chattr("-i", &self.paths);
        }
        for path in &self.paths {
            let mode = if path.is_dir() { 0o755 } else { 0o644 };
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
        }
    }
}

fn chattr(flag: &str, paths: &[PathBuf]) {
    let status = Command::new("chattr")
        .arg(flag)
        .args(paths)
        .status()
        .expect("chattr (e2fsprogs), to make a file read-only for root");
    assert!(
        status.success(),
        "chattr {flag} failed: the test needs a filesystem with the immutable attribute"
    );
}

/// A store with history, copied as a single file (the WAL folded in) into a directory of its
/// own, where it is then made read-only: what an auditor is handed.
async fn read_only_copy(dir: &Path, directory_too: bool) -> (PathBuf, ReadOnly) {
    let original = dir.join("live/fixlane.db");
    let store = open(&StoreLocation::sqlite(&original)).await.unwrap();
    write_history(&store).await;
    store.close().await;
    let copy = dir.join("copy/fixlane.db");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::copy(&original, &copy).unwrap();
    let guard = ReadOnly::make(&[&copy], copy.parent().filter(|_| directory_too));
    (copy, guard)
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_read_only_file_alone_in_a_read_only_directory_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let (copy, _guard) = read_only_copy(dir.path(), true).await;
    let at = StoreLocation::sqlite(&copy);

    // Opening for writing cannot work here: this is what failed before.
    assert!(open(&at).await.is_err());

    let store = open_read_only(&at).await.unwrap();
    assert_eq!(store.kind(), "sqlite");
    audit_without_writing(&store).await;
    store.close().await;
    assert_eq!(entries(copy.parent().unwrap()), ["fixlane.db"]);
}

#[tokio::test]
async fn a_read_only_file_in_a_writable_directory_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    // Only the file is read-only: SQLite may put its shared-memory files beside it.
    let (copy, _guard) = read_only_copy(dir.path(), false).await;
    let store = open_read_only(&StoreLocation::sqlite(&copy)).await.unwrap();
    audit_without_writing(&store).await;
    store.close().await;
}

#[tokio::test]
async fn unreadable_changes_in_a_write_ahead_log_are_refused_not_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let original = dir.path().join("live/fixlane.db");
    let store = open(&StoreLocation::sqlite(&original)).await.unwrap();
    let AnyStore::Sqlite(sqlite) = &store else {
        panic!("expected SQLite");
    };
    sqlx::query("PRAGMA wal_autocheckpoint = 0")
        .execute(sqlite.pool())
        .await
        .unwrap();
    write_history(&store).await;
    // Copied while open: the entries are in the -wal file, not yet in the main one.
    let copy = dir.path().join("copy/fixlane.db");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::copy(&original, &copy).unwrap();
    let mut wal = copy.clone().into_os_string();
    wal.push("-wal");
    let mut live_wal = original.clone().into_os_string();
    live_wal.push("-wal");
    std::fs::copy(&live_wal, &wal).unwrap();
    assert!(std::fs::metadata(&wal).unwrap().len() > 0);
    store.close().await;
    let _guard = ReadOnly::make(&[&copy, Path::new(&wal)], copy.parent());

    let error = open_read_only(&StoreLocation::sqlite(&copy))
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::ReadOnlyWal { .. }), "{error:?}");
    assert!(error.to_string().contains(".backup"), "{error}");
}

#[tokio::test]
async fn reading_a_missing_sqlite_store_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not/yet/fixlane.db");
    let error = open_read_only(&StoreLocation::sqlite(&path))
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::NoStore { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with(&format!("there is no store at {} yet", path.display())),
        "{error}"
    );
    assert!(!dir.path().join("not").exists());
}

#[tokio::test]
async fn a_sqlite_file_without_tables_is_named_not_taken_for_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("copied-without-its-wal.db");
    std::fs::write(&path, b"").unwrap();
    let error = open_read_only(&StoreLocation::sqlite(&path))
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::EmptySqlite { .. }), "{error:?}");
    assert!(error.to_string().contains("-wal file"), "{error}");

    let other = dir.path().join("other.db");
    let status = Command::new("sqlite3")
        .arg(&other)
        .arg("CREATE TABLE notes (text TEXT);")
        .status()
        .expect("the sqlite3 CLI (apt-get install sqlite3)");
    assert!(status.success());
    let error = open_read_only(&StoreLocation::sqlite(&other))
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::NotAStore { .. }), "{error:?}");
}

#[tokio::test]
async fn reading_an_older_or_newer_sqlite_store_says_so_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fixlane.db");
    let at = StoreLocation::sqlite(&path);
    schema_versions_are_checked(&at, "x'00'", |sql| {
        let path = path.clone();
        async move {
            let status = Command::new("sqlite3")
                .arg(&path)
                .arg(sql)
                .status()
                .expect("the sqlite3 CLI (apt-get install sqlite3)");
            assert!(status.success());
        }
    })
    .await;
}

/// Removes the newest applied migration, then adds an unknown one, checking each is named and
/// left as it was; `exec` runs SQL on the store's database, where `blob` is a one-byte blob.
async fn schema_versions_are_checked<F, Fut>(at: &StoreLocation, blob: &str, exec: F)
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let store = open(at).await.unwrap();
    write_history(&store).await;
    store.close().await;

    exec(
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT max(version) FROM _sqlx_migrations)"
            .to_owned(),
    )
    .await;
    for _ in 0..2 {
        let error = open_read_only(at).await.unwrap_err();
        assert!(matches!(error, StoreError::SchemaOlder { .. }), "{error:?}");
        assert!(error.to_string().contains("older fixlane"), "{error}");
    }
    // Opening for writing brings it up to date again; reading did not.
    open(at).await.unwrap().close().await;
    open_read_only(at).await.unwrap().close().await;

    exec(format!(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99999, 'from the future', true, {blob}, 0)"
    ))
    .await;
    let error = open_read_only(at).await.unwrap_err();
    assert!(
        matches!(error, StoreError::SchemaNewer { version: 99999, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("newer fixlane"), "{error}");
}

/// A fresh `PostgreSQL` database of one test.
#[derive(Clone)]
struct Database {
    name: String,
    url: String,
}

impl Database {
    /// The role a test may create for itself; dropped with the database.
    fn reader(&self) -> String {
        format!("{}_reader", self.name)
    }

    /// Runs SQL in this database as the admin.
    async fn exec(&self, sql: &str) {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(&self.url)
            .await
            .unwrap();
        sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
}

/// Runs `body` on a fresh database, dropped afterwards with the test's role, pass or fail; or
/// says plainly (where the harness cannot swallow it) why it did not run.
async fn on_postgres<F, Fut>(test: &str, body: F)
where
    F: FnOnce(Database) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let Some(scratch) = common::scratch(test, "fixlane_ro").await else {
        return;
    };
    let database = Database {
        url: scratch.url.clone(),
        name: scratch.name.clone(),
    };
    let reader = database.reader();
    scratch
        .run(body(database), &[format!("DROP ROLE IF EXISTS {reader}")])
        .await;
}

/// `base` pointed at database `name`, as `user` when given.
fn with_user_and_database(base: &str, user: Option<&str>, name: &str) -> String {
    let mut url = url::Url::parse(base).unwrap();
    url.set_path(&format!("/{name}"));
    if let Some(user) = user {
        url.set_username(user).unwrap();
        url.set_password(None).unwrap();
    }
    url.to_string()
}

#[tokio::test]
async fn a_role_granted_only_select_verifies_and_exports_on_postgresql() {
    on_postgres("a_role_granted_only_select", |database| async move {
        let store = open(&location(&database.url)).await.unwrap();
        write_history(&store).await;
        store.close().await;
        let role = database.reader();
        database
            .exec(&format!(
                "CREATE ROLE {role} LOGIN; GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role};"
            ))
            .await;
        let reader = location(&with_user_and_database(
            &database.url,
            Some(&role),
            &database.name,
        ));

        // Opening for writing needs more than SELECT: this is what failed before.
        assert!(open(&reader).await.is_err());

        let store = open_read_only(&reader).await.unwrap();
        assert_eq!(store.kind(), "postgres");
        audit_without_writing(&store).await;
        store.close().await;

        // Without SELECT on the schema version table, the error says which grant is missing.
        database
            .exec(&format!("REVOKE SELECT ON _sqlx_migrations FROM {role};"))
            .await;
        let error = open_read_only(&reader).await.unwrap_err();
        assert!(
            matches!(error, StoreError::SchemaUnreadable { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("GRANT SELECT"), "{error}");
    })
    .await;
}

#[tokio::test]
async fn even_the_owner_cannot_write_through_a_read_only_postgresql_store() {
    on_postgres("even_the_owner_cannot_write", |database| async move {
        let at = location(&database.url);
        let store = open(&at).await.unwrap();
        write_history(&store).await;
        store.close().await;
        let store = open_read_only(&at).await.unwrap();
        audit_without_writing(&store).await;
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn reading_an_empty_postgresql_database_creates_nothing() {
    on_postgres(
        "reading_an_empty_postgresql_database",
        |database| async move {
            let error = open_read_only(&location(&database.url)).await.unwrap_err();
            assert!(matches!(error, StoreError::NoStore { .. }), "{error:?}");
            assert!(
                error.to_string().contains("there is no store at"),
                "{error}"
            );
            let pool = sqlx::PgPool::connect(&database.url).await.unwrap();
            let tables: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema()",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            pool.close().await;
            assert_eq!(tables, 0, "reading created tables");
        },
    )
    .await;
}

#[tokio::test]
async fn reading_an_older_or_newer_postgresql_store_says_so_and_changes_nothing() {
    on_postgres(
        "reading_an_older_or_newer_postgresql",
        |database| async move {
            let at = location(&database.url);
            let shared = &database;
            schema_versions_are_checked(&at, "'\\x00'::bytea", |sql| async move {
                shared.exec(&sql).await;
            })
            .await;
        },
    )
    .await;
}
