//! The CLI's side of emergency records: the acting person, refusals and other application
//! errors as exit codes with their text, the clocks people read mid-incident, and the lookups
//! commands share (delegating to the application layer).

use fixlane_app::AppError;
use fixlane_core::emergency::{Emergency, Instead, Refusal, Refusals};
use fixlane_core::{Config, IncidentId, PersonName};
use fixlane_store::Store;
use jiff::Timestamp;

use crate::exit::Failure;
use crate::settings::Context;

/// An application error as the CLI says it: a refusal exits 1 with its whole text (the config
/// file named); anything else is an error (exit 2, or 6 when the store failed).
pub fn app_failure(error: AppError, context: &Context) -> Failure {
    app_failure_in(error, &context.config_display())
}

/// [`app_failure`], with refusals naming `file` as the config.
pub fn app_failure_in(error: AppError, file: &str) -> Failure {
    match error {
        AppError::Refused(refusal) => Failure::failed(anyhow::anyhow!(
            "{}",
            crate::refusal::render(&refusal, Some(file))
        )),
        AppError::RefusedAll(refusals) => Failure::failed(anyhow::anyhow!(
            "{}",
            crate::refusal::render_all(&refusals, Some(file))
        )),
        AppError::NoSuchEmergency(id) => Failure::error(anyhow::anyhow!(
            "there is no emergency {id}; `fixlane list` shows the active ones, `fixlane declare` records a new one"
        )),
        AppError::EmptyNotes => Failure::error(anyhow::anyhow!(
            "--notes is empty: write what the team concluded about the emergency rate"
        )),
        AppError::UnreadableRecord { id, why } => Failure::error(anyhow::anyhow!(
            "the stored record of {id} cannot be read ({why}); `fixlane audit verify` tells whether it was altered"
        )),
        AppError::Unauthenticated(refused) => Failure::failed(anyhow::anyhow!(
            "{refused}; ask an operator for a token: `fixlane token issue NAME`"
        )),
        AppError::NothingToRevoke { target } => Failure::error(anyhow::anyhow!(
            "no live token matches `{target}`; `fixlane token list` shows every token with its id, person and state"
        )),
        error @ AppError::CanaryState { .. } => Failure::error(error),
        AppError::Store(error) => Failure::error(error),
        error @ (AppError::Encode { .. } | AppError::Lifetime(_) | AppError::Random(_)) => {
            Failure::error(error)
        }
    }
}

/// A refusal, or every refusal of one request, exits 1 with its whole text; anything else is
/// an error (exit 2, or 6 when the store failed).
pub fn failure(error: anyhow::Error, context: &Context) -> Failure {
    let error = match error.downcast::<Refusals>() {
        Ok(refusals) => {
            return Failure::failed(anyhow::anyhow!(
                "{}",
                crate::refusal::render_all(&refusals, Some(&context.config_display()))
            ));
        }
        Err(error) => error,
    };
    match error.downcast::<Refusal>() {
        Ok(refusal) => Failure::failed(anyhow::anyhow!(
            "{}",
            crate::refusal::render(&refusal, Some(&context.config_display()))
        )),
        Err(error) => Failure::error(error),
    }
}

/// The acting person as a member of `[people]`; an unknown identity may run gates but not act
/// on emergencies.
pub fn person(context: &Context, config: &Config, acting: &str) -> Result<PersonName, Failure> {
    let who = context.actor();
    fixlane_core::emergency::policy::identify(config, who).ok_or_else(|| {
        let refused = Refusal::new(
            "people",
            format!("{acting} as `{who}`"),
            format!(
                "`{who}` is not a person under [people] (matched by name or email); only people \
                 named there may declare, approve, bypass or review"
            ),
            Instead::Identify,
        );
        Failure::failed(anyhow::anyhow!(
            "{}",
            crate::refusal::render(&refused, Some(&context.config_display()))
        ))
    })
}

pub fn incident(text: &str) -> Result<IncidentId, Failure> {
    IncidentId::parse(text).map_err(|error| Failure::error(anyhow::anyhow!("{error}")))
}

/// Loads a record, or says how to find the right id.
pub async fn load(
    store: &impl Store,
    id: &IncidentId,
    context: &Context,
) -> Result<Emergency, Failure> {
    match fixlane_app::records::find(store, id).await {
        Ok(Some(emergency)) => Ok(emergency),
        Ok(None) => Err(app_failure(AppError::NoSuchEmergency(id.clone()), context)),
        Err(error) => Err(app_failure(error, context)),
    }
}

/// The emergency a branch such as `hotfix/INC-1-fix` names, if the store knows it.
pub async fn for_branch(
    store: &impl Store,
    branch: &str,
    context: &Context,
) -> Result<Option<Emergency>, Failure> {
    fixlane_app::records::for_branch(store, branch)
        .await
        .map_err(|error| app_failure(error, context))
}

/// `2h05m` style, for clocks.
pub fn clock(seconds: i64) -> String {
    let sign = if seconds < 0 { "-" } else { "" };
    let seconds = seconds.unsigned_abs();
    let (days, hours, minutes) = (
        seconds / 86_400,
        seconds % 86_400 / 3_600,
        seconds % 3_600 / 60,
    );
    if days > 0 {
        format!("{sign}{days}d{hours:02}h")
    } else if hours > 0 {
        format!("{sign}{hours}h{minutes:02}m")
    } else {
        format!("{sign}{minutes}m{:02}s", seconds % 60)
    }
}

/// An RFC 3339 moment from `--at`, or now.
pub fn moment(at: Option<&str>) -> Result<Timestamp, Failure> {
    match at {
        None => Ok(Timestamp::now()),
        Some(text) => text.parse::<Timestamp>().map_err(|error| {
            Failure::error(anyhow::anyhow!(
                "--at {text}: {error}; write an RFC 3339 time with its offset, like 2026-11-25T22:00:00+05:30"
            ))
        }),
    }
}

/// A moment as people read it: `2026-12-01 22:14 IST`, in the configured zone (else UTC).
pub fn human_time(at: Timestamp, config: &Config) -> String {
    // The zone is looked up once per name, not once per line: `due` prints thousands.
    thread_local! {
        static ZONE: std::cell::RefCell<Option<(String, jiff::tz::TimeZone)>> =
            const { std::cell::RefCell::new(None) };
    }
    let name = config
        .windows
        .as_ref()
        .map_or("UTC", |windows| windows.timezone.as_str());
    let zone = ZONE.with_borrow_mut(|cached| match cached {
        Some((cached_name, zone)) if cached_name == name => zone.clone(),
        _ => {
            let zone = fixlane_app::followups::zone(config);
            *cached = Some((name.to_owned(), zone.clone()));
            zone
        }
    });
    at.to_zoned_datetime(zone)
        .strftime("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// `in 3h05m` or `3h05m ago`, from `now` to `at`.
pub fn until(at: Timestamp, now: Timestamp) -> String {
    let seconds = at.as_second() - now.as_second();
    if seconds >= 0 {
        format!("in {}", clock(seconds))
    } else {
        format!("{} ago", clock(-seconds))
    }
}
