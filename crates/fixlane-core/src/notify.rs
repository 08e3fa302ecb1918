//! Webhooks, as rules on plain data: which audited actions a team hears about (declared,
//! approved, fix ready, canary step, rollback, promoted, verified, follow-up overdue), the
//! Slack-compatible message each becomes (`{"text": …}`, which Slack and Mattermost incoming
//! webhooks take as it is), and the Standard Webhooks signature of a delivery.
//!
//! Delivering is I/O and lives elsewhere; here is only what to say and how to sign it, so both
//! the CLI and the server say it the same way.

use std::fmt::Write as _;

use base64::Engine as _;
use hmac::{KeyInit as _, Mac as _};
use serde::Serialize;

use crate::audit::AuditEntry;

/// Something a team hears about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WebhookEvent {
    Declared,
    Approved,
    FixReady,
    CanaryStep,
    Rollback,
    Promoted,
    Verified,
    FollowupOverdue,
}

impl WebhookEvent {
    /// Every event, in the order a lifecycle meets them.
    pub const ALL: [Self; 8] = [
        Self::Declared,
        Self::Approved,
        Self::FixReady,
        Self::CanaryStep,
        Self::Rollback,
        Self::Promoted,
        Self::Verified,
        Self::FollowupOverdue,
    ];

    /// The name written in `events = […]`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Declared => "declared",
            Self::Approved => "approved",
            Self::FixReady => "fix-ready",
            Self::CanaryStep => "canary-step",
            Self::Rollback => "rollback",
            Self::Promoted => "promoted",
            Self::Verified => "verified",
            Self::FollowupOverdue => "followup-overdue",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|event| event.as_str() == text)
    }

    /// The event an audited action is, if a team hears about it: decided by the entry's
    /// action name and, for a finished canary, its outcome.
    pub fn of_action(action: &str, details: &serde_json::Value) -> Option<Self> {
        match action {
            "declare" => Some(Self::Declared),
            "approve" => Some(Self::Approved),
            "fix-ready" => Some(Self::FixReady),
            "canary-step-started" => Some(Self::CanaryStep),
            "canary-finished" => match details.get("outcome").and_then(|o| o.as_str()) {
                Some("promoted") => Some(Self::Promoted),
                Some("rolled back") => Some(Self::Rollback),
                _ => None,
            },
            "verified" => Some(Self::Verified),
            "followup-overdue" => Some(Self::FollowupOverdue),
            _ => None,
        }
    }

    /// Whether an action's name alone may make it one of these events (what the store asks
    /// before it writes an outbox row; [`WebhookEvent::of_action`] decides with the details).
    pub fn may_notify(action: &str) -> bool {
        matches!(
            action,
            "declare"
                | "approve"
                | "fix-ready"
                | "canary-step-started"
                | "canary-finished"
                | "verified"
                | "followup-overdue"
        )
    }
}

/// The text of a detail field, escaped for Slack's markup (`&`, `<`, `>` are its only
/// control characters; a user's text must never become a link or a mention).
fn field(details: &serde_json::Value, key: &str) -> String {
    let raw = match details.get(key) {
        Some(serde_json::Value::String(text)) => text.clone(),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    slack_escape(&crate::text::for_terminal(&raw))
}

/// Slack's three escapes.
pub fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The message a team reads for `entry`, which is `event`; `when` words the entry's time in the
/// team's zone.
pub fn message(event: WebhookEvent, entry: &AuditEntry, when: &str) -> String {
    let details = &entry.details;
    let actor = slack_escape(&crate::text::for_terminal(&entry.actor));
    let incident = || {
        let id = field(details, "id");
        if id.is_empty() {
            field(details, "incident")
        } else {
            id
        }
    };
    let mut text = match event {
        WebhookEvent::Declared => format!(
            ":rotating_light: {} declared by {actor}: {} ({} {}). Needs approval before the hotfix lane ships it.",
            incident(),
            field(details, "title"),
            field(details, "severity"),
            field(details, "category"),
        ),
        WebhookEvent::Approved => {
            let approval = &details["approval"];
            format!(
                ":white_check_mark: {} approved by {} as {}; the change is now {}.",
                field(approval, "id"),
                field(approval, "person"),
                field(approval, "role"),
                field(details, "state").replace('_', " "),
            )
        }
        WebhookEvent::FixReady => {
            let owed: Vec<String> = details["owed"]
                .as_array()
                .map(|owed| {
                    owed.iter()
                        .filter_map(|gate| gate.as_str())
                        .map(|gate| slack_escape(&crate::text::for_terminal(gate)))
                        .collect()
                })
                .unwrap_or_default();
            format!(
                ":large_green_circle: the fix for {} is ready on {}{}.",
                field(details, "id"),
                short(&field(details, "rev")),
                if owed.is_empty() {
                    String::new()
                } else {
                    format!("; owed until the backfill: {}", owed.join(", "))
                }
            )
        }
        WebhookEvent::CanaryStep => format!(
            ":bird: canary {} of {}: step {} at {}% weight.",
            field(details, "canary"),
            or_normal(&field(details, "incident")),
            field(&details["data"], "step"),
            field(&details["data"], "weight"),
        ),
        WebhookEvent::Rollback => format!(
            ":rewind: canary {} of {} rolled back; the old version serves all traffic.",
            field(details, "canary"),
            or_normal(&field(details, "incident")),
        ),
        WebhookEvent::Promoted => format!(
            ":rocket: canary {} of {} promoted: the fix serves all traffic.",
            field(details, "canary"),
            or_normal(&field(details, "incident")),
        ),
        WebhookEvent::Verified => format!(
            ":heavy_check_mark: {} verified: {}.",
            incident(),
            field(details, "note"),
        ),
        WebhookEvent::FollowupOverdue => format!(
            ":alarm_clock: the {} follow-up of {} is overdue; its owner {} is reminded.",
            field(details, "kind"),
            field(details, "id"),
            field(details, "owner"),
        ),
    };
    let _ = write!(text, " — {actor}, {when}, audit entry #{}", entry.seq);
    text
}

fn short(rev: &str) -> String {
    rev.chars().take(12).collect()
}

fn or_normal(incident: &str) -> String {
    if incident.is_empty() {
        "a normal change".to_owned()
    } else {
        incident.to_owned()
    }
}

/// The body of a delivery: Slack-compatible, with the event and entry for other receivers.
pub fn body(event: WebhookEvent, entry: &AuditEntry, when: &str) -> serde_json::Value {
    serde_json::json!({
        "text": message(event, entry, when),
        "event": event.as_str(),
        "audit_seq": entry.seq,
        "actor": entry.actor,
        "details": entry.details,
    })
}

/// The Standard Webhooks signature header (`v1,<base64 HMAC-SHA256>`) of a delivery with id
/// `id`, sent at `timestamp` (Unix seconds), of `body`. A secret written `whsec_<base64>` is
/// decoded as the standard says; any other text is used as its bytes.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> String {
    let key = secret
        .strip_prefix("whsec_")
        .and_then(|encoded| {
            base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .ok()
        })
        .unwrap_or_else(|| secret.as_bytes().to_vec());
    // HMAC takes a key of any length, so this cannot fail; an empty tag would never verify.
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key) else {
        return String::new();
    };
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

