//! The `Store` trait: what fixlane asks of its records and audit log, whichever database holds
//! them. [`crate::AnyStore`], the database chosen at run time, implements it by handing each
//! call to [`crate::SqlStore`], the SQL written once for both databases.

use std::future::Future;

use fixlane_core::audit::{AuditAction, AuditEntry, ChainBreak};
use fixlane_core::followup::FollowUp;
use fixlane_core::token::TokenRefused;
use fixlane_core::{IncidentId, Rev, Verdict};
use jiff::Timestamp;

use crate::error::StoreError;
use crate::model::{
    CanaryEventRecord, CanaryRecord, DeliveryClaim, DeliveryOutcome, DrillRecord,
    EmergencyDocuments, EmergencyRow, FollowUpChange, GateRecord, HookStatus, NewCanary, NewRun,
    NewSession, NewToken, PastDeclaration, RateReview, RunRecord, SessionRecord, TokenRecord,
    TokenSelector,
};

/// A change to follow-ups as written, with the audit entries that recorded it.
pub type FollowUpWrite = (FollowUpChange, Vec<AuditEntry>);

/// An emergency row as written, with the audit entry that recorded the write.
pub type EmergencyWrite = (EmergencyRow, AuditEntry);

/// Records and the hash-chained audit log.
///
/// Every state-changing method writes its change and its audit entry in one transaction: if the
/// entry cannot be written, nothing is. Appends are serialized across processes and server
/// replicas, so the chain never forks and sequence numbers never repeat.
pub trait Store {
    /// Appends a standalone audited action (e.g. `confirm-while-running`) and returns its entry.
    fn append_audit(
        &self,
        actor: &str,
        action: &AuditAction,
    ) -> impl Future<Output = Result<AuditEntry, StoreError>> + Send;

    /// Records a new run, audited as `run-started`. Fails with [`StoreError::RunExists`] when the
    /// run id is taken.
    fn start_run(
        &self,
        actor: &str,
        run: &NewRun,
    ) -> impl Future<Output = Result<AuditEntry, StoreError>> + Send;

    /// Inserts or updates gate results of a run in one transaction with one `gates-recorded`
    /// entry listing each gate, its state and exit code. Returns `None` (and writes nothing) when
    /// `gates` is empty.
    fn record_gates(
        &self,
        actor: &str,
        run_id: &str,
        gates: &[GateRecord],
    ) -> impl Future<Output = Result<Option<AuditEntry>, StoreError>> + Send;

    /// Records a run's verdict and reasons, audited as `run-verdict` with the rev and lane.
    fn finish_run(
        &self,
        actor: &str,
        run_id: &str,
        verdict: Verdict,
        reasons: &[String],
        finished_at: Timestamp,
    ) -> impl Future<Output = Result<AuditEntry, StoreError>> + Send;

    /// The most recently started run of `rev` (in `lane`, when given), with its gates.
    fn latest_run(
        &self,
        rev: &Rev,
        lane: Option<&str>,
    ) -> impl Future<Output = Result<Option<RunRecord>, StoreError>> + Send;

    /// The most recently started run on `branch`, with its gates: what a dashboard shows as
    /// the state of an emergency's fix.
    fn latest_run_on_branch(
        &self,
        branch: &str,
    ) -> impl Future<Output = Result<Option<RunRecord>, StoreError>> + Send;

    /// The most recently started run of `lane` that has a verdict, with its gates.
    fn latest_finished_run(
        &self,
        lane: &str,
    ) -> impl Future<Output = Result<Option<RunRecord>, StoreError>> + Send;

    /// One run by id, with its gates.
    fn run(
        &self,
        run_id: &str,
    ) -> impl Future<Output = Result<Option<RunRecord>, StoreError>> + Send;

    /// Runs without a verdict, oldest first, with their gates: still going, or left behind by
    /// a runner that was killed.
    fn unfinished_runs(&self) -> impl Future<Output = Result<Vec<RunRecord>, StoreError>> + Send;

    /// Marks an unfinished run abandoned (verdict `blocked`, `why` as its reason), audited as
    /// `run-abandoned`. `None`, with nothing written, when the run already has a verdict (it
    /// finished, or another reader marked it first). An unknown run is
    /// [`StoreError::UnknownRun`].
    fn abandon_run(
        &self,
        actor: &str,
        run_id: &str,
        why: &str,
        at: Timestamp,
    ) -> impl Future<Output = Result<Option<AuditEntry>, StoreError>> + Send;

