//! The executor: applies a plan's steps in dependency order, journaling every step in the store (pending →
//! running → done/failed/waiting, with Microsoft's request-id) before anything that depends on it starts.
//!
//! Two lanes share one scheduler: Graph steps go up to 20 per `$batch`, several batches in flight; Exchange steps
//! go one command each through the Exchange client (`exchange_steps.rs`), several in flight. A mailbox read that
//! answers "not yet" (`AwaitMailbox`, `ConfirmMailboxShared`) is a durable wait: it is polled again later —
//! soon at first, then every 30 seconds — holding no slot, until `mailbox_wait` is spent; then it and the steps
//! that depend on it are journaled `waiting` and the run finishes without them (the next run plans them again).
//!
//! Re-entrant by construction: steps already done in the journal are skipped (their created object IDs are
//! reloaded); a step left "running" by a crash has an unknown outcome, so a create is first settled by looking
//! the employee up ([`outcome::find_created_user`]) and every other action is idempotent when repeated; a step
//! left `waiting` is checked again. Throttling (429 + `Retry-After`) and transient failures are retried inside
//! the `graph` and `exchange` clients; here only the 404 that follows a fresh create is waited out.

mod audit;
mod exchange_steps;
pub(crate) mod outcome;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use model::{Action, GroupRef, ObjectId, Plan, StepId, UserRef, WorkerId};
use store::{RunId, StepJournal, StepRecord, StepStatus, Store};
use tokio::task::JoinSet;
use tokio::time::Instant;

use self::outcome::StepResult;
use crate::progress::Progress;

/// Steps per Graph `$batch` (Graph's maximum).
const BATCH_SIZE: usize = 20;
/// How often a step whose target is not yet visible is tried again before it fails.
const MAX_NOT_VISIBLE_RETRIES: u32 = 10;
/// The first pause before a mailbox read that answered "not yet" is tried again; it doubles per poll.
const FIRST_POLL: Duration = Duration::from_millis(500);
/// The longest pause between two polls of a mailbox read.
const LONGEST_POLL: Duration = Duration::from_secs(30);

/// What an apply did.
#[derive(Debug, Clone, Default)]
pub struct ApplyReport {
    /// Steps done (including those found done in the journal).
    pub done: usize,
    /// Steps that failed, with the reason.
    pub failed: Vec<(StepId, String)>,
    /// Steps not attempted because a step they depend on failed.
    pub not_attempted: usize,
    /// Steps already done before this apply started (a resumed run).
    pub resumed_done: usize,
    /// Steps left waiting for Exchange past the wait budget, and the steps not attempted because they depend on
    /// one, with the reason; the run is not failed by them, and the next run plans them again.
    pub waiting: Vec<(StepId, String)>,
}

/// What the executor needs besides the plan.
pub struct ApplyContext<'a> {
    /// The Graph client.
    pub graph: &'a graph::Client,
    /// The Exchange Online client, when the run has an Exchange connection; without one, Exchange steps fail.
    pub exchange: Option<&'a exchange::ExchangeClient>,
    /// The store holding the journal.
    pub store: &'a Store,
    /// The run being applied.
    pub run: RunId,
    /// Batches in flight at once.
    pub max_concurrency: usize,
    /// How long a mailbox read may answer "not yet" before its step is left `waiting` (`[apply]
    /// mailbox_wait_seconds`).
    pub mailbox_wait: Duration,
    /// The policy revision, recorded in the audit log.
    pub policy_revision: &'a str,
    /// Graph's base URL (for `@odata.id` references).
    pub graph_base: &'a str,
    /// Progress display.
    pub progress: &'a dyn Progress,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Pending,
    Running,
    Done,
    Failed,
    Waiting,
}

/// Which client a task in flight uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lane {
    Graph,
    Exchange,
}

