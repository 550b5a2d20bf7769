//! The newest records first, through HubSpot's search API: what the periodic check reads to
//! catch the contacts and stage changes whose webhook never arrived. Paging is by offset
//! (`after`); the search API has a rate limit of its own (U: 5 requests per second).

use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use super::HubSpotCrm;
use crate::{
    adapters::hubspot::platform,
    ports::crm::{CrmError, RecentPage},
};

/// Records per page (the search API takes at most 200).
pub const PAGE: u32 = 100;

#[derive(Debug, Deserialize)]
struct Found {
    id: String,
    #[serde(default)]
    properties: serde_json::Map<String, Value>,
}

/// One found record: its id and the properties asked for.
pub struct Record {
    pub id: u64,
    pub properties: serde_json::Map<String, Value>,
}

/// An ISO 8601 time as epoch ms.
pub fn ms_of(v: Option<&Value>) -> Option<i64> {
    v?.as_str().and_then(crate::clock::parse_rfc3339)
}

impl HubSpotCrm {
    /// Page `page` (from 1) of `object`'s records, newest `sort_by` first, with `properties`.
    pub(super) async fn newest_first(
        &self,
        object: &str,
        sort_by: &str,
        properties: &[&str],
        page: u32,
    ) -> Result<RecentPage<Record>, CrmError> {
        let what = format!("search of {object}");
        let body = json!({
            "filterGroups": [],
            "sorts": [{ "propertyName": sort_by, "direction": "DESCENDING" }],
            "properties": properties,
            "limit": PAGE,
            "after": (page.saturating_sub(1) * PAGE).to_string(),
        });
        let (_, v) = self
            .call(
                Method::POST,
                &platform::search_path(object),
                Some(&body),
                &what,
            )
            .await?;
        let found: Vec<Found> = Self::read(&v, "results", &what)?;
        let items = found
            .into_iter()
            .filter_map(|f| {
                Some(Record {
                    id: f.id.parse().ok()?,
                    properties: f.properties,
                })
            })
            .collect();
        Ok(RecentPage {
            items,
            more: v.pointer("/paging/next/after").is_some(),
        })
    }
}
