//! When the symptom may be verified: after the canary promoted the fix or rolled it back, never
//! before (there is nothing deployed to judge) and never twice over a closed record.

use crate::emergency::instead::Instead;
use crate::emergency::model::{Emergency, EmergencyState};
use crate::emergency::refusal::Refusal;

/// Whether the symptom of `emergency` may be verified now.
pub fn may_verify(emergency: &Emergency) -> Result<(), Refusal> {
    if matches!(
        emergency.state,
        EmergencyState::Promoted | EmergencyState::RolledBack
    ) {
        return Ok(());
    }
    Err(Refusal::new(
        "emergency.states",
        format!("verifying {}", emergency.id),
        format!(
            "{} is {}; the symptom is verified after the canary promoted or rolled back",
            emergency.id, emergency.state
        ),
        Instead::RunCanary {
            id: emergency.id.clone(),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emergency::test_support::sample;

    #[test]
    fn only_a_promoted_or_rolled_back_fix_is_verified() {
        let mut emergency = sample();
        for state in EmergencyState::ALL {
            emergency.state = state;
            let allowed = may_verify(&emergency).is_ok();
            assert_eq!(
                allowed,
                matches!(state, EmergencyState::Promoted | EmergencyState::RolledBack),
                "{state:?}"
            );
        }
        emergency.state = EmergencyState::Approved;
        let refusal = may_verify(&emergency).unwrap_err();
        assert_eq!(refusal.rule, "emergency.states");
        assert!(refusal.why.contains("is approved"), "{}", refusal.why);
        assert_eq!(
            *refusal.instead,
            Instead::RunCanary {
                id: emergency.id.clone()
            }
        );
    }
}
