//! The token rules on plain values: the text a secret scanner matches, parsing that accepts only
//! that text, the hash check before any state is told, and expiry.

use jiff::Timestamp;

use super::*;
use crate::emergency::test_support;

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn minted() -> Minted {
    mint([0xab, 0x01, 0x02, 0x03, 0x04, 0xcd], [0x5a; SECRET_BYTES])
}

fn held(minted: &Minted) -> Held<'_> {
    Held {
        sha256: &minted.sha256,
        expires_at: None,
        revoked_at: None,
    }
}

#[test]
fn a_minted_token_reads_with_its_prefix_id_and_secret() {
    let token = minted();
    assert_eq!(token.id.as_str(), "ab01020304cd");
    let text = token.secret.expose();
    assert_eq!(
        text,
        format!("fixlane_tok_ab01020304cd_{}", "5a".repeat(SECRET_BYTES))
    );
    // The shape a secret scanner's pattern matches: prefix, 12 hex, `_`, 64 hex.
    let rest = text.strip_prefix(PREFIX).unwrap();
    let (id, secret) = rest.split_once('_').unwrap();
    assert_eq!((id.len(), secret.len()), (12, 64));
    // Only the hash is kept, and it is the hash of the whole text.
    assert_eq!(token.sha256.len(), 64);
    assert_ne!(token.sha256, secret);
    assert_eq!(token.sha256, hex::encode(digest(text)));
    // The secret never reaches a log through `Debug`.
    assert!(!format!("{token:?}").contains(secret), "{token:?}");
}

#[test]
fn different_bytes_make_different_tokens() {
    let one = mint([1; ID_BYTES], [2; SECRET_BYTES]);
    let other = mint([1; ID_BYTES], [3; SECRET_BYTES]);
    assert_eq!(one.id, other.id);
    assert_ne!(one.sha256, other.sha256);
    assert_ne!(one.secret, other.secret);
}

#[test]
fn only_the_exact_spelling_parses() {
    let token = minted();
    let presented = parse(token.secret.expose()).unwrap();
    assert_eq!(presented.id, token.id);
    let good = token.secret.expose().to_owned();
    let bad = [
        String::new(),
        "Bearer x".to_owned(),
        good.replace("fixlane_tok_", "fixlane_tk_"),
        good.replace("fixlane_tok_", "FIXLANE_TOK_"),
        // Upper-case hex, a short secret, a long one, a missing separator, a space.
        good.to_uppercase(),
        good[..good.len() - 1].to_owned(),
        format!("{good}0"),
        good.replacen("_ab01020304cd_", "_ab01020304cd", 1),
        format!("{good} "),
        format!("fixlane_tok_ab0102030_cd_{}", "5a".repeat(SECRET_BYTES)),
    ];
    for text in bad {
        assert_eq!(parse(&text), Err(TokenRefused::Malformed), "{text:?}");
    }
}

#[test]
fn a_good_token_passes_and_a_wrong_secret_is_unknown_whatever_its_state() {
    let token = minted();
    let now = at("2026-12-01T12:00:00Z");
    assert_eq!(
        check(held(&token), &parse(token.secret.expose()).unwrap(), now),
        Ok(())
    );
    // Same id, another secret: unknown, even when the held token is revoked or expired, so
    // guessing ids tells nothing about them.
    let forged = mint([0xab, 0x01, 0x02, 0x03, 0x04, 0xcd], [0x5b; SECRET_BYTES]);
    let presented = parse(forged.secret.expose()).unwrap();
    for state in [
        held(&token),
        Held {
            revoked_at: Some(at("2026-11-01T00:00:00Z")),
            ..held(&token)
        },
        Held {
            expires_at: Some(at("2026-11-01T00:00:00Z")),
            ..held(&token)
        },
    ] {
        assert_eq!(
            check(state, &presented, now),
            Err(TokenRefused::Unknown),
            "{state:?}"
        );
    }
    // A stored hash that is not hex matches nothing, not even itself.
    let garbled = Held {
        sha256: "not hex at all",
        ..held(&token)
    };
    assert_eq!(
        check(garbled, &parse(token.secret.expose()).unwrap(), now),
        Err(TokenRefused::Unknown)
    );
}

#[test]
fn revoked_and_expired_tokens_are_refused_with_when() {
    let token = minted();
    let presented = parse(token.secret.expose()).unwrap();
    let revoked = Held {
        revoked_at: Some(at("2026-12-01T11:00:00Z")),
        ..held(&token)
    };
    assert_eq!(
        check(revoked, &presented, at("2026-12-01T12:00:00Z")),
        Err(TokenRefused::Revoked {
            id: token.id.clone(),
            at: at("2026-12-01T11:00:00Z")
        })
    );
    let expiring = Held {
        expires_at: Some(at("2026-12-01T12:00:00Z")),
        ..held(&token)
    };
    // Good up to its last instant, refused from it on.
    assert_eq!(
        check(expiring, &presented, at("2026-12-01T11:59:59Z")),
        Ok(())
    );
    let refused = check(expiring, &presented, at("2026-12-01T12:00:00Z")).unwrap_err();
    assert_eq!(
        refused,
        TokenRefused::Expired {
            id: token.id.clone(),
            at: at("2026-12-01T12:00:00Z")
        }
    );
    assert_eq!(
        refused.to_string(),
        "the token ab01020304cd expired at 2026-12-01T12:00:00Z"
    );
}

#[test]
fn expiry_is_the_lifetime_after_issue() {
    let issued = at("2026-12-01T12:00:00Z");
    assert_eq!(expires_at(issued, None), Ok(None));
    assert_eq!(
        expires_at(issued, Some(Duration::parse("90d").unwrap())),
        Ok(Some(at("2027-03-01T12:00:00Z")))
    );
    let error = expires_at(issued, Some(Duration::from_seconds(u64::MAX))).unwrap_err();
    assert!(error.to_string().contains("shorter --expires"), "{error}");
}

#[test]
fn token_ids_parse_only_as_twelve_lowercase_hex_digits() {
    assert_eq!(
        TokenId::parse("ab01020304cd").unwrap().as_str(),
        "ab01020304cd"
    );
    for bad in [
        "",
        "ab01020304c",
        "ab01020304cde",
        "AB01020304CD",
        "alice",
        "ab01020304cg",
    ] {
        let error = TokenId::parse(bad).unwrap_err();
        assert!(error.to_string().contains("12 lowercase hex"), "{error}");
    }
}

#[test]
fn a_token_is_issued_only_for_a_person_under_people() {
    let config = test_support::config();
    assert_eq!(owner(&config, "alice").unwrap().as_str(), "alice");
    // By email too, case aside: the token is the person's, under their key.
    assert_eq!(
        owner(&config, "ALICE@example.com").unwrap().as_str(),
        "alice"
    );
    let refused = owner(&config, "alcie").unwrap_err();
    assert_eq!(refused.rule, "people");
    assert!(
        refused.why.contains("known people: alice, bob"),
        "{}",
        refused.why
    );
    assert!(
        refused.to_string().contains("did you mean `alice`"),
        "{refused}"
    );
}
