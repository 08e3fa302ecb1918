//! `[notify]`: where a team hears about what fixlane does. `[[notify.webhooks]]` entries, each
//! an incoming webhook (`url`, or `url_env` naming the variable that holds it, since a Slack
//! webhook URL is itself a secret), the events it hears (default: all) and `secret_env`, the
//! variable holding a Standard Webhooks signing secret — never the secret itself.

use super::reader::{Reader, Value, choices, did_you_mean};
use crate::config::model::{Notify, Webhook, WebhookTarget};
use crate::notify::WebhookEvent;

const NOTIFY_KEYS: [&str; 1] = ["webhooks"];
const WEBHOOK_KEYS: [&str; 4] = ["url", "url_env", "events", "secret_env"];

pub(super) fn read_notify(reader: &mut Reader<'_>, value: &Value<'_>) -> Option<Notify> {
    let fields = reader.table(value, "notify", &NOTIFY_KEYS)?;
    let Some(hooks) = fields.get("webhooks") else {
        return Some(Notify::default());
    };
    let items = reader.array(hooks, "notify.webhooks")?;
    let mut webhooks = Vec::with_capacity(items.len());
    let mut complete = true;
    for (index, item) in items.iter().enumerate() {
        match read_webhook(reader, item, &format!("notify.webhooks[{index}]")) {
            Some(webhook) => webhooks.push(webhook),
            None => complete = false,
        }
    }
    complete.then_some(Notify { webhooks })
}

fn read_webhook(reader: &mut Reader<'_>, value: &Value<'_>, path: &str) -> Option<Webhook> {
    let fields = reader.table(value, path, &WEBHOOK_KEYS)?;
    let target = match (fields.get("url"), fields.get("url_env")) {
        (Some(url), None) => {
            let text = reader.text(url, &fields.path("url"))?;
            if text.starts_with("https://") || text.starts_with("http://") {
                Some(WebhookTarget::Url(text))
            } else {
                reader.error(
                    url.span(),
                    format!("an http:// or https:// URL for `{path}.url`"),
                    "a value that is not one".to_owned(),
                    Some("write the incoming webhook's URL, or name the variable that holds it with `url_env`".to_owned()),
                );
                None
            }
        }
        (None, Some(env)) => env_name(reader, env, &fields.path("url_env")).map(WebhookTarget::Env),
        (Some(_), Some(env)) => {
            reader.error(
                env.span(),
                format!("one of `url` and `url_env` in `{path}`"),
                "both".to_owned(),
                Some(
                    "keep `url_env` when the URL is a secret (a Slack webhook URL is one)"
                        .to_owned(),
                ),
            );
            None
        }
        (None, None) => {
            reader.error(
                fields.span(),
                format!("`url` or `url_env` in `{path}`"),
                "neither".to_owned(),
                Some("add `url_env = \"SLACK_WEBHOOK_URL\"` and set that variable where fixlane runs".to_owned()),
            );
            None
        }
    };
    let events = match fields.get("events") {
        None => Some(WebhookEvent::ALL.to_vec()),
        Some(value) => read_events(reader, value, &fields.path("events")),
    };
    let secret_env = match fields.get("secret_env") {
        None => Some(None),
        Some(value) => env_name(reader, value, &fields.path("secret_env")).map(Some),
    };
    Some(Webhook {
        target: target?,
        events: events?,
        secret_env: secret_env?,
    })
}

fn read_events(
    reader: &mut Reader<'_>,
    value: &Value<'_>,
    path: &str,
) -> Option<Vec<WebhookEvent>> {
    let names = reader.strings(value, path)?;
    if names.is_empty() {
        reader.error(
            value.span(),
            format!("at least one event in `{path}`"),
            "an empty list".to_owned(),
            Some("leave `events` out to hear about every event".to_owned()),
        );
        return None;
    }
    let known: Vec<&str> = WebhookEvent::ALL
        .iter()
        .map(|event| event.as_str())
        .collect();
    let mut events = Vec::with_capacity(names.len());
    let mut complete = true;
    for name in names {
        match WebhookEvent::parse(name.get_ref()) {
            Some(event) if !events.contains(&event) => events.push(event),
            Some(_) => {}
            None => {
                let help = did_you_mean(name.get_ref(), known.iter().copied())
                    .or_else(|| Some(format!("the events are {}", choices(&known))));
                reader.error(
                    name.span(),
                    format!("an event for `{path}`"),
                    format!("`{}`", name.get_ref()),
                    help,
                );
                complete = false;
            }
        }
    }
    complete.then_some(events)
}

/// The name of an environment variable: what `url_env` and `secret_env` hold, so a secret never
/// sits in the file.
fn env_name(reader: &mut Reader<'_>, value: &Value<'_>, path: &str) -> Option<String> {
    let name = reader.text(value, path)?;
    let valid = name
        .chars()
        .next()
        .is_some_and(|first| first.is_ascii_uppercase() || first == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if valid {
        return Some(name);
    }
    reader.error(
        value.span(),
        format!("the name of an environment variable for `{path}` (capitals, digits and `_`)"),
        "something else".to_owned(),
        Some("name the variable that holds the value, never the value itself: `secret_env = \"FIXLANE_WEBHOOK_SECRET\"`".to_owned()),
    );
    None
}
