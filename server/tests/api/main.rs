//! Integration tests: the backend over HTTP on port 0, once on SQLite and once on PostgreSQL.

mod architecture;
mod contracts;
mod flows;
mod helpers;
mod openapi;
mod reliability;
mod status;
mod trust;
mod world;
