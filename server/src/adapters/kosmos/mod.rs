//! 1Kosmos, the contract of the 1Kosmos Freshsales design (`POST /v2/verify/sessions`, an API
//! key header): one adapter of [`crate::ports::IdentityProvider`].

mod client;

pub use client::{HolderMatchFields, KosmosClient, API_KEY_HEADER, HOLDER_MATCH};