/// Seconds before retry `attempt` (1-based) of a failed delivery: doubling from 2 s, at most
/// 10 minutes.
pub fn backoff_seconds(attempt: u32) -> i64 {
    let exponent = attempt.saturating_sub(1).min(20);
    (2_i64 << exponent).min(600)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(action: &str, details: serde_json::Value) -> AuditEntry {
        AuditEntry {
            seq: 7,
            time: "2026-12-01T16:44:00Z".to_owned(),
            actor: "bob".to_owned(),
            action: action.to_owned(),
            details,
            previous_hash: String::new(),
            hash: String::new(),
        }
    }

    #[test]
    fn every_event_parses_what_it_prints() {
        for event in WebhookEvent::ALL {
            assert_eq!(WebhookEvent::parse(event.as_str()), Some(event));
        }
        assert_eq!(WebhookEvent::parse("deployed"), None);
    }

    #[test]
    fn actions_become_events_only_when_a_team_hears_about_them() {
        let none = serde_json::Value::Null;
        assert_eq!(
            WebhookEvent::of_action("declare", &none),
            Some(WebhookEvent::Declared)
        );
        assert_eq!(WebhookEvent::of_action("gates-recorded", &none), None);
        let promoted = serde_json::json!({"outcome": "promoted"});
        let rolled = serde_json::json!({"outcome": "rolled back"});
        let not_started = serde_json::json!({"outcome": "not started"});
        assert_eq!(
            WebhookEvent::of_action("canary-finished", &promoted),
            Some(WebhookEvent::Promoted)
        );
        assert_eq!(
            WebhookEvent::of_action("canary-finished", &rolled),
            Some(WebhookEvent::Rollback)
        );
        assert_eq!(
            WebhookEvent::of_action("canary-finished", &not_started),
            None
        );
        // Every action that can be an event is one the store writes an outbox row for.
        for action in [
            "declare",
            "approve",
            "fix-ready",
            "canary-step-started",
            "canary-finished",
            "verified",
            "followup-overdue",
        ] {
            assert!(WebhookEvent::may_notify(action), "{action}");
        }
        assert!(!WebhookEvent::may_notify("run-started"));
    }

    #[test]
    fn a_message_never_lets_user_text_become_markup() {
        let declared = entry(
            "declare",
            serde_json::json!({
                "id": "INC-2026-12-01-001",
                "title": "<!channel> pay & \u{1b}[31mnow",
                "severity": "P0",
                "category": "security",
            }),
        );
        let text = message(WebhookEvent::Declared, &declared, "2026-12-01 22:14 IST");
        assert!(text.contains("&lt;!channel&gt; pay &amp;"), "{text}");
        assert!(!text.contains('\u{1b}'), "{text}");
        assert!(
            text.contains("INC-2026-12-01-001 declared by bob"),
            "{text}"
        );
        assert!(
            text.ends_with("— bob, 2026-12-01 22:14 IST, audit entry #7"),
            "{text}"
        );
        let body = body(WebhookEvent::Declared, &declared, "x");
        assert_eq!(body["event"], "declared");
        assert_eq!(body["audit_seq"], 7);
    }

    #[test]
    fn signatures_follow_standard_webhooks() {
        // The example of the Standard Webhooks specification's reference libraries.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            signature(secret, id, 1_614_265_330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        // A different body, id or time signs differently.
        assert_ne!(
            signature(secret, id, 1_614_265_331, body),
            signature(secret, id, 1_614_265_330, body)
        );
    }

    #[test]
    fn retries_back_off_and_are_capped() {
        assert_eq!(backoff_seconds(1), 2);
        assert_eq!(backoff_seconds(2), 4);
        assert_eq!(backoff_seconds(5), 32);
        assert_eq!(backoff_seconds(40), 600);
    }
}
