//! Tenure's pure vocabulary: the identities, HR records and diagnostics every other crate speaks in.
//!
//! Nothing here does I/O or reads the clock; the crate is a leaf that the pure core (`policy`, `planner`) and the
//! I/O crates (`hr-source`, `graph`, …) share. Types are plain structs and enums; they derive `Serialize` only
//! where we persist them on purpose.

#![warn(missing_docs)]

mod attribute_map;
mod cloud;
mod country;
mod desired;
mod desired_exchange;
mod diagnostic;
mod directory;
mod exchange;
mod observed_exchange;
mod plan;
mod snapshot;
mod token;
mod vec_collections;
mod worker;
mod worker_id;

pub use attribute_map::AttributeMap;
pub use cloud::{NationalCloud, UnknownCloud};
pub use desired::{
    DesiredAccount, DesiredGroup, DesiredState, LifecycleStage, Limit, ManagedScope, MatchingOptions, NameCandidate,
    SafetyLimits, SecondaryKey,
};
pub use directory::{DirectoryGroup, DirectoryUser, GroupKind, ObjectId, ObservedState, SubscribedSku, UserAttribute};
pub use exchange::{
    AutoReplyState, ExchangeRole, MailGroup, MailGroupKind, MailGroupMember, Mailbox, MailboxKind, MailboxPermission,
    MailboxRight, MembershipRestriction, RoleCheck, RoleFinding, RoleVerdict,
};
pub use observed_exchange::{
    MailboxAccess, ObservedExchange, ObservedMailList, ObservedMailbox, ObservedSharedMailbox, leaver_mailbox_settled,
};
pub use plan::{Action, AttributeChange, GroupRef, Plan, Skipped, Step, StepId, UserRef};
pub use token::{AccessToken, AccessTokenProvider, Secret, TokenError, TokenFuture};
pub use vec_collections::{VecMap, VecSet};

pub use country::{CountryCode, InvalidCountryCode};
pub use desired_exchange::{
    AutoReplyText, DesiredExchange, DesiredMailAccess, DesiredMailList, LeaverMailbox, MailListMembership,
    SharedMailboxGrant, SharedMailboxRight,
};
pub use diagnostic::{Diagnostic, Severity, SourceLocation};
pub use snapshot::HrSnapshot;
pub use worker::{Worker, WorkerStatus};
pub use worker_id::{InvalidWorkerId, WorkerId};
