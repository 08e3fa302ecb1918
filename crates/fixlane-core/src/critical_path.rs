//! A lane's recorded run against its critical path: the longest chain of gates through their
//! `needs`, by recorded duration, and what the lane would take with a given number of job slots
//! (gates started in plan order as slots and needs allow) — the data behind "make the normal
//! pipeline faster instead".

use serde::{Deserialize, Serialize};

use crate::names::GateName;

/// One gate as recorded: what it needs (in the same run) and how long it ran.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedGate {
    pub name: GateName,
    pub needs: Vec<GateName>,
    pub duration_ms: u64,
}

/// The critical path of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CriticalPath {
    pub total_ms: u64,
    /// Its gates, first to last.
    pub gates: Vec<GateName>,
}

/// The longest chain through `gates` (in plan order: needs before dependents). Needs outside
/// the list are ignored, as a skipped gate takes no time.
pub fn critical_path(gates: &[TimedGate]) -> CriticalPath {
    // finish[i] = the longest chain ending with gate i, and the gate before it on that chain.
    let mut finish: Vec<(u64, Option<usize>)> = Vec::with_capacity(gates.len());
    for gate in gates {
        let before = gate
            .needs
            .iter()
            .filter_map(|need| gates.iter().position(|other| other.name == *need))
            .filter(|index| *index < finish.len())
            .max_by_key(|index| finish[*index].0);
        let start = before.map_or(0, |index| finish[index].0);
        finish.push((start + gate.duration_ms, before));
    }
    let Some(mut last) = (0..finish.len()).max_by_key(|index| finish[*index].0) else {
        return CriticalPath {
            total_ms: 0,
            gates: Vec::new(),
        };
    };
    let total_ms = finish[last].0;
    let mut chain = vec![gates[last].name.clone()];
    while let Some(before) = finish[last].1 {
        chain.push(gates[before].name.clone());
        last = before;
    }
    chain.reverse();
    CriticalPath {
        total_ms,
        gates: chain,
    }
}

/// The wall time of `gates` with `jobs` slots, each gate started in plan order as soon as its
/// needs are done and a slot is free.
pub fn with_jobs(gates: &[TimedGate], jobs: usize) -> u64 {
    let jobs = jobs.max(1);
    let mut done_at: Vec<u64> = Vec::with_capacity(gates.len());
    let mut slots: Vec<u64> = vec![0; jobs];
    for gate in gates {
        let ready = gate
            .needs
            .iter()
            .filter_map(|need| gates.iter().position(|other| other.name == *need))
            .filter(|index| *index < done_at.len())
            .map(|index| done_at[index])
            .max()
            .unwrap_or(0);
        let (slot, free) = slots
            .iter()
            .copied()
            .enumerate()
            .min_by_key(|(_, free)| *free)
            .unwrap_or((0, 0));
        let start = ready.max(free);
        let end = start + gate.duration_ms;
        slots[slot] = end;
        done_at.push(end);
    }
    done_at.into_iter().max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(name: &str, needs: &[&str], duration_ms: u64) -> TimedGate {
        TimedGate {
            name: GateName::parse(name).unwrap(),
            needs: needs
                .iter()
                .map(|need| GateName::parse(need).unwrap())
                .collect(),
            duration_ms,
        }
    }

    fn dag() -> Vec<TimedGate> {
        vec![
            gate("build", &[], 60_000),
            gate("lint", &[], 30_000),
            gate("unit", &["build"], 120_000),
            gate("integration", &["build"], 600_000),
            gate("deploy", &["unit", "integration"], 90_000),
        ]
    }

    #[test]
    fn the_critical_path_is_the_longest_chain_through_needs() {
        let path = critical_path(&dag());
        assert_eq!(path.total_ms, 750_000);
        let names: Vec<&str> = path.gates.iter().map(GateName::as_str).collect();
        assert_eq!(names, ["build", "integration", "deploy"]);
        assert_eq!(critical_path(&[]).total_ms, 0);
    }

    #[test]
    fn more_slots_approach_the_critical_path_and_one_slot_is_the_sum() {
        let gates = dag();
        let sum: u64 = gates.iter().map(|gate| gate.duration_ms).sum();
        assert_eq!(with_jobs(&gates, 1), sum);
        assert_eq!(with_jobs(&gates, 8), 750_000);
        let two = with_jobs(&gates, 2);
        assert!(two >= 750_000 && two < sum, "{two}");
    }
}
