//! Where a check's number comes from: a Prometheus server's instant query, a direct scrape of
//! a text exposition endpoint (the ratio of two counters' increase between scrapes), or a
//! command that prints one number.
//!
//! HTTP is plain `http://` only: no TLS stack is compiled in, so an `https://` address is
//! refused with an error (which counts toward `failure_limit` like any other) rather than
//! silently downgraded. A Prometheus behind TLS is reached through a local proxy or tunnel.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use fixlane_core::canary::Sample;
use fixlane_core::config::model::{CanaryCheck, MetricSource};
use fixlane_process::Cancel;
use serde::Deserialize;

use crate::exposition::{self, Selector};
use crate::process::{self, Shell};

/// Why a source gave no usable answer (as opposed to answering "no data").
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("the check uses a Prometheus query, but `canary.prometheus` is not set")]
    NoPrometheus,
    #[error("`{url}` is not a usable address: {why}")]
    BadAddress { url: String, why: String },
    #[error(
        "`{url}` is https, but this build speaks plain http only; reach the server through http (a local proxy or tunnel)"
    )]
    HttpsUnsupported { url: String },
    #[error("could not reach {url}: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{url} answered HTTP {status}: {body}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    #[error("Prometheus refused the query ({error_type}): {error}")]
    Query { error_type: String, error: String },
    #[error(
        "the query returned {count} series; a check needs exactly one (aggregate it, e.g. with `sum(…)`)"
    )]
    ManySeries { count: usize },
    #[error("could not read the answer from {url}: {why}")]
    BadResponse { url: String, why: String },
    #[error("`{selector}` is not a series selector: {source}")]
    Selector {
        selector: String,
        #[source]
        source: exposition::SyntaxError,
    },
    #[error("could not read the exposition from {url}: {source}")]
    Exposition {
        url: String,
        #[source]
        source: exposition::SyntaxError,
    },
    #[error("the check command {why}: {tail}")]
    Command { why: String, tail: String },
    #[error("the check command printed nothing")]
    EmptyOutput,
    #[error("the check command printed `{output}`, not a number")]
    NotANumber { output: String },
}

/// A source's answer: a number, or an explained lack of one.
#[derive(Debug, Clone, PartialEq)]
pub enum Reading {
    Value(f64),
    NoData(String),
}

/// The counter sums of the last scrape of one check.
#[derive(Debug, Clone, Copy)]
struct Counters {
    numerator: f64,
    denominator: f64,
}

/// Every metric source of one canary, with what they remember between evaluations.
#[derive(Debug)]
pub struct Sources {
    client: reqwest::Client,
    prometheus: Option<String>,
    /// How long one sample may take before it counts as an error.
    timeout: Duration,
    /// Where command checks run; the current directory when `None`.
    workdir: Option<PathBuf>,
    /// The last scrape of each `scrape` check, by check name.
    previous: Mutex<HashMap<String, Counters>>,
}

impl Sources {
    pub fn new(prometheus: Option<String>, timeout: Duration, workdir: Option<PathBuf>) -> Self {
        Self {
            client: reqwest::Client::new(),
            prometheus,
            timeout,
            workdir,
            previous: Mutex::new(HashMap::new()),
        }
    }

    /// One sample of `check`: `Ok(None)` is "no data".
    pub async fn sample(&self, check: &CanaryCheck) -> Result<Option<f64>, SourceError> {
        Ok(match self.read(check).await? {
            Reading::Value(value) => Some(value),
            Reading::NoData(_) => None,
        })
    }

    /// One sample as the trackers take it, with why there was no value.
    pub async fn sample_for_tracker(&self, check: &CanaryCheck) -> Sample {
        match self.read(check).await {
            Ok(Reading::Value(value)) => Sample::Value(value),
            Ok(Reading::NoData(why)) => Sample::NoData(why),
            Err(error) => Sample::Error(error.to_string()),
        }
    }

    /// One sample with its explanation.
    pub async fn read(&self, check: &CanaryCheck) -> Result<Reading, SourceError> {
        let reading = match &check.source {
            MetricSource::Query { query } => self.query(query).await?,
            MetricSource::Scrape {
                url,
                numerator,
                denominator,
            } => {
                self.scrape(&check.name, url, numerator, denominator)
                    .await?
            }
            MetricSource::Command { run } => self.command(&check.name, run).await?,
        };
        Ok(match reading {
            Reading::Value(value) if value.is_nan() => {
                Reading::NoData("the value is NaN (e.g. 0/0: no traffic)".to_owned())
            }
            other => other,
        })
    }

