//! 1Kosmos, the contract of the 1Kosmos Freshsales design (`POST /v2/verify/sessions`, an API
//! key header): one adapter of [`crate::ports::IdentityProvider`].

mod client;

pub use client::{KosmosClient, API_KEY_HEADER};
