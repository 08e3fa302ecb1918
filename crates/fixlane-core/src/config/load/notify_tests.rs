//! `[notify]` on plain strings: webhooks hear every event unless told, keep their secrets in
//! variables, and each mistake is named where it is written.

use super::tests::{accepts, only_error};

#[test]
fn webhooks_hear_every_event_unless_told_and_keep_secrets_in_variables() {
    let config = accepts(
        "[[notify.webhooks]]\nurl_env = \"SLACK_WEBHOOK_URL\"\n\n[[notify.webhooks]]\nurl = \"https://hooks.example.com/x\"\nevents = [\"declared\", \"rollback\", \"declared\"]\nsecret_env = \"FIXLANE_WEBHOOK_SECRET\"\n",
    );
    let hooks = &config.notify.webhooks;
    assert_eq!(hooks.len(), 2);
    assert_eq!(
        hooks[0].target,
        crate::config::model::WebhookTarget::Env("SLACK_WEBHOOK_URL".to_owned())
    );
    assert_eq!(
        hooks[0].events.len(),
        crate::notify::WebhookEvent::ALL.len()
    );
    assert_eq!(
        hooks[1].events,
        [
            crate::notify::WebhookEvent::Declared,
            crate::notify::WebhookEvent::Rollback
        ]
    );
    assert_eq!(
        hooks[1].secret_env.as_deref(),
        Some("FIXLANE_WEBHOOK_SECRET")
    );
    // The key never shows the URL, and differs between hooks.
    assert!(!hooks[1].key().contains("hooks.example.com"));
    assert_ne!(hooks[0].key(), hooks[1].key());
    assert!(accepts("").notify.webhooks.is_empty());
}

#[test]
fn webhook_mistakes_are_named_where_they_are_written() {
    let error = only_error("[[notify.webhooks]]\nurl = \"https://x\"\nevents = [\"rolback\"]\n");
    assert_eq!(error.found, "`rolback`");
    assert_eq!(error.help.as_deref(), Some("did you mean `rollback`?"));
    let error = only_error("[[notify.webhooks]]\nurl = \"https://x\"\nurl_env = \"X\"\n");
    assert_eq!(error.found, "both");
    let error = only_error("[[notify.webhooks]]\nevents = [\"declared\"]\n");
    assert_eq!(error.found, "neither");
    // A secret pasted where its variable's name belongs is refused.
    let error =
        only_error("[[notify.webhooks]]\nurl = \"https://x\"\nsecret_env = \"whsec_abc123\"\n");
    assert!(error.expected.contains("environment variable"), "{error}");
    let error = only_error("[[notify.webhooks]]\nurl = \"ftp://x\"\n");
    assert!(error.expected.contains("http"), "{error}");
}
