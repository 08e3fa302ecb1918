//! `AnyStore`: the store on whichever database [`crate::open`] was pointed at.
//!
//! The run-time choice is made once, at open: each variant holds the one generic
//! implementation ([`SqlStore`]) over its database, and every [`Store`] method below only
//! hands the call to `SqlStore`'s method of the same name through `dispatch!`, the one place
//! the choice is read. This is the store's one [`Store`] implementation. (A trait object would
//! need no dispatch at all, but [`Store`] is not object safe: its futures are `impl Future` and
//! two of its methods are generic over a closure.) Adding a method to [`Store`] adds one
//! dispatching line here.

use fixlane_core::audit::{AuditAction, AuditEntry, ChainBreak};
use fixlane_core::followup::FollowUp;
use fixlane_core::token::TokenRefused;
use fixlane_core::{IncidentId, Rev, Verdict};
use jiff::Timestamp;
use sqlx::{Postgres, Sqlite};

use crate::error::StoreError;
use crate::model::{
    CanaryEventRecord, CanaryRecord, DeliveryClaim, DeliveryOutcome, DrillRecord,
    EmergencyDocuments, EmergencyRow, FollowUpChange, GateRecord, HookStatus, NewCanary, NewRun,
    NewSession, NewToken, PastDeclaration, RateReview, RunRecord, SessionRecord, TokenRecord,
    TokenSelector,
};
use crate::sql::SqlStore;
use crate::store::{EmergencyWrite, Store};

/// A store on whichever database [`crate::open`] was pointed at.
#[derive(Debug, Clone)]
pub enum AnyStore {
    /// An embedded `SQLite` file.
    Sqlite(SqlStore<Sqlite>),
    /// A shared `PostgreSQL` database.
    Postgres(SqlStore<Postgres>),
}

/// Evaluates `$body` with `$store` bound to the backend's [`SqlStore`], whichever it is.
macro_rules! dispatch {
    ($self:expr, $store:ident => $body:expr) => {
        match $self {
            AnyStore::Sqlite($store) => $body,
            AnyStore::Postgres($store) => $body,
        }
    };
}

impl AnyStore {
    /// `"sqlite"` or `"postgres"`, for messages.
    pub fn kind(&self) -> &'static str {
        dispatch!(self, store => store.kind())
    }

    /// The same store for writes made with `token`: each audit entry written through it names
    /// the token (see [`SqlStore::with_token`]).
    #[must_use]
    pub fn with_token(&self, token: &fixlane_core::token::TokenId) -> Self {
        match self {
            AnyStore::Sqlite(store) => AnyStore::Sqlite(store.with_token(token)),
            AnyStore::Postgres(store) => AnyStore::Postgres(store.with_token(token)),
        }
    }

    /// Closes the connections, waiting for them to finish.
    pub async fn close(&self) {
        dispatch!(self, store => store.pool().close().await);
    }
}

impl Store for AnyStore {
    async fn append_audit(
        &self,
        actor: &str,
        action: &AuditAction,
    ) -> Result<AuditEntry, StoreError> {
        dispatch!(self, store => store.append_audit(actor, action).await)
    }

    async fn start_run(&self, actor: &str, run: &NewRun) -> Result<AuditEntry, StoreError> {
        dispatch!(self, store => store.start_run(actor, run).await)
    }

    async fn record_gates(
        &self,
        actor: &str,
        run_id: &str,
        gates: &[GateRecord],
    ) -> Result<Option<AuditEntry>, StoreError> {
        dispatch!(self, store => store.record_gates(actor, run_id, gates).await)
    }

    async fn finish_run(
        &self,
        actor: &str,
        run_id: &str,
        verdict: Verdict,
        reasons: &[String],
        finished_at: Timestamp,
    ) -> Result<AuditEntry, StoreError> {
        dispatch!(self, store => {
            store.finish_run(actor, run_id, verdict, reasons, finished_at).await
        })
    }

    async fn latest_run(
        &self,
        rev: &Rev,
        lane: Option<&str>,
    ) -> Result<Option<RunRecord>, StoreError> {
        dispatch!(self, store => store.latest_run(rev, lane).await)
    }

    async fn latest_run_on_branch(&self, branch: &str) -> Result<Option<RunRecord>, StoreError> {
        dispatch!(self, store => store.latest_run_on_branch(branch).await)
    }

    async fn latest_finished_run(&self, lane: &str) -> Result<Option<RunRecord>, StoreError> {
        dispatch!(self, store => store.latest_finished_run(lane).await)
    }

