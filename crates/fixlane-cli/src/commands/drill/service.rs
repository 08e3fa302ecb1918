//! The drill's simulated checkout service: an `OpenMetrics` text endpoint served by fixlane
//! itself on a free 127.0.0.1 port, so a game day needs nothing installed.
//!
//! The service reads what is deployed from the file the sandbox's `[deploy]` actions write
//! (`weight W STEP`, `promoted`, `rolled-back`), and every scrape answers 1 000 more requests,
//! split between the running version (`old`, failing 25% of its requests: the incident) and the
//! fix (`fix`, failing 0.2%) by the canary's weight. With `--regression` the fix fails 8% of its
//! requests from the canary's second step on: a side effect the canary must catch. The counters
//! grow by a fixed amount per scrape, so the ratios fixlane computes do not depend on timing.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;

/// Requests answered between two scrapes.
const PER_SCRAPE: f64 = 1_000.0;
/// The incident: the running version fails this share of its requests.
pub const OLD_ERROR_RATE: f64 = 0.25;
/// The fix, healthy.
const FIX_ERROR_RATE: f64 = 0.002;
/// The fix with the rehearsed side effect, from the canary's second step on.
const REGRESSED_ERROR_RATE: f64 = 0.08;

/// What the `[deploy]` actions last wrote.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Deployed {
    /// Only the old version serves.
    Old,
    /// The canary: the fix takes `weight` percent at step `step` (1-based).
    Canary { weight: u8, step: u32 },
    /// The fix serves everything.
    Promoted,
}

impl Deployed {
    fn read(state: &std::path::Path) -> Self {
        let text = std::fs::read_to_string(state).unwrap_or_default();
        let mut words = text.split_whitespace();
        match words.next() {
            Some("weight") => {
                let weight = words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
                let step = words.next().and_then(|s| s.parse().ok()).unwrap_or(1);
                Deployed::Canary { weight, step }
            }
            Some("promoted") => Deployed::Promoted,
            _ => Deployed::Old,
        }
    }
}

/// The running service's counters, grown on every scrape.
#[derive(Debug, Default)]
struct Counters {
    old_requests: f64,
    old_errors: f64,
    fix_requests: f64,
    fix_errors: f64,
}

impl Counters {
    fn serve(&mut self, deployed: Deployed, regression: bool) {
        let (fix_share, step) = match deployed {
            Deployed::Old => (0.0, 0),
            Deployed::Canary { weight, step } => (f64::from(weight) / 100.0, step),
            Deployed::Promoted => (1.0, u32::MAX),
        };
        let fix_rate = if regression && step >= 2 {
            REGRESSED_ERROR_RATE
        } else {
            FIX_ERROR_RATE
        };
        let fix = PER_SCRAPE * fix_share;
        self.fix_requests += fix;
        self.fix_errors += fix * fix_rate;
        self.old_requests += PER_SCRAPE - fix;
        self.old_errors += (PER_SCRAPE - fix) * OLD_ERROR_RATE;
    }

    fn exposition(&self) -> String {
        format!(
            "# HELP drill_requests_total Requests the simulated checkout service answered, by version.\n\
             # TYPE drill_requests_total counter\n\
             drill_requests_total{{version=\"old\"}} {}\n\
             drill_requests_total{{version=\"fix\"}} {}\n\
             # HELP drill_errors_total Requests that failed, by version.\n\
             # TYPE drill_errors_total counter\n\
             drill_errors_total{{version=\"old\"}} {}\n\
             drill_errors_total{{version=\"fix\"}} {}\n\
             # EOF\n",
            self.old_requests, self.fix_requests, self.old_errors, self.fix_errors
        )
    }
}

/// A started service: where it answers.
#[derive(Debug)]
pub struct Service {
    pub url: String,
}

/// Starts the service on a free 127.0.0.1 port, reading what is deployed from `state`. It
/// serves until the process ends (the drill is one process; nothing outlives it).
pub fn start(state: PathBuf, regression: bool) -> std::io::Result<Service> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}/metrics", listener.local_addr()?);
    std::thread::Builder::new()
        .name("drill-service".to_owned())
        .spawn(move || {
            let mut counters = Counters::default();
            for stream in listener.incoming().flatten() {
                // One scrape at a time: the counters need no lock, and a scrape is short.
                let _ = answer(&stream, &mut counters, &state, regression);
            }
        })?;
    Ok(Service { url })
}

fn answer(
    stream: &TcpStream,
    counters: &mut Counters,
    state: &std::path::Path,
    regression: bool,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // The rest of the head is read and ignored: the service has one page.
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let mut stream = stream;
    if !request_line.starts_with("GET /metrics ") {
        return stream.write_all(
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        );
    }
    counters.serve(Deployed::read(state), regression);
    let body = counters.exposition();
    write!(
        stream,
        "HTTP/1.1 200 OK\r\ncontent-type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[cfg(test)]
mod tests {
    #![expect(
        clippy::float_cmp,
        reason = "the counters are sums of exact binary fractions of 1 000"
    )]
    use super::*;

    #[test]
    fn the_canary_weight_splits_traffic_and_the_regression_starts_at_step_two() {
        let mut counters = Counters::default();
        counters.serve(Deployed::Old, true);
        assert_eq!(counters.fix_requests, 0.0);
        assert_eq!(counters.old_errors, 250.0);
        counters.serve(
            Deployed::Canary {
                weight: 10,
                step: 1,
            },
            true,
        );
        assert_eq!(counters.fix_requests, 100.0);
        assert!((counters.fix_errors - 0.2).abs() < 1e-9);
        counters.serve(
            Deployed::Canary {
                weight: 50,
                step: 2,
            },
            true,
        );
        assert!((counters.fix_errors - 0.2 - 40.0).abs() < 1e-9);
        let mut healthy = Counters::default();
        healthy.serve(
            Deployed::Canary {
                weight: 50,
                step: 2,
            },
            false,
        );
        assert!((healthy.fix_errors - 1.0).abs() < 1e-9);
        healthy.serve(Deployed::Promoted, false);
        assert_eq!(healthy.fix_requests, 1_500.0);
    }

    #[test]
    fn the_deploy_file_is_read_as_the_actions_write_it() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("deploy");
        assert_eq!(Deployed::read(&state), Deployed::Old);
        std::fs::write(&state, "weight 50 2\n").unwrap();
        assert_eq!(
            Deployed::read(&state),
            Deployed::Canary {
                weight: 50,
                step: 2
            }
        );
        std::fs::write(&state, "promoted\n").unwrap();
        assert_eq!(Deployed::read(&state), Deployed::Promoted);
        std::fs::write(&state, "rolled-back\n").unwrap();
        assert_eq!(Deployed::read(&state), Deployed::Old);
    }
}
