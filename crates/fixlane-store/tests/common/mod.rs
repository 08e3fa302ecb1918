//! What the store suites share: a fresh `PostgreSQL` database for one test, created from
//! `FIXLANE_TEST_POSTGRES_URL` and dropped afterwards, pass or fail.

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::AssertSqlSafe;

/// A database made for one test.
pub struct Scratch {
    admin: sqlx::PgPool,
    /// Its name, unique to this process and test.
    pub name: String,
    /// Its URL: the base URL pointed at it, query kept.
    pub url: String,
}

/// Creates a fresh database named `PREFIX_…`, or says plainly (where the harness cannot
/// swallow it) why the `PostgreSQL` half did not run and returns `None`.
pub async fn scratch(test: &str, prefix: &str) -> Option<Scratch> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let Ok(base) = std::env::var("FIXLANE_TEST_POSTGRES_URL") else {
        // Straight to the stderr handle: the harness captures eprintln! of passing tests.
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            format!(
                "{test}: PostgreSQL half skipped: FIXLANE_TEST_POSTGRES_URL is not set (set it to \
                 e.g. postgres://postgres@127.0.0.1:5432/test to run it on PostgreSQL too)\n"
            )
            .as_bytes(),
        );
        return None;
    };
    let name = format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        jiff::Timestamp::now().as_nanosecond() % 1_000_000_000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&base)
        .await
        .map_err(|error| format!("cannot reach FIXLANE_TEST_POSTGRES_URL {base}: {error}"))
        .unwrap();
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .unwrap();
    let (before_query, query) = base.split_once('?').unwrap_or((base.as_str(), ""));
    let prefix = before_query
        .rsplit_once('/')
        .map_or(before_query, |(prefix, _)| prefix);
    let url = if query.is_empty() {
        format!("{prefix}/{name}")
    } else {
        format!("{prefix}/{name}?{query}")
    };
    Some(Scratch { admin, name, url })
}

impl Scratch {
    /// Runs `body` in its own task, then drops the database after `also` (e.g. dropping a
    /// role the test made), and only then lets the test's panic, if any, go on.
    pub async fn run<Fut>(self, body: Fut, also: &[String])
    where
        Fut: Future<Output = ()> + Send + 'static,
    {
        let outcome = tokio::spawn(body).await;
        let drop_it = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        for sql in std::iter::once(&drop_it).chain(also) {
            sqlx::raw_sql(AssertSqlSafe(sql.clone()))
                .execute(&self.admin)
                .await
                .unwrap();
        }
        self.admin.close().await;
        if let Err(error) = outcome {
            std::panic::resume_unwind(error.into_panic());
        }
    }
}