/// The scheduler's bookkeeping.
struct Schedule {
    state: Vec<State>,
    /// Steps not yet done that each step waits for.
    waiting_on: Vec<usize>,
    dependents: Vec<Vec<usize>>,
    /// Graph steps ready to go.
    ready: VecDeque<usize>,
    /// Exchange steps ready to go.
    ready_exchange: VecDeque<usize>,
    /// Steps to try again after a pause (target not yet visible, mailbox not ready yet).
    later: Vec<(Instant, usize)>,
    retries: HashMap<usize, u32>,
    /// Mailbox reads answered "not yet": when the first answer came and how many polls so far.
    waits: HashMap<usize, (Instant, u32)>,
    users: HashMap<WorkerId, ObjectId>,
    groups: HashMap<String, ObjectId>,
    /// Steps whose outcome is unknown from a previous, interrupted attempt.
    unknown_outcome: Vec<bool>,
}

/// Applies `plan` (run `ctx.run`), resuming from `journal` (the step records of an interrupted earlier attempt,
/// empty for a new run).
pub async fn apply_plan(
    ctx: &ApplyContext<'_>,
    plan: &Plan,
    journal: &BTreeMap<StepId, StepJournal>,
) -> Result<ApplyReport, store::Error> {
    let mut report = ApplyReport::default();
    let mut schedule = Schedule::new(plan, journal, &mut report);
    ctx.progress.begin("apply", plan.steps.len() as u64);
    ctx.progress.advance(report.resumed_done as u64);
    let graph_slots = ctx.max_concurrency.max(1);
    let exchange_slots = ctx.exchange.map_or(1, |client| client.stats().concurrency_limit.max(1));
    let mut in_flight: JoinSet<Vec<(usize, StepResult)>> = JoinSet::new();
    // Which steps each task carries, so that a task that dies (a bug) fails its steps instead of losing them.
    let mut carried: HashMap<tokio::task::Id, (Vec<usize>, Lane)> = HashMap::new();
    // Tasks in flight per lane.
    let (mut graph_busy, mut exchange_busy) = (0_usize, 0_usize);
    loop {
        schedule.release_due(plan, Instant::now());
        let free = exchange_slots.saturating_sub(exchange_busy);
        let starting: Vec<usize> = (0..free).map_while(|_| schedule.ready_exchange.pop_front()).collect();
        if !starting.is_empty() {
            // Mailbox reads change nothing, so only writes are journaled as running (their outcome is unknown
            // after a crash); a read keeps showing why it waits.
            let running: Vec<StepRecord> = starting
                .iter()
                .filter(|index| !exchange_steps::is_wait(&plan.steps[**index].action))
                .map(|index| step_record(plan.steps[*index].id, StepStatus::Running))
                .collect();
            ctx.store.record_steps(ctx.run, &running).await?;
        }
        for index in starting {
            schedule.state[index] = State::Running;
            let client = ctx.exchange.cloned();
            let action = plan.steps[index].action.clone();
            let task = in_flight
                .spawn(async move { vec![(index, exchange_steps::run_exchange_step(client.as_ref(), &action).await)] });
            carried.insert(task.id(), (vec![index], Lane::Exchange));
            exchange_busy += 1;
        }
        while graph_busy < graph_slots && !schedule.ready.is_empty() {
            let batch: Vec<usize> = (0..BATCH_SIZE).map_while(|_| schedule.ready.pop_front()).collect();
            let prepared = schedule.prepare(plan, &batch);
            let running: Vec<StepRecord> =
                prepared.iter().map(|(index, _)| step_record(plan.steps[*index].id, StepStatus::Running)).collect();
            ctx.store.record_steps(ctx.run, &running).await?;
            for (index, _) in &prepared {
                schedule.state[*index] = State::Running;
            }
            let client = ctx.graph.clone();
            let graph_base = ctx.graph_base.to_string();
            let steps = Arc::new(prepared);
            let indices = steps.iter().map(|(index, _)| *index).collect();
            let task = in_flight.spawn(async move { run_batch(&client, &graph_base, &steps).await });
            carried.insert(task.id(), (indices, Lane::Graph));
            graph_busy += 1;
        }
        let next_due = schedule.later.iter().map(|(at, _)| *at).min();
        if in_flight.is_empty() {
            match next_due {
                Some(at) => {
                    // A pause before retrying steps whose target is not yet visible (Entra's replication delay)
                    // or whose mailbox is not ready yet.
                    tokio::time::sleep_until(at).await;
                    continue;
                }
                None => break,
            }
        }
        let joined = match next_due {
            Some(at) => tokio::select! {
                joined = in_flight.join_next_with_id() => joined,
                () = tokio::time::sleep_until(at) => continue,
            },
            None => in_flight.join_next_with_id().await,
        };
        let Some(joined) = joined else { continue };
        let (task, results) = match joined {
            Ok((id, results)) => (id, Ok(results)),
            Err(error) => (error.id(), Err(format!("internal error while sending the step: {error}"))),
        };
        let (indices, lane) = carried.remove(&task).unwrap_or((Vec::new(), Lane::Graph));
        match lane {
            Lane::Graph => graph_busy = graph_busy.saturating_sub(1),
            Lane::Exchange => exchange_busy = exchange_busy.saturating_sub(1),
        }
        let results = results.unwrap_or_else(|error| {
            let failed = StepResult::Failed { error, request_id: None };
            indices.into_iter().map(|index| (index, failed.clone())).collect()
        });
        let mut records = Vec::with_capacity(results.len());
        for (index, result) in results {
            records.extend(schedule.settle(ctx, plan, index, result, &mut report));
        }
        ctx.store.record_steps(ctx.run, &records).await?;
    }
    ctx.progress.finish();
    Ok(report)
}