    async fn get(&self, url: reqwest::Url) -> Result<String, SourceError> {
        let shown = url.to_string();
        if url.scheme() == "https" {
            return Err(SourceError::HttpsUnsupported { url: shown });
        }
        let response = self
            .client
            .get(url)
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|source| SourceError::Unreachable {
                url: shown.clone(),
                source,
            })?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|source| SourceError::Unreachable {
                url: shown.clone(),
                source,
            })?;
        // Prometheus answers a refused query with 4xx and a JSON body that says why.
        let explained = status.is_client_error() && body.starts_with('{');
        if !status.is_success() && !explained {
            return Err(SourceError::Status {
                url: shown,
                status: status.as_u16(),
                body: body.chars().take(200).collect(),
            });
        }
        Ok(body)
    }

    async fn query(&self, query: &str) -> Result<Reading, SourceError> {
        let base = self
            .prometheus
            .as_deref()
            .ok_or(SourceError::NoPrometheus)?;
        let endpoint = format!("{}/api/v1/query", base.trim_end_matches('/'));
        let url =
            reqwest::Url::parse_with_params(&endpoint, [("query", query)]).map_err(|error| {
                SourceError::BadAddress {
                    url: base.to_owned(),
                    why: error.to_string(),
                }
            })?;
        let body = self.get(url).await?;
        interpret_query(&endpoint, &body)
    }

    async fn scrape(
        &self,
        check: &str,
        url: &str,
        numerator: &str,
        denominator: &str,
    ) -> Result<Reading, SourceError> {
        let selector = |text: &str| {
            Selector::parse(text).map_err(|source| SourceError::Selector {
                selector: text.to_owned(),
                source,
            })
        };
        let numerator_selector = selector(numerator)?;
        let denominator_selector = selector(denominator)?;
        let parsed = reqwest::Url::parse(url).map_err(|error| SourceError::BadAddress {
            url: url.to_owned(),
            why: error.to_string(),
        })?;
        let body = self.get(parsed).await?;
        let samples = exposition::parse(&body).map_err(|source| SourceError::Exposition {
            url: url.to_owned(),
            source,
        })?;
        let (Some(numerator_sum), Some(denominator_sum)) = (
            numerator_selector.sum(&samples),
            denominator_selector.sum(&samples),
        ) else {
            let missing = if numerator_selector.sum(&samples).is_none() {
                &numerator_selector.name
            } else {
                &denominator_selector.name
            };
            return Ok(Reading::NoData(format!(
                "{url} does not expose `{missing}`"
            )));
        };
        let current = Counters {
            numerator: numerator_sum,
            denominator: denominator_sum,
        };
        let mut remembered = self
            .previous
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let previous = remembered.get(check).copied();
        let reading = ratio_of_increase(previous, current);
        // Two scrapes too close together to see traffic keep the older baseline, so the next
        // answer covers the whole time since it.
        let unchanged = previous
            .is_some_and(|previous| previous.denominator.total_cmp(&current.denominator).is_eq());
        if !unchanged {
            remembered.insert(check.to_owned(), current);
        }
        Ok(reading)
    }

    async fn command(&self, check: &str, run: &str) -> Result<Reading, SourceError> {
        let shell = Shell {
            command: run.to_owned(),
            env: vec![("FIXLANE_CHECK".to_owned(), check.to_owned())],
            workdir: self.workdir.clone(),
            timeout: self.timeout,
            kill_grace: Duration::from_millis(500),
        };
        let finished = process::run(&shell, Cancel::never()).await;
        if let Some(why) = finished.why() {
            let tail = String::from_utf8_lossy(&finished.stderr)
                .lines()
                .last()
                .unwrap_or("")
                .to_owned();
            return Err(SourceError::Command { why, tail });
        }
        let output = String::from_utf8_lossy(&finished.stdout).trim().to_owned();
        if output.is_empty() {
            return Err(SourceError::EmptyOutput);
        }
        exposition::parse_value(&output)
            .map(Reading::Value)
            .ok_or_else(|| SourceError::NotANumber {
                output: output.chars().take(100).collect(),
            })
    }
}

/// The check's value from two consecutive scrapes: the numerator's increase over the
/// denominator's.
fn ratio_of_increase(previous: Option<Counters>, current: Counters) -> Reading {
    let Some(previous) = previous else {
        return Reading::NoData("first scrape: an increase needs a second one".to_owned());
    };
    let numerator = current.numerator - previous.numerator;
    let denominator = current.denominator - previous.denominator;
    if numerator < 0.0 || denominator < 0.0 {
        return Reading::NoData("a counter went down (a restart reset it)".to_owned());
    }
    if denominator == 0.0 {
        return Reading::NoData("the denominator did not increase between scrapes".to_owned());
    }
    Reading::Value(numerator / denominator)
}

