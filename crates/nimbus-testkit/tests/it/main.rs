//! Nimbus integration tests: one binary (link time matters on two cores).
#![allow(clippy::unwrap_used, reason = "test helpers fail loudly")]

mod analytics;
mod blobs;
mod catalog;
mod consent;
mod console;
mod delivery;
mod desk;
mod erasure;
mod errors;
mod export;
mod honoured;
mod inactive;
mod isolation;
mod jobs;
mod legal;
mod limits;
mod metadata;
mod news;
mod nodes;
mod policies;
mod privacy;
mod rectify;
mod resources;
mod search;
mod security;
mod upload;
mod webhooks;
mod wire;