/// How long to wait before the `poll`-th poll (1-based) of a mailbox read: 0.5 s, 1 s, 2 s, … up to 30 s.
fn poll_pause(poll: u32) -> Duration {
    FIRST_POLL.saturating_mul(1 << poll.saturating_sub(1).min(16)).min(LONGEST_POLL)
}

impl Schedule {
    fn new(plan: &Plan, journal: &BTreeMap<StepId, StepJournal>, report: &mut ApplyReport) -> Self {
        let count = plan.steps.len();
        let mut schedule = Self {
            state: vec![State::Pending; count],
            waiting_on: vec![0; count],
            dependents: vec![Vec::new(); count],
            ready: VecDeque::new(),
            ready_exchange: VecDeque::new(),
            later: Vec::new(),
            retries: HashMap::new(),
            waits: HashMap::new(),
            users: HashMap::new(),
            groups: HashMap::new(),
            unknown_outcome: vec![false; count],
        };
        for (index, step) in plan.steps.iter().enumerate() {
            match journal.get(&step.id).map(|record| (record.status, record)) {
                Some((StepStatus::Done, record)) => {
                    schedule.state[index] = State::Done;
                    report.done += 1;
                    report.resumed_done += 1;
                    let object_id = record.object_id.clone().map(ObjectId);
                    schedule.remember_created(&step.action, object_id);
                }
                Some((StepStatus::Running, _)) => schedule.unknown_outcome[index] = true,
                // Pending, failed (tried again), or waiting (checked again).
                _ => {}
            }
        }
        for (index, step) in plan.steps.iter().enumerate() {
            for dependency in &step.depends_on {
                let dependency = dependency.0 as usize;
                if dependency < count && schedule.state[dependency] != State::Done {
                    schedule.waiting_on[index] += 1;
                    schedule.dependents[dependency].push(index);
                }
            }
        }
        for index in 0..count {
            if schedule.state[index] == State::Pending && schedule.waiting_on[index] == 0 {
                schedule.enqueue(plan, index);
            }
        }
        schedule
    }

    /// Puts a step whose dependencies are done in its lane's queue.
    fn enqueue(&mut self, plan: &Plan, index: usize) {
        if plan.steps[index].action.is_exchange() {
            self.ready_exchange.push_back(index);
        } else {
            self.ready.push_back(index);
        }
    }

    fn remember_created(&mut self, action: &Action, object_id: Option<ObjectId>) {
        let Some(object_id) = object_id else { return };
        match action {
            Action::CreateUser { worker, .. } => {
                self.users.insert(worker.clone(), object_id);
            }
            Action::CreateGroup { mail_nickname, .. } => {
                self.groups.insert(mail_nickname.clone(), object_id);
            }
            _ => {}
        }
    }

    fn release_due(&mut self, plan: &Plan, now: Instant) {
        let (due, waiting): (Vec<_>, Vec<_>) = self.later.drain(..).partition(|(at, _)| *at <= now);
        self.later = waiting;
        for (_, index) in due {
            self.enqueue(plan, index);
        }
    }

