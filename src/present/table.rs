//! Values as text: an array of maps as a table (so `d.ps()` reads like `docker ps`), other
//! values as indented JSON-like text. Returns strings; callers print.

use serde_json::Value;

/// Render a value for a person.
pub fn render_value(v: &Value) -> String {
    render_value_within(v, None)
}

/// Render a value for a person, a table no wider than `columns` (a terminal's width): its
/// widest cells are cut first, then the columns that still do not fit are left out and named.
pub fn render_value_within(v: &Value, columns: Option<usize>) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_object) => {
            table_within(items, columns)
        }
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

/// The width of the terminal stdout is, if it is one.
pub fn stdout_columns() -> Option<usize> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return None;
    }
    // SAFETY: TIOCGWINSZ fills the winsize it is given; stdout is a terminal.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) } == 0;
    (ok && ws.ws_col > 0).then_some(usize::from(ws.ws_col))
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
    table_within(rows, None)
}

/// A cell cut to `width` characters, its last one `…` when cut.
fn cut(s: &str, width: usize) -> String {
    if s.chars().count() > width {
        format!(
            "{}…",
            s.chars().take(width.saturating_sub(1)).collect::<String>()
        )
    } else {
        s.to_string()
    }
}

/// Remove the items whose place in `drop` is true.
fn drop_where<T>(items: &mut Vec<T>, drop: &[bool]) {
    let mut at = drop.iter();
    items.retain(|_| !at.next().copied().unwrap_or(false));
}

/// Narrowest a column is cut to before columns are left out.
const MIN_CUT: usize = 12;

/// Column widths that fit `columns` (two spaces between columns): the widest column is cut
/// first, never below [`MIN_CUT`] or its header; how many columns fit after that.
fn fit(widths: &mut [usize], headers: &[usize], columns: usize) -> usize {
    let total = |w: &[usize]| w.iter().sum::<usize>() + 2 * w.len().saturating_sub(1);
    while total(widths) > columns {
        let floor = |i: usize| MIN_CUT.max(headers[i]);
        let Some(i) = (0..widths.len())
            .filter(|&i| widths[i] > floor(i))
            .max_by_key(|&i| widths[i])
        else {
            break;
        };
        let over = total(widths) - columns;
        widths[i] = widths[i].saturating_sub(over).max(floor(i));
    }
    let mut keep = widths.len();
    while keep > 1 && total(&widths[..keep]) > columns {
        keep -= 1;
    }
    keep
}

/// A table, no wider than `columns` when given (see [`render_value_within`]).
fn table_within(rows: &[Value], columns: Option<usize>) -> String {
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
    let mut cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            cols.iter()
                .map(|c| cut(&cell(r.get(c).unwrap_or(&Value::Null)), MAX))
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = cols
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
    let mut left_out: Vec<String> = Vec::new();
    if let Some(columns) = columns.filter(|c| widths.iter().sum::<usize>() + 2 * widths.len() > *c)
    {
        // Too wide: columns empty in every row go first, silently (they say nothing).
        let empty: Vec<bool> = (0..cols.len())
            .map(|i| cells.iter().all(|r| r[i].is_empty()))
            .collect();
        drop_where(&mut cols, &empty);
        drop_where(&mut widths, &empty);
        for row in &mut cells {
            drop_where(row, &empty);
        }
        let headers: Vec<usize> = cols.iter().map(|c| c.chars().count()).collect();
        let keep = fit(&mut widths, &headers, columns);
        left_out = cols.split_off(keep);
        widths.truncate(keep);
        for row in &mut cells {
            row.truncate(keep);
            for (c, w) in row.iter_mut().zip(&widths) {
                *c = cut(c, *w);
            }
        }
    }
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
    if !left_out.is_empty() {
        let names: Vec<String> = left_out.iter().map(|c| c.to_uppercase()).collect();
        out.push_str(&format!("\n(not shown: {}; see --json)", names.join(", ")));
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

    #[test]
    fn a_table_fits_a_narrow_terminal_cutting_wide_cells_then_leaving_columns_out() {
        let row = |h: &str| {
            serde_json::json!({"host": h, "id": "r2", "image": format!("registry.example.org/lab/{}", "x".repeat(40)),
                "outcome": "superseded", "time": "2026-12-07T03:22:12Z", "run_id": "vm-0026970-1796613718800",
                "params": "compose=compose.yml context=. health_path=/ health_port=0 no_registry=true",
                "user": "root", "files": "docker-compose.yml=e4fad6099f70",
                "pinned": format!("sha256:{}", "7b69".repeat(16))})
        };
        let v = serde_json::json!([row("host1"), row("host2")]);
        let wide = render_value_within(&v, None);
        assert!(wide.lines().any(|l| l.chars().count() > 80), "{wide}");
        let t = render_value_within(&v, Some(80));
        for l in t.lines() {
            assert!(l.chars().count() <= 80, "{}: {l}", l.chars().count());
        }
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("HOST   ID  IMAGE"), "{t}");
        assert!(
            lines[1].contains("registry.ex") && lines[1].contains('…'),
            "{t}"
        );
        assert!(lines.last().unwrap().starts_with("(not shown: "), "{t}");
        assert!(lines.last().unwrap().contains("PINNED"), "{t}");
        // Wide enough: unchanged.
        assert_eq!(render_value_within(&v, Some(1000)), wide);
    }
}
