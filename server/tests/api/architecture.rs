//! The house rules, read from the source: the HTTP layer holds no database handle, a use case's
//! methods live in its owner's file or folder, and no service file reaches back up into the
//! services' `mod.rs` for a name (it only declares the rooms and re-exports them).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, with its text (tests stripped: they may reach anything).
fn files(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let text = match text.find("#[cfg(test)]") {
                    Some(i) => text[..i].to_string(),
                    None => text,
                };
                out.insert(path, text);
            }
        }
    }
    out
}

fn rel(path: &Path) -> String {
    path.strip_prefix(src()).unwrap().display().to_string()
}

#[test]
fn the_http_layer_holds_no_database_handle() {
    let mut found = Vec::new();
    for (path, text) in files(&src().join("http")) {
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if ["store()", "crate::store", "Store", "sqlx"]
                .iter()
                .any(|w| code.contains(w))
            {
                found.push(format!("{}:{}: {}", rel(&path), n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "http reaches the database:\n{}",
        found.join("\n")
    );
}

#[test]
fn every_method_of_a_use_case_lives_in_its_owners_file_or_folder() {
    let services = src().join("services");
    let all = files(&services);
    // Where each type is defined: its file, and the folder a `mod.rs` stands for.
    let mut home: BTreeMap<String, PathBuf> = BTreeMap::new();
    for (path, text) in &all {
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("pub struct ") {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                home.insert(name, path.clone());
            }
        }
    }
    let mut strays = Vec::new();
    for (path, text) in &all {
        for line in text.lines() {
            let Some(rest) = line.strip_prefix("impl ") else {
                continue;
            };
            if rest.contains(" for ") {
                continue;
            }
            // `impl Sessions {`, `impl super::start::Sessions {`: the type's own name.
            let named = rest.split([' ', '<', '{']).next().unwrap_or_default();
            let name = named.rsplit("::").next().unwrap_or_default().to_string();
            let Some(defined) = home.get(&name) else {
                continue;
            };
            let room = if defined.ends_with("mod.rs") {
                defined.parent().unwrap().to_path_buf()
            } else {
                defined.clone()
            };
            if !path.starts_with(&room) {
                strays.push(format!(
                    "impl {name} in {} (defined in {})",
                    rel(path),
                    rel(defined)
                ));
            }
        }
    }
    assert!(
        strays.is_empty(),
        "methods away from their type:\n{}",
        strays.join("\n")
    );
    assert!(
        !home.contains_key("Engine"),
        "one type that every use case hangs from is back"
    );
}

#[test]
fn no_service_file_reaches_back_up_into_the_services_mod_for_a_name() {
    let services = src().join("services");
    let parent = std::fs::read_to_string(services.join("mod.rs")).unwrap();
    // What `services/mod.rs` holds itself: nothing but rooms and re-exports.
    let own: Vec<&str> = parent
        .lines()
        .filter(|l| {
            let l = l.trim_start();
            [
                "pub struct ",
                "struct ",
                "pub enum ",
                "enum ",
                "pub fn ",
                "fn ",
                "impl ",
            ]
            .iter()
            .any(|k| l.starts_with(k))
        })
        .collect();
    assert!(
        own.is_empty(),
        "services/mod.rs defines:\n{}",
        own.join("\n")
    );
    // A file directly in services/ names a sibling room (`super::queue::Write`), never a name
    // the parent merely re-exports (`super::Write`).
    let mut back = Vec::new();
    for (path, text) in files(&services) {
        if path.parent() != Some(services.as_path()) {
            continue;
        }
        let flat = text.replace('\n', " ");
        for (i, _) in flat.match_indices("super::") {
            let after = &flat[i + "super::".len()..];
            let names: Vec<&str> = if let Some(list) = after.strip_prefix('{') {
                let end = list.find('}').unwrap_or(list.len());
                // Top-level items of the list only (a room's own `{…}` is its business).
                let mut depth = 0;
                let mut items = Vec::new();
                let mut start = 0;
                for (j, c) in list.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => {
                            items.push(&list[start..j]);
                            break;
                        }
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            items.push(&list[start..j]);
                            start = j + 1;
                        }
                        _ => {}
                    }
                }
                let _ = end;
                items
            } else {
                vec![after
                    .split([';', '(', ' ', ')', ',', '<', '>', '&'])
                    .next()
                    .unwrap_or("")]
            };
            for name in names {
                let name = name.trim();
                let first = name.split("::").next().unwrap_or("");
                if first.chars().next().is_some_and(char::is_uppercase) {
                    back.push(format!("{}: super::{name}", rel(&path)));
                }
            }
        }
    }
    assert!(
        back.is_empty(),
        "names taken back from services/mod.rs:\n{}",
        back.join("\n")
    );
}
