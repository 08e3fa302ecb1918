//! The record's routes, as the commands ask them: emergencies declared, approved, bypassed,
//! shown and listed; rate reviews; follow-ups opened by a merge, closed, listed as due; a
//! backfill recorded; the audit log verified and exported. Each answer is read into the types
//! local mode renders.

use anyhow::anyhow;
use fixlane_app::DeclareInput;
use fixlane_core::config::model::BypassElement;
use fixlane_core::emergency::Emergency;
use fixlane_core::followup::{FollowUp, FollowUpKind};
use fixlane_core::{IncidentId, PersonName, Rev};
use fixlane_store::RateReview;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Client, Reply};
use crate::exit::Failure;

/// An emergency's whole record as `show --json` prints it, and read back into its parts.
#[derive(Debug, Clone)]
pub struct Detail {
    pub emergency: Emergency,
    /// The approver groups the server's policy still finds unsatisfied.
    pub missing: Vec<Vec<String>>,
    pub followups: Vec<FollowUp>,
    /// The answer as it came.
    pub json: Value,
}

impl Detail {
    fn of(json: Value) -> Result<Self, Failure> {
        let unreadable = |error: serde_json::Error| {
            Failure::error(anyhow!(
                "the server's record does not read as an emergency ({error}): is it the same \
                 version of fixlane?"
            ))
        };
        let emergency = serde_json::from_value(json.clone()).map_err(unreadable)?;
        let missing =
            serde_json::from_value(json["missing_approvals"].clone()).map_err(unreadable)?;
        let followups = serde_json::from_value(json["followups"].clone()).map_err(unreadable)?;
        Ok(Self {
            emergency,
            missing,
            followups,
            json,
        })
    }
}

fn detail(reply: Reply<Value>) -> Result<Reply<Detail>, Failure> {
    Ok(Reply {
        body: Detail::of(reply.body)?,
        actor: reply.actor,
    })
}

/// A path with a query string, each value percent-encoded.
pub(super) fn with_query(path: &str, pairs: &[(&str, Option<String>)]) -> String {
    let encoded: Vec<String> = pairs
        .iter()
        .filter_map(|(key, value)| {
            value
                .as_ref()
                .map(|value| format!("{key}={}", encode(value)))
        })
        .collect();
    if encoded.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", encoded.join("&"))
    }
}

/// `text` with every byte but the unreserved ones (RFC 3986) as `%XX`.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// What `GET /api/v1/audit/verify` says.
#[derive(Debug, Deserialize)]
pub struct Verified {
    pub intact: bool,
    pub entries: usize,
    pub head: Option<Head>,
    pub broken: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
}

/// What a recorded backfill came to.
#[derive(Debug, Deserialize)]
pub struct Backfilled {
    pub emergency_closed: bool,
    pub failing: Vec<String>,
    pub run_id: String,
}

impl Client {
    pub async fn declare(&self, input: &DeclareInput) -> Result<Reply<Detail>, Failure> {
        let id = IncidentId::parse(&input.id).ok();
        let body = json!({
            "id": input.id,
            "severity": input.severity,
            "category": input.category,
            "title": input.title,
            "cleanup_owner": input.cleanup_owner,
            "eta": input.eta,
            "flag_flip": input.flag_flip,
            "rollback": input.rollback,
            "any_date": input.any_date,
        });
        detail(self.post("/emergencies", &body, id.as_ref()).await?)
    }

    pub async fn approve(
        &self,
        id: &IncidentId,
        role: Option<&str>,
    ) -> Result<Reply<Detail>, Failure> {
        let path = format!("/emergencies/{id}/approvals");
        detail(self.post(&path, &json!({ "role": role }), Some(id)).await?)
    }

    pub async fn bypass(
        &self,
        id: &IncidentId,
        element: BypassElement,
        reason: &str,
        compensation: &str,
    ) -> Result<Reply<Detail>, Failure> {
        let path = format!("/emergencies/{id}/bypasses");
        let body = json!({
            "element": element.as_str(),
            "reason": reason,
            "compensation": compensation,
        });
        detail(self.post(&path, &body, Some(id)).await?)
    }

    pub async fn review_rate(&self, notes: &str) -> Result<Reply<RateReview>, Failure> {
        self.post("/rate-reviews", &json!({ "notes": notes }), None)
            .await
    }

    pub async fn show(&self, id: &IncidentId) -> Result<Reply<Detail>, Failure> {
        detail(self.get(&format!("/emergencies/{id}"), Some(id)).await?)
    }

    /// The summaries `list --json` prints.
    pub async fn list(&self, all: bool) -> Result<Vec<Value>, Failure> {
        let path = with_query("/emergencies", &[("all", all.then(|| "true".to_owned()))]);
        Ok(self.get(&path, None).await?.body)
    }

    pub async fn close(
        &self,
        id: &IncidentId,
        kind: FollowUpKind,
        link: Option<&str>,
        notes: Option<&str>,
    ) -> Result<Reply<Detail>, Failure> {
        let path = format!("/emergencies/{id}/followups/{}/close", kind.as_str());
        let body = json!({ "link": link, "notes": notes });
        detail(self.post(&path, &body, Some(id)).await?)
    }

    pub async fn merged(&self, id: &IncidentId, rev: &str) -> Result<Reply<Detail>, Failure> {
        let path = format!("/emergencies/{id}/merged");
        detail(self.post(&path, &json!({ "rev": rev }), Some(id)).await?)
    }

    /// The items `due --json` prints, judged at `at`.
    pub async fn due(
        &self,
        owner: Option<&PersonName>,
        at: Timestamp,
    ) -> Result<Vec<Value>, Failure> {
        let path = with_query(
            "/followups/due",
            &[
                ("owner", owner.map(ToString::to_string)),
                ("at", Some(at.to_string())),
            ],
        );
        Ok(self.get(&path, None).await?.body)
    }

    /// Records the backfill run of `rev` in `lane`, just reported to the server.
    pub async fn backfill(
        &self,
        id: &IncidentId,
        rev: &Rev,
        lane: &str,
    ) -> Result<Backfilled, Failure> {
        let path = format!("/emergencies/{id}/backfills");
        let body = json!({ "rev": rev.as_str(), "lane": lane });
        Ok(self.post(&path, &body, Some(id)).await?.body)
    }

    pub async fn audit_verify(&self) -> Result<Verified, Failure> {
        Ok(self.get("/audit/verify", None).await?.body)
    }

    /// The audit log as JSON Lines, one entry a line, exactly as `audit export` writes it.
    pub async fn audit_export(&self) -> Result<String, Failure> {
        self.get_text("/audit/export").await
    }
}
