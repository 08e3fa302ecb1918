//! Which ready gate starts first when more are ready than there are job slots: critical before
//! required before optional, and within a tier the one with the longest chain still behind it.
//! An optional gate never takes a slot that a critical or required gate could still need, so
//! `ready` — the verdict an incident waits for — never waits on one.
//!
//! Pure: the scheduler hands over each gate's tier, whether it runs, and who needs it.

use std::cmp::Reverse;

use crate::config::model::Tier;

/// How soon a ready gate starts: smaller first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Priority {
    /// The most important tier among the gate and every gate that needs it, transitively: what
    /// a critical gate waits for is as urgent as the critical gate.
    pub tier: Tier,
    /// The longest chain of gates, itself included, from it through the gates that need it:
    /// the longest goes first, since everything behind it waits for it.
    pub remaining: Reverse<usize>,
    /// The written order breaks ties.
    pub index: usize,
}

impl Priority {
    /// Whether `ready` waits for it: critical or required, itself or through what needs it.
    pub fn is_urgent(&self) -> bool {
        self.tier != Tier::Optional
    }
}

/// Each gate's priority. `tiers[i]` and `runs[i]` describe gate `i`, `dependents[i]` the gates
/// needing it; a dependent comes after what it needs (plan order). Gates that do not run pass
/// nothing on: a skipped need counts as satisfied, so nothing waits for it.
pub fn priorities(tiers: &[Tier], runs: &[bool], dependents: &[Vec<usize>]) -> Vec<Priority> {
    let count = tiers.len();
    let mut tier: Vec<Tier> = tiers.to_vec();
    let mut remaining = vec![0_usize; count];
    // Dependents come later, so one pass from the end sees each dependent done.
    for index in (0..count).rev() {
        if !runs.get(index).copied().unwrap_or(false) {
            continue;
        }
        let mut longest = 0;
        for &dependent in dependents.get(index).map(Vec::as_slice).unwrap_or_default() {
            if dependent <= index || dependent >= count || !runs[dependent] {
                continue;
            }
            longest = longest.max(remaining[dependent]);
            tier[index] = tier[index].min(tier[dependent]);
        }
        remaining[index] = longest + 1;
    }
    (0..count)
        .map(|index| Priority {
            tier: tier[index],
            remaining: Reverse(remaining[index]),
            index,
        })
        .collect()
}

/// Whether a gate that is not urgent may start now, with `running` gates running and
/// `urgent_waiting` urgent gates not started yet: only when each of those would still find a
/// slot, so none ever waits for an optional gate to finish. An idle runner always starts it:
/// a slot nothing else can use is not held back.
pub fn optional_may_start(running: usize, urgent_waiting: usize, jobs: usize) -> bool {
    running == 0 || running + 1 + urgent_waiting <= jobs.max(1)
}

#[cfg(test)]
mod tests {
    use std::collections::BinaryHeap;

    use proptest::prelude::*;

    use super::*;

    fn order(priorities: &[Priority], ready: &[usize]) -> Vec<usize> {
        let mut heap: BinaryHeap<Reverse<Priority>> = ready
            .iter()
            .map(|index| Reverse(priorities[*index]))
            .collect();
        std::iter::from_fn(|| heap.pop().map(|Reverse(priority)| priority.index)).collect()
    }

    #[test]
    fn critical_before_required_before_optional_whatever_the_written_order() {
        let tiers = [
            Tier::Optional,
            Tier::Required,
            Tier::Optional,
            Tier::Critical,
        ];
        let priorities = priorities(&tiers, &[true; 4], &[vec![], vec![], vec![], vec![]]);
        assert_eq!(order(&priorities, &[0, 1, 2, 3]), [3, 1, 0, 2]);
        assert!(priorities[3].is_urgent() && priorities[1].is_urgent());
        assert!(!priorities[0].is_urgent());
    }

