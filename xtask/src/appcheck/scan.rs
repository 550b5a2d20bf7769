//! The text scanners the rules share: files of a folder, words and calls in code, comments
//! stripped, template names, strings of a JSON value.

use std::{
    fs,
    path::{Path, PathBuf},
};

use serde_json::Value;

/// Files under `dir` (recursively, sorted) whose extension is one of `exts`.
pub(super) fn files_under(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if name == "node_modules" {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| exts.contains(&e))
            {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '$'
}

/// `needle` occurs with no identifier character right before or after it.
pub(super) fn contains_word(text: &str, needle: &str) -> bool {
    text.match_indices(needle).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + needle.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

/// `name(` called as a function (`eval(`, `window.eval (`), not `__wbg_eval_…`.
pub(super) fn contains_call(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let rest = text[i + name.len()..].trim_start();
        !before.is_some_and(is_ident) && rest.starts_with('(')
    })
}

/// Whether server.js exports `handler` (an `exports = { handler: … }` key or `exports.handler =`).
pub(super) fn exports_handler(code: &str, handler: &str) -> bool {
    code.match_indices(handler).any(|(i, _)| {
        let before = code[..i].chars().next_back();
        let rest = code[i + handler.len()..].trim_start();
        let rest = rest.strip_prefix(['\'', '"']).unwrap_or(rest).trim_start();
        let keyed = !before.is_some_and(is_ident) && rest.starts_with(':');
        keyed || code[..i].ends_with("exports.")
    })
}

/// The names passed as first argument to `func(`: Ok(name) for a literal, Err(snippet) otherwise.
pub(super) fn template_calls(code: &str, func: &str) -> Vec<Result<String, String>> {
    let mut out = Vec::new();
    let needle = format!("{func}(");
    for (i, _) in code.match_indices(&needle) {
        if code[..i].chars().next_back().is_some_and(is_ident) {
            continue;
        }
        let rest = code[i + needle.len()..].trim_start();
        let quote = rest.chars().next();
        let literal = quote
            .filter(|q| matches!(q, '"' | '\'' | '`'))
            .and_then(|q| {
                let body = &rest[1..];
                let end = body.find(q)?;
                let name = &body[..end];
                (!name.contains("${") && !name.contains('\\')).then(|| name.to_string())
            });
        match literal {
            Some(name) => out.push(Ok(name)),
            None => out.push(Err(rest
                .chars()
                .take_while(|c| !matches!(c, ',' | ')' | '\n'))
                .take(40)
                .collect())),
        }
    }
    out
}

/// String literals of every Rust `const`/`static` whose name contains `TEMPLATE`.
pub(super) fn rust_template_list(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for keyword in ["const ", "static "] {
        for (i, _) in text.match_indices(keyword) {
            if text[..i].chars().next_back().is_some_and(is_ident) {
                continue;
            }
            let after = text[i + keyword.len()..].trim_start();
            let after = after.strip_prefix("mut ").unwrap_or(after);
            let ident: String = after.chars().take_while(|c| is_ident(*c)).collect();
            if !ident.contains("TEMPLATE") {
                continue;
            }
            let Some(eq) = after.find('=') else { continue };
            names.extend(rust_strings_until_semicolon(&after[eq + 1..]));
        }
    }
    names
}

/// The string literals of Rust code up to the first `;` outside strings and comments.
fn rust_strings_until_semicolon(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ';' => break,
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                let mut prev = ' ';
                for c in chars.by_ref() {
                    if prev == '*' && c == '/' {
                        break;
                    }
                    prev = c;
                }
            }
            '"' => {
                let mut s = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some(n) = chars.next() {
                                s.push(n);
                            }
                        }
                        '"' => break,
                        c => s.push(c),
                    }
                }
                out.push(s);
            }
            _ => {}
        }
    }
    out
}

