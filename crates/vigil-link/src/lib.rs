//! `vigil-link`: entity resolution for person records — which records,
//! written by different agencies with different spellings, nicknames and
//! half-remembered dates of birth, are one person.
//!
//! Probabilistic record linkage in the Fellegi–Sunter framework, as Splink
//! does it (docs/linkage.md says why each choice):
//! - [`Record`]: the fields of a person record; [`Field`]: what is
//!   compared. Sex, ethnicity, nationality and religion are kept with a
//!   record ([`record::Kept`]) and are never a [`Field`].
//! - [`Dataset`]: records normalised once (with `vigil_model::names`, the
//!   normaliser of the name index), interned, with phonetic keys computed
//!   per distinct word.
//! - [`block()`]: candidate pairs from several OR-ed blocking rules, giant
//!   blocks bounded.
//! - [`compare`]: the comparison levels of each field.
//! - [`Model::fit`]: u from random pairs, m by EM, λ, term frequencies;
//!   [`Model::predict`], [`Model::score_pair`], [`Model::explain`] and
//!   [`Model::score_candidates`] (one new record against candidates the
//!   name index found, without refitting).
//! - [`cluster()`]: entities from scored pairs, respecting confirmed and
//!   rejected pairs.
//! - [`link()`]: all of it in one call.
//!
//! Pure logic: no I/O, no clock. Depends on `vigil-model` and on
//! `strsim`, `rayon`, `rustc-hash`, `rand`/`rand_chacha` (seeded sampling)
//! and `serde`.

pub mod block;
pub mod cluster;
pub mod compare;
pub mod explain;
pub mod model;
mod prepare;
pub mod record;

pub use block::{block, Blocking, BlockingReport, BlockingRule};
pub use cluster::{cluster, cluster_guarded, ClusterReport, Decisions};
pub use compare::Comparison;
pub use explain::{Explanation, Term};
pub use model::{
    link, probability, ComparisonModel, Fit, FitReport, Linkage, Model, ScoredPair, Settings,
};
pub use prepare::Dataset;
pub use record::{Attribute, Dob, Field, Kept, Record};

/// Where long work reports how far it has got (a progress bar, or nothing).
pub trait Progress: Sync {
    /// A new stage with this many steps.
    fn stage(&self, name: &str, total: u64);
    /// Steps done in the current stage.
    fn advance(&self, n: u64);
}

/// No progress reporting.
impl Progress for () {
    fn stage(&self, _: &str, _: u64) {}
    fn advance(&self, _: u64) {}
}
