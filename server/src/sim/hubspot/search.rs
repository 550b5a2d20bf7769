//! The twin's search of contacts and deals: sorted by one property, paged by offset
//! (`after`), at most 200 a page, with only the properties asked for.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

/// `POST /crm/objects/{version}/{object}/search` over `records`: the answer, or what makes the
/// request invalid.
pub(super) fn run(
    records: &BTreeMap<u64, Map<String, Value>>,
    body: &Value,
) -> Result<Value, &'static str> {
    let limit = body["limit"].as_u64().unwrap_or(10);
    if limit == 0 || limit > 200 {
        return Err("limit must be between 1 and 200");
    }
    let after: usize = match &body["after"] {
        Value::Null => 0,
        Value::String(s) => s.parse().map_err(|_| "after is a number")?,
        Value::Number(n) => n.as_u64().unwrap_or(0) as usize,
        _ => return Err("after is a number"),
    };
    let sort = &body["sorts"][0];
    let by = sort["propertyName"].as_str().unwrap_or("hs_object_id");
    let descending = sort["direction"] == "DESCENDING";
    let key = |p: &Map<String, Value>| p.get(by).and_then(Value::as_str).unwrap_or("").to_string();
    let mut rows: Vec<(&u64, &Map<String, Value>)> = records.iter().collect();
    rows.sort_by(|a, b| {
        let o = key(a.1).cmp(&key(b.1)).then(a.0.cmp(b.0));
        if descending {
            o.reverse()
        } else {
            o
        }
    });
    let asked: Vec<&str> = body["properties"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let total = rows.len();
    let results: Vec<Value> = rows
        .into_iter()
        .skip(after)
        .take(limit as usize)
        .map(|(id, p)| {
            let props: Map<String, Value> = asked
                .iter()
                .map(|n| (n.to_string(), p.get(*n).cloned().unwrap_or(Value::Null)))
                .collect();
            json!({"id": id.to_string(), "properties": props, "archived": false})
        })
        .collect();
    let mut answer = json!({"total": total, "results": results});
    let next = after + limit as usize;
    if next < total {
        answer["paging"] = json!({"next": {"after": next.to_string()}});
    }
    Ok(answer)
}