    /// Logs `config-seen` when the config's hash differs from the last one logged; returns the
    /// entry, or `None` when the config is unchanged.
    fn record_config_seen(
        &self,
        actor: &str,
        file: &str,
        sha256: &str,
    ) -> impl Future<Output = Result<Option<AuditEntry>, StoreError>> + Send;

    /// Declares an emergency. In one write transaction, with the write lock held from the start:
    /// reads the clock, every declaration with `declared_at >= since` (oldest first) and the last
    /// rate review, calls `decide` with that moment and that history, and inserts the row it
    /// returns with an audit entry (action `declare`, the details `decide` returned).
    ///
    /// The moment handed to `decide` is read under the lock, after every earlier declaration
    /// committed: decide on it and stamp the record with it, never with a clock read before the
    /// call, or a declaration that committed first with a later stamp looks like the future.
    /// `since` only bounds what is read: reading more is harmless, since the decision measures
    /// its own windows from the moment it is handed.
    ///
    /// `decide` runs while the lock is held, so it must be quick and synchronous; no other
    /// declaration can commit between what it saw and the insert. Its `Err(E)` writes nothing
    /// and is handed back as the inner error. A duplicate id is [`StoreError::EmergencyExists`]
    /// (nothing written); an empty actor, author or state is [`StoreError::Invalid`].
    fn declare_emergency<F, E>(
        &self,
        actor: &str,
        since: Timestamp,
        decide: F,
    ) -> impl Future<Output = Result<Result<EmergencyWrite, E>, StoreError>> + Send
    where
        F: FnOnce(
                Timestamp,
                &[PastDeclaration],
                Option<&RateReview>,
            ) -> Result<(EmergencyRow, AuditAction), E>
            + Send,
        E: Send;

    /// Changes an emergency. In one write transaction, with the write lock held from the start:
    /// reads the row, calls `change`, and writes the row it returns with the audit entry of the
    /// action `change` returned. No change can be lost to a concurrent one.
    ///
    /// `Ok(None)` when there is no such emergency. `change`'s `Err(E)` writes nothing and is
    /// handed back as the inner error. A returned row with another id, an empty author or
    /// state, or an empty actor, is [`StoreError::Invalid`] (nothing written).
    fn update_emergency<F, E>(
        &self,
        actor: &str,
        id: &IncidentId,
        change: F,
    ) -> impl Future<Output = Result<Option<Result<EmergencyWrite, E>>, StoreError>> + Send
    where
        F: FnOnce(EmergencyRow) -> Result<(EmergencyRow, AuditAction), E> + Send,
        E: Send;

    /// The follow-ups of an emergency, in opening order (none before its fix left the lane).
    fn followups(
        &self,
        id: &IncidentId,
    ) -> impl Future<Output = Result<Vec<FollowUp>, StoreError>> + Send;

    /// The clock of every follow-up, in no particular order: what `stats` counts.
    fn followup_clocks(
        &self,
    ) -> impl Future<Output = Result<Vec<fixlane_core::stats::FollowUpClock>, StoreError>> + Send;

    /// Every open follow-up across emergencies, soonest deadline first.
    fn open_followups(
        &self,
    ) -> impl Future<Output = Result<Vec<(IncidentId, FollowUp)>, StoreError>> + Send;

    /// Changes an emergency's follow-ups (and, when the change says so, its record) in one
    /// write transaction with the write lock held from the start: reads the row and the
    /// follow-ups, calls `change`, and writes what it returns with one audit entry per action.
    /// A change with no actions writes nothing. `Ok(None)` when there is no such emergency (or
    /// nothing changed); `change`'s `Err(E)` writes nothing and is handed back.
    fn change_followups<F, E>(
        &self,
        actor: &str,
        id: &IncidentId,
        change: F,
    ) -> impl Future<Output = Result<Option<Result<FollowUpWrite, E>>, StoreError>> + Send
    where
        F: FnOnce(EmergencyRow, Vec<FollowUp>) -> Result<FollowUpChange, E> + Send,
        E: Send;

    /// One emergency by id.
    fn emergency(
        &self,
        id: &IncidentId,
    ) -> impl Future<Output = Result<Option<EmergencyRow>, StoreError>> + Send;

