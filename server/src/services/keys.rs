//! `server keys rotate`: every sealed value re-sealed under a new master key, in one
//! transaction (all or nothing). Values sealed before key ids existed are re-sealed too.

use crate::{
    crypto::{at, Sealer},
    error::{AppError, Result},
    store::Store,
};

/// What a rotation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rotated {
    /// Values re-sealed under the new key.
    pub resealed: usize,
    /// Values already under the new key (a rotation run again).
    pub already: usize,
}

/// Re-seals every sealed value opened with `old` under `new`. Stops, changing nothing, at the
/// first value neither key opens (the error names its table and column, never its content).
pub async fn rotate(store: &Store, old: &Sealer, new: &Sealer) -> Result<Rotated> {
    let mut tx = store.begin().await?;
    let cells = tx.sealed_cells().await?;
    let mut done = Rotated::default();
    for cell in &cells {
        let place = at(cell.table, cell.seal, &cell.row);
        if new.is_current(&cell.value) && new.open(place, &cell.value).is_ok() {
            done.already += 1;
            continue;
        }
        let plain = old.open(place, &cell.value).map_err(|e| {
            AppError::Unprocessable(format!(
                "a value in {}.{} (row {}) does not open with the old key: {e}; nothing was changed",
                cell.table, cell.column, cell.row
            ))
        })?;
        use secrecy::ExposeSecret;
        let sealed = new.seal(place, plain.expose_secret());
        if !tx.reseal(cell, &sealed).await? {
            return Err(AppError::Conflict(format!(
                "{}.{} (row {}) changed during the rotation; nothing was changed, run it again",
                cell.table, cell.column, cell.row
            )));
        }
        done.resealed += 1;
    }
    tx.commit().await?;
    Ok(done)
}