    /// Files one step's result: done, retried later, polled again, left waiting, or failed (with its
    /// dependents); returns the journal records to write.
    fn settle(
        &mut self,
        ctx: &ApplyContext<'_>,
        plan: &Plan,
        index: usize,
        result: StepResult,
        report: &mut ApplyReport,
    ) -> Vec<StepRecord> {
        let step = &plan.steps[index];
        match result {
            StepResult::Done { object_id, request_id, note } => {
                self.mark_done(plan, index, object_id.clone());
                report.done += 1;
                let mut record = step_record(step.id, StepStatus::Done);
                record.request_id = request_id;
                record.object_id = object_id.as_ref().map(|id| id.0.clone());
                record.audit = Some(audit::entry(step, object_id.as_ref(), note, ctx.policy_revision));
                ctx.progress.advance(1);
                vec![record]
            }
            StepResult::RetryLater { reason, request_id } => {
                let attempt = self.retries.entry(index).or_insert(0);
                *attempt += 1;
                if *attempt > MAX_NOT_VISIBLE_RETRIES {
                    let error = format!("{reason} after {MAX_NOT_VISIBLE_RETRIES} tries");
                    self.fail(plan, index, &error, request_id, report)
                } else {
                    let pause = Duration::from_millis(250 * 2u64.pow((*attempt).min(5)));
                    self.state[index] = State::Pending;
                    self.later.push((Instant::now() + pause, index));
                    Vec::new()
                }
            }
            StepResult::NotYet { reason } => {
                let now = Instant::now();
                let (since, polls) = self.waits.entry(index).or_insert((now, 0));
                *polls += 1;
                let (since, polls) = (*since, *polls);
                let deadline = since + ctx.mailbox_wait;
                if now >= deadline {
                    tracing::info!(step = %step.id, reason = reason.as_str(), "Left waiting for the next run.");
                    ctx.progress.status(&format!("step {} left waiting for the next run: {reason}", step.id));
                    return self.leave_waiting(plan, index, &reason, report);
                }
                self.state[index] = State::Pending;
                self.later.push((now + poll_pause(polls).min(deadline - now), index));
                if polls > 1 {
                    return Vec::new();
                }
                tracing::info!(step = %step.id, reason = reason.as_str(), "Waiting for Exchange.");
                ctx.progress.status(&format!("step {} waits: {reason}", step.id));
                // The journal shows why the step waits (a resumed run checks a waiting step again).
                let mut record = step_record(step.id, StepStatus::Waiting);
                record.error = Some(reason);
                vec![record]
            }
            StepResult::Failed { error, request_id } => self.fail(plan, index, &error, request_id, report),
        }
    }

    /// Resolves each step's references into a ready-to-run job.
    fn prepare(&self, plan: &Plan, batch: &[usize]) -> Vec<(usize, Job)> {
        batch
            .iter()
            .map(|&index| {
                let step = &plan.steps[index];
                let mut users = HashMap::new();
                for user in referenced_users(&step.action) {
                    let id = match user {
                        UserRef::Existing(id) => Some(id.clone()),
                        UserRef::Planned(worker) => self.users.get(worker).cloned(),
                    };
                    if let Some(id) = id {
                        users.insert(user.clone(), id);
                    }
                }
                let mut groups = HashMap::new();
                if let Action::AddMembers { group, .. } = &step.action {
                    let id = match group {
                        GroupRef::Existing(id) => Some(id.clone()),
                        GroupRef::Planned(nickname) => self.groups.get(nickname).cloned(),
                    };
                    if let Some(id) = id {
                        groups.insert(group.clone(), id);
                    }
                }
                let targets_new = step.depends_on.iter().any(|dependency| {
                    plan.steps.get(dependency.0 as usize).is_some_and(|dependency| {
                        matches!(
                            dependency.action,
                            Action::CreateUser { .. } | Action::CreateGroup { .. } | Action::RestoreUser { .. }
                        )
                    })
                });
                let job = Job {
                    action: step.action.clone(),
                    users,
                    groups,
                    targets_new,
                    unknown_outcome: self.unknown_outcome[index],
                };
                (index, job)
            })
            .collect()
    }