    async fn run(&self, run_id: &str) -> Result<Option<RunRecord>, StoreError> {
        dispatch!(self, store => store.run(run_id).await)
    }

    async fn unfinished_runs(&self) -> Result<Vec<RunRecord>, StoreError> {
        dispatch!(self, store => store.unfinished_runs().await)
    }

    async fn abandon_run(
        &self,
        actor: &str,
        run_id: &str,
        why: &str,
        at: Timestamp,
    ) -> Result<Option<AuditEntry>, StoreError> {
        dispatch!(self, store => store.abandon_run(actor, run_id, why, at).await)
    }

    async fn record_config_seen(
        &self,
        actor: &str,
        file: &str,
        sha256: &str,
    ) -> Result<Option<AuditEntry>, StoreError> {
        dispatch!(self, store => store.record_config_seen(actor, file, sha256).await)
    }

    async fn declare_emergency<F, E>(
        &self,
        actor: &str,
        since: Timestamp,
        decide: F,
    ) -> Result<Result<EmergencyWrite, E>, StoreError>
    where
        F: FnOnce(
                Timestamp,
                &[PastDeclaration],
                Option<&RateReview>,
            ) -> Result<(EmergencyRow, AuditAction), E>
            + Send,
        E: Send,
    {
        dispatch!(self, store => store.declare_emergency(actor, since, decide).await)
    }

    async fn update_emergency<F, E>(
        &self,
        actor: &str,
        id: &IncidentId,
        change: F,
    ) -> Result<Option<Result<EmergencyWrite, E>>, StoreError>
    where
        F: FnOnce(EmergencyRow) -> Result<(EmergencyRow, AuditAction), E> + Send,
        E: Send,
    {
        dispatch!(self, store => store.update_emergency(actor, id, change).await)
    }

    async fn followups(&self, id: &IncidentId) -> Result<Vec<FollowUp>, StoreError> {
        dispatch!(self, store => store.followups(id).await)
    }

    async fn followup_clocks(&self) -> Result<Vec<fixlane_core::stats::FollowUpClock>, StoreError> {
        dispatch!(self, store => store.followup_clocks().await)
    }

    async fn open_followups(&self) -> Result<Vec<(IncidentId, FollowUp)>, StoreError> {
        dispatch!(self, store => store.open_followups().await)
    }

    async fn change_followups<F, E>(
        &self,
        actor: &str,
        id: &IncidentId,
        change: F,
    ) -> Result<Option<Result<crate::store::FollowUpWrite, E>>, StoreError>
    where
        F: FnOnce(EmergencyRow, Vec<FollowUp>) -> Result<FollowUpChange, E> + Send,
        E: Send,
    {
        dispatch!(self, store => store.change_followups(actor, id, change).await)
    }

    async fn emergency(&self, id: &IncidentId) -> Result<Option<EmergencyRow>, StoreError> {
        dispatch!(self, store => store.emergency(id).await)
    }

    async fn emergencies(&self) -> Result<Vec<EmergencyRow>, StoreError> {
        dispatch!(self, store => store.emergencies().await)
    }

    async fn emergency_documents(&self) -> Result<EmergencyDocuments, StoreError> {
        dispatch!(self, store => store.emergency_documents().await)
    }

    async fn record_rate_review(
        &self,
        actor: &str,
        notes: &str,
    ) -> Result<(RateReview, AuditEntry), StoreError> {
        dispatch!(self, store => store.record_rate_review(actor, notes).await)
    }

    async fn last_rate_review(&self) -> Result<Option<RateReview>, StoreError> {
        dispatch!(self, store => store.last_rate_review().await)
    }

    async fn mark_drill_sandbox(&self, actor: &str) -> Result<Option<AuditEntry>, StoreError> {
        dispatch!(self, store => store.mark_drill_sandbox(actor).await)
    }

    async fn is_drill_sandbox(&self) -> Result<bool, StoreError> {
        dispatch!(self, store => store.is_drill_sandbox().await)
    }

    async fn record_drill(
        &self,
        drill: &DrillRecord,
        failed_step: Option<&str>,
        steps: usize,
    ) -> Result<AuditEntry, StoreError> {
        dispatch!(self, store => store.record_drill(drill, failed_step, steps).await)
    }

    async fn plan_deliveries(&self, hook: &str, since: Timestamp) -> Result<u64, StoreError> {
        dispatch!(self, store => store.plan_deliveries(hook, since).await)
    }

