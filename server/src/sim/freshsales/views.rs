//! The simulated account's list views: `GET /{contacts|deals}/filters` lists the views (each
//! kind has its view of every record), `GET /{contacts|deals}/view/:id` a page of a view's
//! records sorted by `sort` (`created_at` or `updated_at`) and `sort_type`, with `meta`.

use axum::http::StatusCode;
use serde_json::{json, Value};

use super::{err, Account};

/// The view ids of each kind: every record, then the key's user's own.
const CONTACT_VIEWS: [(u64, &str); 2] = [(1, "All Contacts"), (2, "My Contacts")];
const DEAL_VIEWS: [(u64, &str); 2] = [(11, "All Deals"), (12, "My Deals")];

fn views_of(kind: &str) -> &'static [(u64, &'static str)] {
    if kind == "contacts" {
        &CONTACT_VIEWS
    } else {
        &DEAL_VIEWS
    }
}

/// `GET /{kind}/filters`.
pub fn filters(kind: &str) -> (StatusCode, Value) {
    let list: Vec<Value> = views_of(kind)
        .iter()
        .map(|(id, name)| json!({"id": id, "name": name, "model_class_name": kind}))
        .collect();
    (StatusCode::OK, json!({ "filters": list }))
}

/// `GET /{kind}/view/{id}?sort=…&sort_type=…&page=…&per_page=…`.
pub fn view(a: &Account, kind: &str, id: &str, query: &str) -> (StatusCode, Value) {
    let Some(&(view, _)) = views_of(kind).iter().find(|(v, _)| v.to_string() == id) else {
        return err(StatusCode::NOT_FOUND, "View not found");
    };
    let param = |name: &str| {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let sort = param("sort").unwrap_or_else(|| "created_at".into());
    if !["created_at", "updated_at"].contains(&sort.as_str()) {
        return err(StatusCode::BAD_REQUEST, "Invalid sort field");
    }
    let desc = param("sort_type").as_deref() != Some("asc");
    let page: usize = param("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let per_page: usize = param("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(25)
        .clamp(1, a.max_per_page.max(1));
    let records = if kind == "contacts" {
        &a.contacts
    } else {
        &a.deals
    };
    // "My" views hold nothing in the simulator: its records have no owner.
    let mut rows: Vec<&Value> = if view == views_of(kind)[0].0 {
        records.values().collect()
    } else {
        Vec::new()
    };
    let at = |v: &Value| {
        v[&sort]
            .as_str()
            .and_then(|t| {
                time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
            })
            .map_or(0, |t| t.unix_timestamp_nanos())
    };
    rows.sort_by_key(|v| at(v));
    if desc {
        rows.reverse();
    }
    let total = rows.len();
    let pages = total.div_ceil(per_page).max(1);
    let slice: Vec<Value> = rows
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .cloned()
        .collect();
    (
        StatusCode::OK,
        json!({ kind: slice, "meta": {"total": total, "total_pages": pages} }),
    )
}