    #[test]
    fn within_a_tier_the_longest_chain_behind_goes_first() {
        // 0 and 1 required; 1 ← 2 ← 3 (required chain); 0 alone.
        let tiers = [Tier::Required; 4];
        let dependents = [vec![], vec![2], vec![3], vec![]];
        let priorities = priorities(&tiers, &[true; 4], &dependents);
        assert_eq!(priorities[1].remaining, Reverse(3));
        assert_eq!(priorities[0].remaining, Reverse(1));
        assert_eq!(order(&priorities, &[0, 1]), [1, 0]);
    }

    #[test]
    fn what_a_critical_gate_needs_is_as_urgent_as_the_critical_gate() {
        // 0 optional, needed by 1 (critical); 2 required.
        let tiers = [Tier::Optional, Tier::Critical, Tier::Required];
        let priorities = priorities(&tiers, &[true; 3], &[vec![1], vec![], vec![]]);
        assert_eq!(priorities[0].tier, Tier::Critical);
        assert_eq!(order(&priorities, &[0, 2]), [0, 2]);
    }

    #[test]
    fn a_skipped_gate_passes_nothing_on() {
        // 0 optional ← 1 critical, but 1 is skipped: 0 stays optional and its chain is itself.
        let tiers = [Tier::Optional, Tier::Critical];
        let priorities = priorities(&tiers, &[true, false], &[vec![1], vec![]]);
        assert_eq!(priorities[0].tier, Tier::Optional);
        assert_eq!(priorities[0].remaining, Reverse(1));
    }

    #[test]
    fn an_optional_gate_takes_only_a_slot_no_urgent_gate_could_need() {
        // One slot, a required gate still to start: the optional one waits.
        assert!(!optional_may_start(1, 1, 1));
        assert!(!optional_may_start(1, 1, 2));
        // Enough slots for every urgent gate left, and one more.
        assert!(optional_may_start(1, 1, 3));
        assert!(optional_may_start(1, 0, 2));
        // Nothing runs: an idle slot is never held back.
        assert!(optional_may_start(0, 5, 1));
        assert!(!optional_may_start(2, 0, 2));
    }

    /// A random plan: tiers, who runs, and needs pointing only backwards.
    fn plan() -> impl Strategy<Value = (Vec<Tier>, Vec<bool>, Vec<Vec<usize>>)> {
        (1_usize..10).prop_flat_map(|count| {
            let tier = prop_oneof![
                Just(Tier::Critical),
                Just(Tier::Required),
                Just(Tier::Optional)
            ];
            (
                proptest::collection::vec(tier, count),
                proptest::collection::vec(any::<bool>(), count),
                proptest::collection::vec(proptest::collection::vec(0..count, 0..3), count),
            )
                .prop_map(|(tiers, runs, needs)| {
                    let mut dependents = vec![Vec::new(); tiers.len()];
                    for (index, needs) in needs.iter().enumerate() {
                        for &need in needs {
                            if need < index {
                                dependents[need].push(index);
                            }
                        }
                    }
                    (tiers, runs, dependents)
                })
        })
    }

    proptest! {
        /// A gate is never less urgent than a running gate needing it, its chain is longer than
        /// any running dependent's, and its own tier never gets less urgent.
        #[test]
        fn urgency_flows_to_needs_and_chains_grow_backwards((tiers, runs, dependents) in plan()) {
            let priorities = priorities(&tiers, &runs, &dependents);
            for (index, priority) in priorities.iter().enumerate() {
                prop_assert!(priority.tier <= tiers[index]);
                prop_assert_eq!(priority.index, index);
                if !runs[index] {
                    continue;
                }
                for &dependent in &dependents[index] {
                    if runs[dependent] {
                        prop_assert!(priority.tier <= priorities[dependent].tier);
                        prop_assert!(priority.remaining.0 > priorities[dependent].remaining.0);
                    }
                }
            }
        }
    }
}
