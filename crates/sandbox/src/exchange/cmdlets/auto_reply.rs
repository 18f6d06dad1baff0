//! Placeholder family (filled in by its own change).

use super::Cmdlet;

/// The cmdlets of this family.
pub const CMDLETS: &[Cmdlet] = &[];
