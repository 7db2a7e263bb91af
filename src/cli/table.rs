//! Values as text: an array of maps as a table (so `d.ps()` reads like `docker ps`), other
//! values as indented JSON-like text. Returns strings; callers print.

use serde_json::Value;

/// Render a value for a person.
pub fn render_value(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_object) => {
            table(items)
        }
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.replace('\n', " "),
        other => other.to_string(),
    }
}

/// Columns people look for first, in this order (script maps come sorted by key, which
/// would put `id` before `name` and `labels` in the middle); the rest follow as first seen,
/// and bulky ones go last.
const LEADING: &[&str] = &[
    "host", "service", "name", "id", "image", "state", "health", "status", "outcome", "ports",
    "code", "time", "user",
];
const TRAILING: &[&str] = &["labels", "params", "files", "pinned"];

/// Each column as wide as its widest cell (capped).
pub fn table(rows: &[Value]) -> String {
    const MAX: usize = 60;
    let mut seen: Vec<String> = Vec::new();
    for r in rows {
        if let Value::Object(m) = r {
            for k in m.keys() {
                if !seen.contains(k) {
                    seen.push(k.clone());
                }
            }
        }
    }
    let rank = |c: &String| match (
        LEADING.iter().position(|l| l == c),
        TRAILING.contains(&c.as_str()),
    ) {
        (Some(i), _) => i,
        (None, false) => LEADING.len(),
        (None, true) => LEADING.len() + 1 + TRAILING.iter().position(|t| t == c).unwrap_or(0),
    };
    let mut cols = seen;
    cols.sort_by_key(|c| rank(c)); // stable: unranked columns keep their first-seen order
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            cols.iter()
                .map(|c| {
                    let s = cell(r.get(c).unwrap_or(&Value::Null));
                    if s.chars().count() > MAX {
                        format!("{}…", s.chars().take(MAX - 1).collect::<String>())
                    } else {
                        s
                    }
                })
                .collect()
        })
        .collect();
    let widths: Vec<usize> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .chain([c.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |items: &[String]| -> String {
        items
            .iter()
            .zip(&widths)
            .map(|(s, w)| format!("{s:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = line(&cols.iter().map(|c| c.to_uppercase()).collect::<Vec<_>>());
    for r in &cells {
        out.push('\n');
        out.push_str(&line(r));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_of_maps_is_a_table() {
        let v = serde_json::json!([{"id": "ab", "labels": "x=y", "name": "web", "state": "running"}, {"name": "worker-1", "state": "exited", "extra": 1}]);
        let t = render_value(&v);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "NAME      ID  STATE    EXTRA  LABELS");
        assert_eq!(lines[2], "worker-1      exited   1");
    }
}
