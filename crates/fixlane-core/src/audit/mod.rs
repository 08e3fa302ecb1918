//! The audit log's hash chain: canonical encoding, entry hashes, and verification.
//!
//! Each entry's hash covers its sequence number, time, actor, action, details and the previous
//! entry's hash, so altering, removing or reordering any entry breaks every hash after it.

mod action;

pub use action::*;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The hash the first entry chains from.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One entry as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: i64,
    /// RFC 3339, UTC, as stored (hashed verbatim).
    pub time: String,
    pub actor: String,
    pub action: String,
    pub details: serde_json::Value,
    pub previous_hash: String,
    pub hash: String,
}

/// Sorts object keys recursively so equal details always encode to equal bytes, whatever map
/// order a JSON library or database hands back.
pub fn canonical_json(value: &serde_json::Value) -> String {
    fn write(value: &serde_json::Value, out: &mut String) {
        match value {
            serde_json::Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push('{');
                for (index, key) in keys.into_iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::String(key.clone()).to_string());
                    out.push(':');
                    if let Some(inner) = map.get(key) {
                        write(inner, out);
                    }
                }
                out.push('}');
            }
            serde_json::Value::Array(items) => {
                out.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            scalar => out.push_str(&scalar.to_string()),
        }
    }
    let mut out = String::new();
    write(value, &mut out);
    out
}

/// The SHA-256 of a text, in hex: how a config's content is identified in the log.
pub fn content_hash(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The hash of an entry with these fields. Every field is length-prefixed so no two distinct
/// entries share an encoding.
pub fn entry_hash(
    seq: i64,
    time: &str,
    actor: &str,
    action: &str,
    details: &serde_json::Value,
    previous_hash: &str,
) -> String {
    let details = canonical_json(details);
    let seq = seq.to_string();
    let mut hasher = Sha256::new();
    for field in [
        seq.as_str(),
        time,
        actor,
        action,
        details.as_str(),
        previous_hash,
    ] {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hex::encode(hasher.finalize())
}

impl AuditEntry {
    /// Builds the entry that follows `previous_hash`, hashing it.
    pub fn new(
        seq: i64,
        time: String,
        actor: String,
        action: String,
        details: serde_json::Value,
        previous_hash: String,
    ) -> Self {
        let hash = entry_hash(seq, &time, &actor, &action, &details, &previous_hash);
        Self {
            seq,
            time,
            actor,
            action,
            details,
            previous_hash,
            hash,
        }
    }

    pub fn recomputed_hash(&self) -> String {
        entry_hash(
            self.seq,
            &self.time,
            &self.actor,
            &self.action,
            &self.details,
            &self.previous_hash,
        )
    }
}

/// The first place a chain stops being trustworthy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum ChainBreak {
    #[error("entry {seq} was altered: its stored hash does not match its contents")]
    Altered { seq: i64 },
    #[error(
        "entry {seq} does not follow entry {expected_after}: an entry was removed or reordered before it"
    )]
    Broken { seq: i64, expected_after: i64 },
    #[error(
        "entry {seq} has sequence number {seq} where {expected} was expected: an entry was removed or reordered"
    )]
    OutOfSequence { seq: i64, expected: i64 },
    #[error(
        "the log ends at entry {last_seq} but the chain head records {head_seq}: entries were truncated"
    )]
    Truncated { last_seq: i64, head_seq: i64 },
}

/// Checks a whole log in sequence order. `head` is the (seq, hash) of the last entry as recorded
/// separately by the store, which catches truncation of the tail.
pub fn verify_chain(entries: &[AuditEntry], head: Option<(i64, &str)>) -> Result<(), ChainBreak> {
    let mut previous_hash = GENESIS_HASH.to_owned();
    let mut previous_seq = 0;
    for entry in entries {
        let expected = previous_seq + 1;
        if entry.seq != expected {
            return Err(ChainBreak::OutOfSequence {
                seq: entry.seq,
                expected,
            });
        }
        if entry.recomputed_hash() != entry.hash {
            return Err(ChainBreak::Altered { seq: entry.seq });
        }
        if entry.previous_hash != previous_hash {
            return Err(ChainBreak::Broken {
                seq: entry.seq,
                expected_after: previous_seq,
            });
        }
        previous_hash.clone_from(&entry.hash);
        previous_seq = entry.seq;
    }
    if let Some((head_seq, head_hash)) = head
        && (head_seq != previous_seq || head_hash != previous_hash)
    {
        return Err(ChainBreak::Truncated {
            last_seq: previous_seq,
            head_seq,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chain(count: i64) -> Vec<AuditEntry> {
        let mut entries: Vec<AuditEntry> = Vec::new();
        for seq in 1..=count {
            let previous = entries
                .last()
                .map_or_else(|| GENESIS_HASH.to_owned(), |entry| entry.hash.clone());
            entries.push(AuditEntry::new(
                seq,
                format!("2026-11-25T10:00:0{seq}Z"),
                "alice".into(),
                "declare".into(),
                json!({"b": seq, "a": "x"}),
                previous,
            ));
        }
        entries
    }

    #[test]
    fn an_intact_chain_verifies() {
        let entries = chain(5);
        let head = entries.last().map(|entry| (entry.seq, entry.hash.as_str()));
        assert_eq!(verify_chain(&entries, head), Ok(()));
    }

    #[test]
    fn key_order_does_not_change_the_hash() {
        let one = entry_hash(
            1,
            "t",
            "a",
            "x",
            &json!({"a": 1, "b": {"d": 2, "c": 3}}),
            GENESIS_HASH,
        );
        let two = entry_hash(
            1,
            "t",
            "a",
            "x",
            &json!({"b": {"c": 3, "d": 2}, "a": 1}),
            GENESIS_HASH,
        );
        assert_eq!(one, two);
    }

    #[test]
    fn an_altered_entry_is_named() {
        let mut entries = chain(5);
        entries[2].actor = "mallory".into();
        assert_eq!(
            verify_chain(&entries, None),
            Err(ChainBreak::Altered { seq: 3 })
        );
    }

    #[test]
    fn a_rehashed_alteration_breaks_the_next_link() {
        let mut entries = chain(5);
        entries[2].actor = "mallory".into();
        entries[2].hash = entries[2].recomputed_hash();
        assert_eq!(
            verify_chain(&entries, None),
            Err(ChainBreak::Broken {
                seq: 4,
                expected_after: 3
            })
        );
    }

    #[test]
    fn a_removed_or_reordered_entry_is_named() {
        let mut removed = chain(5);
        removed.remove(1);
        assert_eq!(
            verify_chain(&removed, None),
            Err(ChainBreak::OutOfSequence {
                seq: 3,
                expected: 2
            })
        );
        let mut reordered = chain(5);
        reordered.swap(1, 2);
        assert_eq!(
            verify_chain(&reordered, None),
            Err(ChainBreak::OutOfSequence {
                seq: 3,
                expected: 2
            })
        );
    }

    #[test]
    fn a_truncated_tail_is_caught_by_the_head() {
        let entries = chain(5);
        let head = (5, entries[4].hash.clone());
        assert_eq!(
            verify_chain(&entries[..3], Some((head.0, &head.1))),
            Err(ChainBreak::Truncated {
                last_seq: 3,
                head_seq: 5
            })
        );
    }
}