    async fn claim_deliveries(
        &self,
        hook: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> Result<Vec<DeliveryClaim>, StoreError> {
        dispatch!(self, store => store.claim_deliveries(hook, now, lease_until, limit).await)
    }

    async fn audit_entry(&self, seq: i64) -> Result<Option<AuditEntry>, StoreError> {
        dispatch!(self, store => store.audit_entry(seq).await)
    }

    async fn finish_delivery(
        &self,
        hook: &str,
        seq: i64,
        outcome: &DeliveryOutcome,
    ) -> Result<(), StoreError> {
        dispatch!(self, store => store.finish_delivery(hook, seq, outcome).await)
    }

    async fn delivery_status(&self) -> Result<Vec<HookStatus>, StoreError> {
        dispatch!(self, store => store.delivery_status().await)
    }

    async fn note_overdue(
        &self,
        actor: &str,
        now: Timestamp,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        dispatch!(self, store => store.note_overdue(actor, now).await)
    }

    async fn latest_drill(&self) -> Result<Option<DrillRecord>, StoreError> {
        dispatch!(self, store => store.latest_drill().await)
    }

    async fn start_canary(
        &self,
        actor: &str,
        canary: &NewCanary,
    ) -> Result<AuditEntry, StoreError> {
        dispatch!(self, store => store.start_canary(actor, canary).await)
    }

    async fn record_canary_events(
        &self,
        actor: &str,
        canary_id: &str,
        events: &[CanaryEventRecord],
    ) -> Result<Vec<AuditEntry>, StoreError> {
        dispatch!(self, store => {
            store.record_canary_events(actor, canary_id, events).await
        })
    }

    async fn finish_canary(
        &self,
        actor: &str,
        canary_id: &str,
        outcome: &str,
        finished_at: Timestamp,
    ) -> Result<AuditEntry, StoreError> {
        dispatch!(self, store => {
            store.finish_canary(actor, canary_id, outcome, finished_at).await
        })
    }

    async fn canary(&self, id: &str) -> Result<Option<CanaryRecord>, StoreError> {
        dispatch!(self, store => store.canary(id).await)
    }

    async fn canaries_since(&self, since: Timestamp) -> Result<Vec<CanaryRecord>, StoreError> {
        dispatch!(self, store => store.canaries_since(since).await)
    }

    async fn canaries_of(&self, incident: &IncidentId) -> Result<Vec<CanaryRecord>, StoreError> {
        dispatch!(self, store => store.canaries_of(incident).await)
    }

    async fn issue_token(
        &self,
        actor: &str,
        token: &NewToken,
    ) -> Result<(TokenRecord, AuditEntry), StoreError> {
        dispatch!(self, store => store.issue_token(actor, token).await)
    }

    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        dispatch!(self, store => store.tokens().await)
    }

    async fn revoke_tokens(
        &self,
        actor: &str,
        which: &TokenSelector,
        at: Timestamp,
    ) -> Result<(Vec<TokenRecord>, Vec<AuditEntry>), StoreError> {
        dispatch!(self, store => store.revoke_tokens(actor, which, at).await)
    }

    async fn authenticate(
        &self,
        presented: &str,
        now: Timestamp,
    ) -> Result<Result<TokenRecord, TokenRefused>, StoreError> {
        dispatch!(self, store => store.authenticate(presented, now).await)
    }

    async fn start_session(
        &self,
        actor: &str,
        session: &NewSession,
    ) -> Result<AuditEntry, StoreError> {
        dispatch!(self, store => store.start_session(actor, session).await)
    }

    async fn session(&self, sha256: &str) -> Result<Option<SessionRecord>, StoreError> {
        dispatch!(self, store => store.session(sha256).await)
    }

    async fn end_session(
        &self,
        actor: &str,
        sha256: &str,
        at: Timestamp,
    ) -> Result<Option<AuditEntry>, StoreError> {
        dispatch!(self, store => store.end_session(actor, sha256, at).await)
    }

    async fn audit_entries(&self) -> Result<Vec<AuditEntry>, StoreError> {
        dispatch!(self, store => store.audit_entries().await)
    }

    async fn audit_head(&self) -> Result<Option<(i64, String)>, StoreError> {
        dispatch!(self, store => store.audit_head().await)
    }

    async fn verify_audit(&self) -> Result<Result<usize, ChainBreak>, StoreError> {
        dispatch!(self, store => store.verify_audit().await)
    }
}
