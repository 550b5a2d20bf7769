//! Recent contacts and deals through Freshsales' list views, for the periodic check that catches
//! events which never reached the backend: `GET /contacts/filters` (and `/deals/filters`) list
//! the account's views; `GET /contacts/view/:view_id` (and `/deals/view/:view_id`) lists a
//! view's records, a page at a time (documented endpoints, `../shared/reference/freshworks.md`
//! §6).
//!
//! UNCONFIRMED, all of it kept here: the names of the built-in views that hold every record
//! ([`ALL_CONTACTS_VIEW`], [`ALL_DEALS_VIEW`]), the shape of the filters answer
//! (`{"filters": [{"id", "name"}]}`), the sort and paging parameters ([`SORT_QUERY`]), the
//! answer's keys (`contacts` / `deals`, `meta.total_pages`) and the timestamp fields
//! (`created_at`, `updated_at`, RFC 3339 with an offset).

use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;

use super::{FreshsalesClient, FsError};
use crate::ports::crm::{RecentContact, RecentDeal, RecentPage};

/// The built-in view of every contact (UNCONFIRMED name).
pub const ALL_CONTACTS_VIEW: &str = "All Contacts";
/// The built-in view of every deal (UNCONFIRMED name).
pub const ALL_DEALS_VIEW: &str = "All Deals";
/// Records per page asked for (UNCONFIRMED maximum; an account that gives fewer is read on).
pub const PER_PAGE: u32 = 100;
/// Newest first by `field`, one page: `sort`, `sort_type`, `page`, `per_page` (UNCONFIRMED).
const SORT_QUERY: &str = "sort={field}&sort_type=desc&page={page}&per_page={per_page}";

/// Which list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Contacts,
    Deals,
}

impl Kind {
    fn path(self) -> &'static str {
        match self {
            Self::Contacts => "contacts",
            Self::Deals => "deals",
        }
    }

    fn all_view(self) -> &'static str {
        match self {
            Self::Contacts => ALL_CONTACTS_VIEW,
            Self::Deals => ALL_DEALS_VIEW,
        }
    }

    /// The timestamp the list is sorted and cut on.
    fn time_field(self) -> &'static str {
        match self {
            Self::Contacts => "created_at",
            Self::Deals => "updated_at",
        }
    }
}

#[derive(Debug, Deserialize)]
struct View {
    id: u64,
    #[serde(default)]
    name: String,
}

#[derive(Debug, Deserialize)]
struct Row {
    id: u64,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
    #[serde(default)]
    deal_stage_id: Option<u64>,
}

impl FreshsalesClient {
    /// The id of the view that holds every record of `kind` (read once per client).
    async fn all_view(&self, kind: Kind) -> Result<u64, FsError> {
        if let Some(id) = self.views.lock().get(kind.path()).copied() {
            return Ok(id);
        }
        let v = self
            .call(
                Method::GET,
                &format!("/{}/filters", kind.path()),
                None,
                &format!("{} views", kind.path()),
            )
            .await?;
        let views: Vec<View> = Self::field(v, "filters")?;
        let id = views
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(kind.all_view()))
            .map(|f| f.id)
            .ok_or_else(|| {
                FsError::Protocol(format!(
                    "the account has no \"{}\" view to read recent {} from",
                    kind.all_view(),
                    kind.path()
                ))
            })?;
        self.views.lock().insert(kind.path(), id);
        Ok(id)
    }

    /// Page `page` of `kind`'s records, newest first, each with the time the list is sorted
    /// by, and whether another page follows.
    async fn newest_first(
        &self,
        kind: Kind,
        page: u32,
    ) -> Result<(Vec<(Row, i64)>, bool), FsError> {
        let view = self.all_view(kind).await?;
        let query = SORT_QUERY
            .replace("{field}", kind.time_field())
            .replace("{page}", &page.max(1).to_string())
            .replace("{per_page}", &PER_PAGE.to_string());
        let v = self
            .call(
                Method::GET,
                &format!("/{}/view/{view}?{query}", kind.path()),
                None,
                &format!("{} view {view}", kind.path()),
            )
            .await?;
        let pages = v
            .pointer("/meta/total_pages")
            .and_then(Value::as_u64)
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX));
        let rows: Vec<Row> = Self::field(v, kind.path())?;
        // Without `meta`, pages are read until one comes back empty (the account may hold
        // fewer records a page than asked for).
        let more = pages.map_or(!rows.is_empty(), |n| page < n);
        let out = rows
            .into_iter()
            .filter_map(|row| {
                let at = match kind {
                    Kind::Contacts => row.created_at.as_deref(),
                    Kind::Deals => row.updated_at.as_deref(),
                }
                .and_then(crate::clock::parse_rfc3339);
                // A record without a readable time cannot be placed: it is left out.
                at.map(|at| (row, at))
            })
            .collect();
        Ok((out, more))
    }

    /// One page of the contacts, newest created first.
    pub async fn contacts_page(&self, page: u32) -> Result<RecentPage<RecentContact>, FsError> {
        let (rows, more) = self.newest_first(Kind::Contacts, page).await?;
        Ok(RecentPage {
            items: rows
                .into_iter()
                .map(|(r, at)| RecentContact {
                    id: r.id,
                    created_at_ms: at,
                })
                .collect(),
            more,
        })
    }

    /// One page of the deals, newest updated first.
    pub async fn deals_page(&self, page: u32) -> Result<RecentPage<RecentDeal>, FsError> {
        let (rows, more) = self.newest_first(Kind::Deals, page).await?;
        Ok(RecentPage {
            items: rows
                .into_iter()
                .map(|(r, at)| RecentDeal {
                    id: r.id,
                    stage_id: r.deal_stage_id.map(Into::into),
                    updated_at_ms: at,
                })
                .collect(),
            more,
        })
    }
}