/// JavaScript without `//` and `/* */` comments (string-aware; for hand-written code).
pub(super) fn strip_js_comments(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                for c in chars.by_ref() {
                    if prev == '*' && c == '/' {
                        break;
                    }
                    prev = c;
                }
                out.push(' ');
            }
            '"' | '\'' | '`' => {
                out.push(c);
                while let Some(n) = chars.next() {
                    out.push(n);
                    if n == '\\' {
                        if let Some(e) = chars.next() {
                            out.push(e);
                        }
                    } else if n == c {
                        break;
                    }
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Rust without `//` and `/* */` comments (string- and char-literal-aware; lifetimes kept).
pub(super) fn strip_rust_comments(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    let mut out = String::with_capacity(code.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i += 2;
            out.push(' ');
        } else if c == '"' {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i = (i + 1).min(chars.len());
            out.extend(&chars[start..i]);
        } else {
            // A char literal ('x', '\n', '"') is copied whole; any other quote is a lifetime.
            let len = match (c, next, chars.get(i + 2)) {
                ('\'', Some('\\'), _) => chars[i + 2..]
                    .iter()
                    .position(|&c| c == '\'')
                    .map(|p| p + 3),
                ('\'', Some(_), Some('\'')) => Some(3),
                _ => None,
            }
            .unwrap_or(1);
            let end = (i + len).min(chars.len());
            out.extend(&chars[i..end]);
            i = end;
        }
    }
    out
}

pub(super) fn strip_html_comments(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        match rest[start + 4..].find("-->") {
            Some(end) => rest = &rest[start + 4 + end + 3..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The URL of a `fetch("http…")` or `fetch("/…")` with a literal argument, if any.
pub(super) fn literal_fetch(text: &str) -> Option<String> {
    text.match_indices("fetch(").find_map(|(i, _)| {
        if text[..i].chars().next_back().is_some_and(is_ident) {
            return None;
        }
        let rest = text[i + "fetch(".len()..].trim_start();
        let q = rest
            .chars()
            .next()
            .filter(|q| matches!(q, '"' | '\'' | '`'))?;
        let body = &rest[1..];
        let url = &body[..body.find(q)?];
        (url.starts_with("http") || url.starts_with('/')).then(|| url.to_string())
    })
}

/// Every string in a JSON value with its JSON pointer.
pub(super) fn collect_strings(v: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::String(s) => out.push((at.to_string(), s.clone())),
        Value::Object(map) => {
            for (k, child) in map {
                collect_strings(child, &format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                collect_strings(child, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// The iparam names a template string refers to (`<%= iparam.name %>`, `encode(iparam.name)`).
pub(super) fn iparam_refs(s: &str) -> Vec<String> {
    s.match_indices("iparam.")
        .filter(|(i, _)| !s[..*i].chars().next_back().is_some_and(is_ident))
        .map(|(i, m)| {
            s[i + m.len()..]
                .chars()
                .take_while(|c| is_ident(*c))
                .collect::<String>()
        })
        .filter(|n| !n.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert!(contains_call("x = eval (y)", "eval"));
        assert!(!contains_call("__wbg_eval_12(y)", "eval"));
        assert!(!contains_call("evaluate(y)", "eval"));
        assert_eq!(
            rust_template_list(
                "pub(crate) const WIDGET_TEMPLATES: [&str; 2] = [\n  \"a\", // \"not\"\n  /* \"no\" */ \"b\"\n];\nconst X: &str = \"c\";"
            ),
            vec!["a", "b"]
        );
        assert_eq!(
            iparam_refs("Bearer <%= iparam.api_token %> <%= encode(iparam.key) %> myiparam.x"),
            vec!["api_token", "key"]
        );
        assert_eq!(
            strip_js_comments("a('//x') // c\n/* d */b"),
            "a('//x') \n b"
        );
        assert_eq!(
            strip_rust_comments(
                r#"let q = '"'; // "a"
fn f<'a>(x: &'a str) {} /* "b" */ "c // d" '\''"#
            ),
            "let q = '\"'; \nfn f<'a>(x: &'a str) {}   \"c // d\" '\\''"
        );
        assert!(exports_handler(
            "exports = {\n  onX: function () {}\n}",
            "onX"
        ));
        assert!(exports_handler("exports.onX = function () {}", "onX"));
        assert!(!exports_handler("function onXY() {}", "onX"));
    }
}
