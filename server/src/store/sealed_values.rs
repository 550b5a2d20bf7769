//! Every sealed value of the database, for `server keys rotate`: read with the place it is
//! sealed for (table, column, row) and written back under the new key in the same transaction.

use super::{tenants::SealedColumn, Conn};
use crate::error::Result;

/// A row's primary key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowKey {
    Id(String),
    Contact(String, i64),
    Outbox(i64),
}

/// One sealed value and where it lives.
#[derive(Debug, Clone)]
pub struct SealedCell {
    pub table: &'static str,
    pub column: &'static str,
    /// The name the seal binds the value to (the column's first name; see [`SealedColumn`]).
    pub seal: &'static str,
    /// The row as the seal names it (see `crypto::Place`).
    pub row: String,
    pub key: RowKey,
    pub value: String,
}

/// The sealed columns of the verifications table.
pub const VERIFICATION_COLUMNS: &[&str] = &[
    "hosted_url_sealed",
    "qr_payload_sealed",
    "requested_by_sealed",
    "expected_holder_sealed",
];

impl dyn Conn + '_ {
    /// Every sealed value, in every table.
    pub async fn sealed_cells(&mut self) -> Result<Vec<SealedCell>> {
        let mut cells = Vec::new();
        for &SealedColumn { column, seal } in SealedColumn::ALL {
            let rows: Vec<(String, String)> = sqlx::query_as(&format!(
                "SELECT id, {column} FROM tenants WHERE {column} IS NOT NULL ORDER BY id"
            ))
            .fetch_all(self.raw())
            .await?;
            cells.extend(rows.into_iter().map(|(id, value)| SealedCell {
                table: "tenants",
                column,
                seal,
                row: id.clone(),
                key: RowKey::Id(id),
                value,
            }));
        }
        for &column in VERIFICATION_COLUMNS {
            let rows: Vec<(String, String)> = sqlx::query_as(&format!(
                "SELECT id, {column} FROM verifications WHERE {column} IS NOT NULL ORDER BY id"
            ))
            .fetch_all(self.raw())
            .await?;
            cells.extend(rows.into_iter().map(|(id, value)| SealedCell {
                table: "verifications",
                column,
                seal: column,
                row: id.clone(),
                key: RowKey::Id(id),
                value,
            }));
        }
        let contacts: Vec<(String, i64, String)> = sqlx::query_as(
            "SELECT tenant_id, contact_id, credential_did_sealed FROM contacts \
             WHERE credential_did_sealed IS NOT NULL ORDER BY tenant_id, contact_id",
        )
        .fetch_all(self.raw())
        .await?;
        cells.extend(
            contacts
                .into_iter()
                .map(|(tenant, contact, value)| SealedCell {
                    table: "contacts",
                    column: "credential_did_sealed",
                    seal: "credential_did_sealed",
                    row: format!("{tenant}/{contact}"),
                    key: RowKey::Contact(tenant, contact),
                    value,
                }),
        );
        let outbox: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT id, tenant_id, record_key, payload FROM sync_outbox ORDER BY id",
        )
        .fetch_all(self.raw())
        .await?;
        cells.extend(
            outbox
                .into_iter()
                .map(|(id, tenant, key, value)| SealedCell {
                    table: "sync_outbox",
                    column: "payload",
                    seal: "payload",
                    row: format!("{tenant}/{key}"),
                    key: RowKey::Outbox(id),
                    value,
                }),
        );
        Ok(cells)
    }

    /// Replaces one sealed value if it is still the one read; `false` if it changed meanwhile.
    pub async fn reseal(&mut self, cell: &SealedCell, value: &str) -> Result<bool> {
        let (table, column) = (cell.table, cell.column);
        let set = format!("UPDATE {table} SET {column} = $1 WHERE {column} = $2");
        let sql = match &cell.key {
            RowKey::Id(_) | RowKey::Outbox(_) => format!("{set} AND id = $3"),
            RowKey::Contact(..) => format!("{set} AND tenant_id = $3 AND contact_id = $4"),
        };
        let q = sqlx::query(&sql).bind(value).bind(&cell.value);
        let q = match &cell.key {
            RowKey::Id(id) => q.bind(id),
            RowKey::Contact(tenant, contact) => q.bind(tenant).bind(*contact),
            RowKey::Outbox(id) => q.bind(*id),
        };
        Ok(q.execute(self.raw()).await?.rows_affected() == 1)
    }
}
