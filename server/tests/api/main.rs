//! Integration tests: the backend over HTTP on port 0, once on SQLite and once on PostgreSQL.

mod helpers;
mod status;