    fn mark_done(&mut self, plan: &Plan, index: usize, object_id: Option<ObjectId>) {
        self.state[index] = State::Done;
        self.remember_created(&plan.steps[index].action, object_id);
        for dependent in std::mem::take(&mut self.dependents[index]) {
            self.waiting_on[dependent] -= 1;
            if self.waiting_on[dependent] == 0 && self.state[dependent] == State::Pending {
                self.enqueue(plan, dependent);
            }
        }
    }

    /// Fails `index` and, transitively, everything waiting on it; returns their journal records.
    fn fail(
        &mut self,
        plan: &Plan,
        index: usize,
        error: &str,
        request_id: Option<String>,
        report: &mut ApplyReport,
    ) -> Vec<StepRecord> {
        let mut records = Vec::new();
        self.state[index] = State::Failed;
        report.failed.push((plan.steps[index].id, error.to_string()));
        let mut record = step_record(plan.steps[index].id, StepStatus::Failed);
        record.error = Some(error.to_string());
        record.request_id = request_id;
        records.push(record);
        let mut stack = std::mem::take(&mut self.dependents[index]);
        while let Some(dependent) = stack.pop() {
            if self.state[dependent] != State::Pending {
                continue;
            }
            self.state[dependent] = State::Failed;
            report.not_attempted += 1;
            let mut record = step_record(plan.steps[dependent].id, StepStatus::Failed);
            record.error = Some(format!("not attempted: step {} failed", plan.steps[index].id));
            records.push(record);
            stack.extend(std::mem::take(&mut self.dependents[dependent]));
        }
        records
    }
    /// Leaves `index` waiting (its wait budget is spent) and, transitively, everything waiting on it; returns
    /// their journal records.
    fn leave_waiting(&mut self, plan: &Plan, index: usize, reason: &str, report: &mut ApplyReport) -> Vec<StepRecord> {
        let id = plan.steps[index].id;
        self.state[index] = State::Waiting;
        report.waiting.push((id, reason.to_string()));
        let mut record = step_record(id, StepStatus::Waiting);
        record.error = Some(reason.to_string());
        let mut records = vec![record];
        let mut stack = std::mem::take(&mut self.dependents[index]);
        while let Some(dependent) = stack.pop() {
            if self.state[dependent] != State::Pending {
                continue;
            }
            self.state[dependent] = State::Waiting;
            let why = format!("not attempted: step {id} waits ({reason})");
            report.waiting.push((plan.steps[dependent].id, why.clone()));
            let mut record = step_record(plan.steps[dependent].id, StepStatus::Waiting);
            record.error = Some(why);
            records.push(record);
            stack.extend(std::mem::take(&mut self.dependents[dependent]));
        }
        records
    }
}

/// A journal record for `step` with `status` and nothing else known yet.
fn step_record(step: StepId, status: StepStatus) -> StepRecord {
    StepRecord { step, status, attempts: 0, request_id: None, object_id: None, error: None, audit: None }
}

/// A step ready to send: its action with every reference resolved to an object ID.
struct Job {
    action: Action,
    users: HashMap<UserRef, ObjectId>,
    groups: HashMap<GroupRef, ObjectId>,
    /// The step depends on a create or restore in this run, so a 404 may only mean "not replicated yet".
    targets_new: bool,
    /// An earlier attempt was interrupted while this step was running.
    unknown_outcome: bool,
}

/// The users an action refers to.
fn referenced_users(action: &Action) -> Vec<&UserRef> {
    match action {
        Action::UpdateUser { user, .. }
        | Action::EnableAccount { user }
        | Action::DisableAccount { user }
        | Action::ResetPassword { user }
        | Action::RevokeSessions { user }
        | Action::AssignLicenses { user, .. } => vec![user],
        Action::SetManager { user, manager } => vec![user, manager],
        Action::AddMembers { members, .. } => members.iter().collect(),
        Action::CreateUser { .. }
        | Action::RestoreUser { .. }
        | Action::RemoveManager { .. }
        | Action::CreateGroup { .. }
        | Action::RemoveMember { .. }
        | Action::DeleteUser { .. } => Vec::new(),
        // Exchange commands name users by UPN.
        Action::CreateMailList { .. }
        | Action::AddMailListMember { .. }
        | Action::RemoveMailListMember { .. }
        | Action::AwaitMailbox { .. }
        | Action::GrantMailboxRight { .. }
        | Action::RevokeMailboxRight { .. }
        | Action::SetMailboxHidden { .. }
        | Action::SetAutoReply { .. }
        | Action::ConvertMailbox { .. }
        | Action::ConfirmMailboxShared { .. } => Vec::new(),
    }
}