    /// Every emergency, newest declaration first.
    fn emergencies(&self) -> impl Future<Output = Result<Vec<EmergencyRow>, StoreError>> + Send;

    /// Every emergency's document, in no particular order, as one JSON array read in one row
    /// (see [`EmergencyDocuments`]).
    fn emergency_documents(
        &self,
    ) -> impl Future<Output = Result<EmergencyDocuments, StoreError>> + Send;

    /// Records a team review of the emergency rate, audited as `review-rate` with its time and
    /// notes. Its time is read under the write lock, as a declaration's is, so every declaration
    /// committed before the review is stamped no later than it, and every one after no earlier.
    fn record_rate_review(
        &self,
        actor: &str,
        notes: &str,
    ) -> impl Future<Output = Result<(RateReview, AuditEntry), StoreError>> + Send;

    /// The newest rate review (by its time; of reviews at one instant, the last recorded).
    fn last_rate_review(
        &self,
    ) -> impl Future<Output = Result<Option<RateReview>, StoreError>> + Send;

    /// Makes this store a drill's sandbox (audited as `drill-sandbox`): every emergency
    /// declared in it from then on is a drill. `None` when it already was one.
    fn mark_drill_sandbox(
        &self,
        actor: &str,
    ) -> impl Future<Output = Result<Option<AuditEntry>, StoreError>> + Send;

    /// Whether this store is a drill's sandbox.
    fn is_drill_sandbox(&self) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Keeps a drill's result, audited as `drill-recorded` with how many steps ran and the
    /// first that did not behave as scripted.
    fn record_drill(
        &self,
        drill: &DrillRecord,
        failed_step: Option<&str>,
        steps: usize,
    ) -> impl Future<Output = Result<AuditEntry, StoreError>> + Send;

