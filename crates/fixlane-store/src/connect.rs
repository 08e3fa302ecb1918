//! The first connection to a `PostgreSQL` store, made directly instead of through the pool.
//!
//! A pool retries a failed connection until its acquire timeout and then reports only that it
//! timed out, so a refused connection looked like a 10 s hang. One direct attempt reports a
//! refused connection, an unknown host, a missing database or a refused login at once, by name;
//! only a host that does not answer at all is waited for, up to [`ANSWER_TIMEOUT`].

use std::io::ErrorKind;
use std::time::Duration;

use sqlx::Connection as _;
use sqlx::postgres::{PgConnectOptions, PgConnection};

use crate::error::{ConnectProblem, StoreError};
use crate::location::StoreLocation;

/// How long a host that does not answer is waited for.
pub(crate) const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens one connection with `options` (those of `location`, perhaps with settings added),
/// giving up after `within` when the host does not answer.
pub(crate) async fn first_connection(
    location: &StoreLocation,
    options: &PgConnectOptions,
    within: Duration,
) -> Result<PgConnection, StoreError> {
    let problem = match tokio::time::timeout(within, PgConnection::connect_with(options)).await {
        Ok(Ok(connection)) => return Ok(connection),
        Ok(Err(error)) => classify(location, options, &error),
        Err(_) => ConnectProblem::NoAnswer {
            address: address(options),
            within,
        },
    };
    Err(StoreError::ConnectPostgres {
        location: location.clone(),
        problem,
    })
}

/// `host:port`, or the socket directory for a local socket.
fn address(options: &PgConnectOptions) -> String {
    if let Some(socket) = options.get_socket() {
        return format!("the socket in {}", socket.display());
    }
    let host = options.get_host();
    if host.contains(':') {
        format!("[{host}]:{}", options.get_port())
    } else {
        format!("{host}:{}", options.get_port())
    }
}

fn classify(
    location: &StoreLocation,
    options: &PgConnectOptions,
    error: &sqlx::Error,
) -> ConnectProblem {
    match error {
        sqlx::Error::Io(io) => match io.kind() {
            ErrorKind::ConnectionRefused => ConnectProblem::Refused {
                address: address(options),
            },
            // A socket path with no server behind it.
            ErrorKind::NotFound if options.get_socket().is_some() => ConnectProblem::Refused {
                address: address(options),
            },
            ErrorKind::TimedOut => ConnectProblem::NoAnswer {
                address: address(options),
                within: ANSWER_TIMEOUT,
            },
            ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable => {
                ConnectProblem::Unreachable {
                    address: address(options),
                    detail: location.scrub(&io.to_string()),
                }
            }
            // tokio's resolver reports a failed lookup as an uncategorized I/O error.
            _ if io.to_string().contains("lookup address") => ConnectProblem::UnknownHost {
                host: options.get_host().to_owned(),
            },
            _ => other(location, error),
        },
        sqlx::Error::Database(database) => match database.code().as_deref() {
            // invalid_catalog_name
            Some("3D000") => ConnectProblem::NoDatabase {
                address: address(options),
                database: options
                    .get_database()
                    .unwrap_or(options.get_username())
                    .to_owned(),
            },
            // invalid_password, invalid_authorization_specification
            Some("28P01" | "28000") => ConnectProblem::LoginRefused {
                user: options.get_username().to_owned(),
                detail: location.scrub(database.message()),
            },
            _ => other(location, error),
        },
        _ => other(location, error),
    }
}

fn other(location: &StoreLocation, error: &sqlx::Error) -> ConnectProblem {
    ConnectProblem::Other {
        detail: location.scrub(&error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    async fn problem(url: &str, within: Duration) -> (ConnectProblem, Duration) {
        let location = StoreLocation::parse(url).unwrap();
        let options = location.postgres_options().unwrap().clone();
        let started = Instant::now();
        let error = first_connection(&location, &options, within)
            .await
            .unwrap_err();
        let took = started.elapsed();
        // Neither the message nor the debug form of the error shows the password.
        assert!(!error.to_string().contains("hunter2"), "{error}");
        assert!(!format!("{error:?}").contains("hunter2"), "{error:?}");
        let StoreError::ConnectPostgres { problem, .. } = error else {
            panic!("expected a connection failure, got {error}");
        };
        (problem, took)
    }

    #[tokio::test]
    async fn a_refused_connection_is_named_at_once() {
        // Bound and closed again: nothing listens on the port now.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let (problem, took) = problem(
            &format!("postgres://u:hunter2@127.0.0.1:{port}/x"),
            ANSWER_TIMEOUT,
        )
        .await;
        let text = problem.to_string();
        assert!(
            matches!(problem, ConnectProblem::Refused { .. }),
            "{problem:?}"
        );
        assert!(
            text.starts_with(&format!("connection refused at 127.0.0.1:{port}")),
            "{text}"
        );
        assert!(took < Duration::from_secs(2), "took {took:?}");
    }

    #[tokio::test]
    async fn a_host_that_does_not_answer_is_given_up_on() {
        // Accepts the TCP connection and never says a word.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let holder = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        let (problem, took) = problem(
            &format!("postgres://u@127.0.0.1:{port}/x"),
            Duration::from_millis(300),
        )
        .await;
        holder.abort();
        assert!(
            matches!(problem, ConnectProblem::NoAnswer { .. }),
            "{problem:?}"
        );
        assert!(
            problem.to_string().starts_with(&format!(
                "the host at 127.0.0.1:{port} did not answer within"
            )),
            "{problem}"
        );
        assert!(took < Duration::from_secs(3), "took {took:?}");
    }

    #[tokio::test]
    async fn an_unknown_host_is_named() {
        let (problem, _) =
            problem("postgres://u@no-such-host.invalid:5432/x", ANSWER_TIMEOUT).await;
        assert!(
            matches!(problem, ConnectProblem::UnknownHost { ref host } if host == "no-such-host.invalid"),
            "{problem:?}"
        );
    }
}