#[derive(Deserialize)]
struct QueryResponse {
    status: String,
    #[serde(default)]
    data: Option<QueryData>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
enum QueryData {
    Vector(Vec<VectorSample>),
    Scalar((f64, String)),
    Matrix(serde::de::IgnoredAny),
    String(serde::de::IgnoredAny),
}

#[derive(Deserialize)]
struct VectorSample {
    value: (f64, String),
}

/// Reads `/api/v1/query`'s JSON: one vector sample or a scalar is the value; an empty vector is
/// no data.
fn interpret_query(url: &str, body: &str) -> Result<Reading, SourceError> {
    let response: QueryResponse =
        serde_json::from_str(body).map_err(|error| SourceError::BadResponse {
            url: url.to_owned(),
            why: error.to_string(),
        })?;
    if response.status != "success" {
        return Err(SourceError::Query {
            error_type: response.error_type.unwrap_or_default(),
            error: response.error.unwrap_or_default(),
        });
    }
    let bad = |why: &str| SourceError::BadResponse {
        url: url.to_owned(),
        why: why.to_owned(),
    };
    let text = match response
        .data
        .ok_or_else(|| bad("no `data` in a successful answer"))?
    {
        QueryData::Vector(samples) => match samples.as_slice() {
            [] => {
                return Ok(Reading::NoData(
                    "the query returned an empty result".to_owned(),
                ));
            }
            [sample] => sample.value.1.clone(),
            _ => {
                return Err(SourceError::ManySeries {
                    count: samples.len(),
                });
            }
        },
        QueryData::Scalar((_, text)) => text,
        QueryData::Matrix(_) => {
            return Err(bad(
                "the query returned a range vector; a check needs an instant value",
            ));
        }
        QueryData::String(_) => return Err(bad("the query returned a string, not a number")),
    };
    exposition::parse_value(&text)
        .map(Reading::Value)
        .ok_or_else(|| bad(&format!("`{text}` is not a number")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_one_vector_sample_or_a_scalar() {
        let vector = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000.1,"0.25"]}]}}"#;
        assert_eq!(interpret_query("u", vector).unwrap(), Reading::Value(0.25));
        let scalar =
            r#"{"status":"success","data":{"resultType":"scalar","result":[1700000000,"+Inf"]}}"#;
        assert_eq!(
            interpret_query("u", scalar).unwrap(),
            Reading::Value(f64::INFINITY)
        );
        let empty = r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert!(matches!(
            interpret_query("u", empty).unwrap(),
            Reading::NoData(_)
        ));
        let nan = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"NaN"]}]}}"#;
        assert!(
            matches!(interpret_query("u", nan).unwrap(), Reading::Value(value) if value.is_nan())
        );
    }

    #[test]
    fn refuses_many_series_errors_and_garbage() {
        let many = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"},"value":[1,"1"]},{"metric":{"a":"2"},"value":[1,"2"]}]}}"#;
        assert!(matches!(
            interpret_query("u", many),
            Err(SourceError::ManySeries { count: 2 })
        ));
        let refused = r#"{"status":"error","errorType":"bad_data","error":"parse error"}"#;
        assert!(matches!(
            interpret_query("u", refused),
            Err(SourceError::Query { .. })
        ));
        assert!(interpret_query("u", "<html>").is_err());
    }

    #[test]
    fn scrape_ratio_is_of_increases_and_a_reset_is_no_data() {
        let counters = |numerator, denominator| Counters {
            numerator,
            denominator,
        };
        assert!(matches!(
            ratio_of_increase(None, counters(1.0, 10.0)),
            Reading::NoData(_)
        ));
        assert_eq!(
            ratio_of_increase(Some(counters(1.0, 10.0)), counters(3.0, 110.0)),
            Reading::Value(0.02)
        );
        assert!(matches!(
            ratio_of_increase(Some(counters(5.0, 100.0)), counters(1.0, 3.0)),
            Reading::NoData(why) if why.contains("reset")
        ));
        assert!(matches!(
            ratio_of_increase(Some(counters(5.0, 100.0)), counters(5.0, 100.0)),
            Reading::NoData(_)
        ));
    }

    #[tokio::test]
    async fn command_output_must_be_one_number() {
        let sources = Sources::new(None, Duration::from_secs(5), None);
        let check = |run: &str| CanaryCheck {
            name: "cmd".to_owned(),
            source: MetricSource::Command {
                run: run.to_owned(),
            },
            min: None,
            max: Some(1.0),
        };
        assert_eq!(
            sources.sample(&check("echo ' 0.5 '")).await.unwrap(),
            Some(0.5)
        );
        assert!(matches!(
            sources.sample(&check("true")).await,
            Err(SourceError::EmptyOutput)
        ));
        assert!(matches!(
            sources.sample(&check("echo many words")).await,
            Err(SourceError::NotANumber { .. })
        ));
        assert!(matches!(
            sources.sample(&check("echo broke >&2; exit 2")).await,
            Err(SourceError::Command { .. })
        ));
        assert_eq!(sources.sample(&check("echo NaN")).await.unwrap(), None);
    }

    #[tokio::test]
    async fn https_is_refused_plainly() {
        let sources = Sources::new(
            Some("https://prometheus.example".to_owned()),
            Duration::from_secs(1),
            None,
        );
        let check = CanaryCheck {
            name: "q".to_owned(),
            source: MetricSource::Query {
                query: "up".to_owned(),
            },
            min: None,
            max: None,
        };
        assert!(matches!(
            sources.sample(&check).await,
            Err(SourceError::HttpsUnsupported { .. })
        ));
    }
}