    /// Plans hook `hook`'s deliveries of the outbox rows since `since` it has none of yet.
    fn plan_deliveries(
        &self,
        hook: &str,
        since: Timestamp,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Claims up to `limit` of hook `hook`'s due deliveries until `lease_until`, oldest first;
    /// a delivery another drainer holds is never handed out twice.
    fn claim_deliveries(
        &self,
        hook: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<DeliveryClaim>, StoreError>> + Send;

    /// The audit entry `seq`.
    fn audit_entry(
        &self,
        seq: i64,
    ) -> impl Future<Output = Result<Option<AuditEntry>, StoreError>> + Send;

    /// Records how a claimed delivery ended.
    fn finish_delivery(
        &self,
        hook: &str,
        seq: i64,
        outcome: &DeliveryOutcome,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Each hook's deliveries.
    fn delivery_status(&self) -> impl Future<Output = Result<Vec<HookStatus>, StoreError>> + Send;

    /// Notes each open follow-up past its deadline at `now` once, audited as
    /// `followup-overdue`.
    fn note_overdue(
        &self,
        actor: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<Vec<AuditEntry>, StoreError>> + Send;

    /// The drill that finished last.
    fn latest_drill(&self) -> impl Future<Output = Result<Option<DrillRecord>, StoreError>> + Send;

    /// Records a new canary run, audited as `canary-started` with its id, incident, rev and
    /// profile. A taken id is [`StoreError::CanaryExists`]; an empty actor, id, rev or profile
    /// is [`StoreError::Invalid`] (nothing written either way).
    fn start_canary(
        &self,
        actor: &str,
        canary: &NewCanary,
    ) -> impl Future<Output = Result<AuditEntry, StoreError>> + Send;

    /// Appends a canary's events in order, in one write transaction: their sequence numbers
    /// continue from the canary's last event (1 for the first), contiguous and unique even with
    /// concurrent writers. Each event with `audited: true` also gets an audit entry, action
    /// `canary-<kind>` (`_` in the kind becomes `-`), details `{canary, incident, seq, data}`;
    /// plain samples get none. Returns the audit entries written, in order.
    ///
    /// An unknown canary is [`StoreError::UnknownCanary`]; an empty actor, id or kind is
    /// [`StoreError::Invalid`]; nothing is written in either case, nor when an audit entry
    /// cannot be. An empty `events` writes nothing and returns no entries.
    fn record_canary_events(
        &self,
        actor: &str,
        canary_id: &str,
        events: &[CanaryEventRecord],
    ) -> impl Future<Output = Result<Vec<AuditEntry>, StoreError>> + Send;

    /// Records how a canary ended, audited as `canary-finished` with its incident, outcome and
    /// time. An unknown canary is [`StoreError::UnknownCanary`]; one that already finished, or an
    /// empty actor, id or outcome, is [`StoreError::Invalid`] (nothing written).
    fn finish_canary(
        &self,
        actor: &str,
        canary_id: &str,
        outcome: &str,
        finished_at: Timestamp,
    ) -> impl Future<Output = Result<AuditEntry, StoreError>> + Send;

    /// One canary by id, with its events in order (read from one snapshot).
    fn canary(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<CanaryRecord>, StoreError>> + Send;

    /// Every canary (and verification) started at or after `since`, oldest first, without
    /// their events.
    fn canaries_since(
        &self,
        since: Timestamp,
    ) -> impl Future<Output = Result<Vec<CanaryRecord>, StoreError>> + Send;

    /// The canaries of an incident, newest start first, without their events (`events` is
    /// empty; read one with [`Store::canary`] for those).
    fn canaries_of(
        &self,
        incident: &IncidentId,
    ) -> impl Future<Output = Result<Vec<CanaryRecord>, StoreError>> + Send;

    /// Records a token, audited as `token-issued` with its id, person and expiry (never its
    /// hash). A taken id is [`StoreError::TokenExists`]; an empty actor or a malformed id or
    /// hash is [`StoreError::Invalid`] (nothing written either way).
    fn issue_token(
        &self,
        actor: &str,
        token: &NewToken,
    ) -> impl Future<Output = Result<(TokenRecord, AuditEntry), StoreError>> + Send;

    /// Every token ever issued, oldest first, revoked ones included, without their hashes.
    fn tokens(&self) -> impl Future<Output = Result<Vec<TokenRecord>, StoreError>> + Send;

    /// Revokes the live tokens `which` selects at `at`, each audited as `token-revoked`, in one
    /// transaction. Returns the tokens revoked now (none, with nothing written, when no live
    /// token matches: unknown, or revoked already).
    fn revoke_tokens(
        &self,
        actor: &str,
        which: &TokenSelector,
        at: Timestamp,
    ) -> impl Future<Output = Result<(Vec<TokenRecord>, Vec<AuditEntry>), StoreError>> + Send;

    /// The token a request presented, if it is good at `now`: looked up by its id, its hash
    /// compared in constant time, then refused when revoked or expired
    /// ([`fixlane_core::token::check`]). Writes nothing.
    fn authenticate(
        &self,
        presented: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<Result<TokenRecord, TokenRefused>, StoreError>> + Send;

    /// Records a dashboard session opened with a token, audited as `session-started` with its
    /// public id, token, person and expiry (never its hash). An empty actor or a malformed hash
    /// is [`StoreError::Invalid`] (nothing written).
    fn start_session(
        &self,
        actor: &str,
        session: &NewSession,
    ) -> impl Future<Output = Result<AuditEntry, StoreError>> + Send;

    /// The session whose secret hashes to `sha256`, with its token's state; writes nothing.
    fn session(
        &self,
        sha256: &str,
    ) -> impl Future<Output = Result<Option<SessionRecord>, StoreError>> + Send;

    /// Ends (logs out) the open session whose secret hashes to `sha256`, audited as
    /// `session-ended`. `None`, with nothing written, when no open session has that hash.
    fn end_session(
        &self,
        actor: &str,
        sha256: &str,
        at: Timestamp,
    ) -> impl Future<Output = Result<Option<AuditEntry>, StoreError>> + Send;

    /// Every audit entry, in sequence order.
    fn audit_entries(&self) -> impl Future<Output = Result<Vec<AuditEntry>, StoreError>> + Send;

    /// The chain head as recorded apart from the log: `(last seq, its hash)`, or `None` while the
    /// log is empty.
    fn audit_head(&self) -> impl Future<Output = Result<Option<(i64, String)>, StoreError>> + Send;

    /// Recomputes the whole chain against the recorded head. The inner result is the number of
    /// entries checked, or the first entry that was altered, removed or reordered, or the
    /// truncation of the tail.
    fn verify_audit(
        &self,
    ) -> impl Future<Output = Result<Result<usize, ChainBreak>, StoreError>> + Send;
}