/// What is left of a step an interrupted attempt may have done.
enum Settled {
    /// It was done (with the created object's ID, for creates).
    Done(Option<ObjectId>),
    /// Checking failed.
    Failed(String),
    /// Send this (the action itself, or what is left of it).
    Send(Action),
}

/// Re-reads the target of a step whose earlier attempt was interrupted (outcome unknown) before repeating it:
/// creates are looked up (so no duplicate is made), a restore is checked, and a licence change is trimmed to
/// what is still missing. Other actions are idempotent and are simply sent again.
async fn settle_interrupted(client: &graph::Client, job: &Job) -> Settled {
    let found = |result: Result<Option<ObjectId>, String>| match result {
        Ok(Some(id)) => Settled::Done(Some(id)),
        Ok(None) => Settled::Send(job.action.clone()),
        Err(error) => Settled::Failed(error),
    };
    match &job.action {
        Action::CreateUser { worker, user_principal_name, .. } => {
            found(outcome::find_created_user(client, worker, user_principal_name).await)
        }
        Action::CreateGroup { mail_nickname, .. } => found(outcome::find_created_group(client, mail_nickname).await),
        Action::RestoreUser { user } => match outcome::restored_already(client, user).await {
            Ok(true) => Settled::Done(None),
            Ok(false) => Settled::Send(job.action.clone()),
            Err(error) => Settled::Failed(error),
        },
        Action::AssignLicenses { user, add, remove } => remaining_license_change(client, job, user, add, remove).await,
        _ => Settled::Send(job.action.clone()),
    }
}

/// What is left of the licence change `add`/`remove` of `user` (from `job`) given the licences assigned now.
async fn remaining_license_change(
    client: &graph::Client,
    job: &Job,
    user: &UserRef,
    add: &[String],
    remove: &[String],
) -> Settled {
    let Some(id) = job.users.get(user) else {
        return Settled::Send(Action::AssignLicenses {
            user: user.clone(),
            add: add.to_vec(),
            remove: remove.to_vec(),
        });
    };
    match outcome::assigned_licenses(client, id).await {
        Ok(assigned) => {
            let has = |sku: &String| assigned.contains(&sku.to_ascii_lowercase());
            let add: Vec<String> = add.iter().filter(|sku| !has(sku)).cloned().collect();
            let remove: Vec<String> = remove.iter().filter(|sku| has(sku)).cloned().collect();
            if add.is_empty() && remove.is_empty() {
                Settled::Done(None)
            } else {
                Settled::Send(Action::AssignLicenses { user: user.clone(), add, remove })
            }
        }
        Err(error) => Settled::Failed(error),
    }
}

/// A licence change Graph refused because a licence to remove is not assigned. An earlier attempt of the same
/// request may have taken effect (the client sent the batch again after its answer was lost): what is assigned
/// now is read, and the step is done when nothing is left to change, or what is left is sent.
async fn settle_refused_license_change(
    client: &graph::Client,
    job: &Job,
    (user, add, remove): (&UserRef, &[String], &[String]),
    refused: &graph::GraphResponse,
) -> StepResult {
    let request_id = refused.request_id.clone();
    let remaining = match remaining_license_change(client, job, user, add, remove).await {
        Settled::Done(_) => {
            let note = Some("the licences were already as planned (an earlier attempt)".to_string());
            return StepResult::Done { object_id: None, request_id, note };
        }
        Settled::Failed(error) => return StepResult::Failed { error, request_id },
        Settled::Send(remaining) => remaining,
    };
    let request = graph::request_for(&remaining, &|user: &UserRef| job.users.get(user).cloned(), &|_| None, None);
    let Some(request) = request else {
        return StepResult::Failed { error: "a referenced account has no object ID".into(), request_id };
    };
    match client.send_batch(vec![request]).await {
        Ok(responses) => match responses.first() {
            Some(response) => outcome::interpret(&remaining, response, job.targets_new),
            None => StepResult::Failed { error: "Graph answered the licence change with nothing".into(), request_id },
        },
        Err(error) => StepResult::Failed { error: error.to_string(), request_id },
    }
}

