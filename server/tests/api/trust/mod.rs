//! Trust boundaries and operations (issue 14): start limits, the operator's metrics, the HTTP
//! server's timeouts and connection cap, secret rotation, sealed values and SQLite durability.

mod connections;
mod keys;
mod limits;
mod metrics;
mod rotation;
mod server;
mod signatures;
mod storage;