/// Sends one batch of jobs and settles every ambiguous answer; returns each job's result.
async fn run_batch(client: &graph::Client, graph_base: &str, jobs: &[(usize, Job)]) -> Vec<(usize, StepResult)> {
    let mut results = Vec::with_capacity(jobs.len());
    let mut sending: Vec<(usize, &Job, Action)> = Vec::with_capacity(jobs.len());
    let mut requests = Vec::with_capacity(jobs.len());
    for (index, job) in jobs {
        let mut action = job.action.clone();
        if job.unknown_outcome {
            match settle_interrupted(client, job).await {
                Settled::Done(id) => {
                    let note = Some("found done after an interrupted attempt".to_string());
                    results.push((*index, StepResult::Done { object_id: id, request_id: None, note }));
                    continue;
                }
                Settled::Failed(error) => {
                    results.push((*index, StepResult::Failed { error, request_id: None }));
                    continue;
                }
                Settled::Send(remaining) => action = remaining,
            }
        }
        let password =
            matches!(action, Action::CreateUser { .. } | Action::ResetPassword { .. }).then(graph::generate_password);
        let request = graph::request_for(
            &action,
            &|user: &UserRef| job.users.get(user).cloned(),
            &|group: &GroupRef| job.groups.get(group).cloned(),
            password.as_ref(),
        );
        match request {
            Some(request) => {
                sending.push((*index, job, action));
                requests.push(request);
            }
            None => results.push((
                *index,
                StepResult::Failed { error: "a referenced account or group has no object ID".into(), request_id: None },
            )),
        }
    }
    if requests.is_empty() {
        return results;
    }
    let responses = match client.send_batch(requests).await {
        Ok(responses) => responses,
        Err(error) => {
            let error = error.to_string();
            results.extend(
                sending
                    .iter()
                    .map(|(index, _, _)| (*index, StepResult::Failed { error: error.clone(), request_id: None })),
            );
            return results;
        }
    };
    for ((index, job, action), response) in sending.into_iter().zip(responses) {
        let result = match &action {
            Action::CreateUser { worker, user_principal_name, .. } if outcome::is_conflict(&response) => {
                match outcome::find_created_user(client, worker, user_principal_name).await {
                    Ok(Some(id)) => StepResult::Done {
                        object_id: Some(id),
                        request_id: response.request_id.clone(),
                        note: Some("the account already existed (an earlier attempt); adopted".into()),
                    },
                    Ok(None) => StepResult::RetryLater {
                        reason: format!("{user_principal_name} exists but is not readable yet"),
                        request_id: response.request_id.clone(),
                    },
                    Err(error) => StepResult::Failed { error, request_id: response.request_id.clone() },
                }
            }
            Action::CreateGroup { mail_nickname, .. } if outcome::is_conflict(&response) => {
                match outcome::find_created_group(client, mail_nickname).await {
                    Ok(Some(id)) => StepResult::Done {
                        object_id: Some(id),
                        request_id: response.request_id.clone(),
                        note: Some("the group already existed (an earlier attempt); adopted".into()),
                    },
                    Ok(None) => StepResult::RetryLater {
                        reason: format!("a group named {mail_nickname} exists but is not readable yet"),
                        request_id: response.request_id.clone(),
                    },
                    Err(error) => StepResult::Failed { error, request_id: response.request_id.clone() },
                }
            }
            Action::AddMembers { members, .. } if outcome::is_already_member(&response) => {
                let group = job.groups.values().next().cloned();
                let member_ids: Vec<ObjectId> =
                    members.iter().filter_map(|member| job.users.get(member).cloned()).collect();
                match group {
                    Some(group) => outcome::add_members_one_by_one(client, &group, &member_ids, graph_base).await,
                    None => StepResult::Failed { error: "the group has no object ID".into(), request_id: None },
                }
            }
            Action::AssignLicenses { user, add, remove } if outcome::is_license_not_assigned(&response) => {
                settle_refused_license_change(client, job, (user, add, remove), &response).await
            }
            action => outcome::interpret(action, &response, job.targets_new),
        };
        results.push((index, result));
    }
    results
}
