//! What the engine can call, read from its own metadata (never kept by hand): functions,
//! methods per receiver type, properties, return types and the keys of option maps. The
//! completer and `:help` ask this.

use std::collections::BTreeSet;

use rhai::Engine;

/// One registered function (or property getter), as the completer sees it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    /// The first parameter's type, normalized (see [`normalize`]): what `x.name()` needs `x` to be.
    pub receiver: Option<String>,
    pub returns: Option<String>,
    /// A property (`h.name`), not a call.
    pub property: bool,
    pub num_params: usize,
    pub signature: String,
    pub doc: String,
}

#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub entries: Vec<Entry>,
}

impl Catalog {
    /// Everything the engine knows, Rhai's standard library included.
    pub fn from_engine(engine: &Engine) -> Self {
        let json = engine.gen_fn_metadata_to_json(true).unwrap_or_default();
        let meta: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
        // hoist's own functions say whether they read as methods (`h.run()`) or not
        // (`confirm("sure?")` takes a string but is no method of strings).
        let not_methods: Vec<(String, usize)> = crate::script::doc::functions(engine)
            .into_iter()
            .filter(|f| f.this_type.is_none())
            .map(|f| (f.name, f.params.len()))
            .collect();
        let mut entries = Vec::new();
        for f in meta["functions"].as_array().into_iter().flatten() {
            let Some(raw) = f["name"].as_str() else {
                continue;
            };
            let (name, property) = match raw.strip_prefix("get$") {
                Some(p) => (p, true),
                None => (raw, false),
            };
            // Operators, setters and indexers are not something to complete.
            if !is_identifier(name) {
                continue;
            }
            let params = f["params"].as_array().cloned().unwrap_or_default();
            let receiver = params
                .first()
                .and_then(|p| p["type"].as_str())
                .map(normalize)
                .filter(|_| !not_methods.contains(&(name.to_string(), params.len())));
            let doc = crate::script::doc::clean_doc_comments(
                f["docComments"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c.as_str()),
            );
            entries.push(Entry {
                name: name.to_string(),
                receiver,
                returns: f["returnType"].as_str().and_then(|r| {
                    let r = normalize(r);
                    (!r.is_empty() && r != "()" && r != "Dynamic").then_some(r)
                }),
                property,
                num_params: params.len(),
                signature: if property {
                    // `get$addr(_: &mut Host) -> string` reads better as what it is.
                    let ret = f["returnType"].as_str().unwrap_or("?");
                    format!(".{name} -> {ret} (property)")
                } else {
                    f["signature"].as_str().unwrap_or(raw).to_string()
                },
                doc: doc.trim().to_string(),
            });
        }
        Catalog { entries }
    }

    /// Names callable as `name(...)`.
    pub fn functions(&self) -> BTreeSet<&str> {
        self.entries
            .iter()
            .filter(|e| !e.property)
            .map(|e| e.name.as_str())
            .collect()
    }

    /// Does some overload of the plain function `name` take arguments?
    pub fn takes_args(&self, name: &str) -> bool {
        self.entries
            .iter()
            .any(|e| e.name == name && !e.property && e.num_params > 0)
    }

    /// Methods and properties a value of type `ty` has, as (name, is_property, takes_args).
    pub fn members(&self, ty: &str) -> Vec<(String, bool, bool)> {
        let mut out: Vec<(String, bool, bool)> = Vec::new();
        for e in self
            .entries
            .iter()
            .filter(|e| e.receiver.as_deref() == Some(ty))
        {
            let takes_args = e.num_params > 1;
            match out
                .iter_mut()
                .find(|(n, p, _)| *n == e.name && *p == e.property)
            {
                Some(existing) => existing.2 |= takes_args,
                None => out.push((e.name.clone(), e.property, takes_args)),
            }
        }
        out.sort();
        out
    }

    /// What `recv.name(...)` (or the property `recv.name`) returns, when the metadata says.
    pub fn member_type(&self, recv: &str, name: &str) -> Option<String> {
        self.entries
            .iter()
            .find(|e| e.name == name && e.receiver.as_deref() == Some(recv))
            .and_then(|e| e.returns.clone())
    }

    /// What the plain function `name(...)` returns (the first overload that says).
    pub fn function_type(&self, name: &str) -> Option<String> {
        self.entries
            .iter()
            .filter(|e| e.name == name && !e.property)
            .find_map(|e| e.returns.clone())
    }

    /// Documented entries named `name` (for `:help` and completion descriptions).
    pub fn documented(&self, name: &str) -> Vec<&Entry> {
        self.entries
            .iter()
            .filter(|e| e.name == name && !e.doc.is_empty())
            .collect()
    }

    /// The keys of the option map `name(...)` takes, read from its doc (`opts: #{sudo, cwd}`),
    /// for a receiver of type `recv` if known.
    pub fn option_keys(&self, name: &str, recv: Option<&str>) -> Vec<String> {
        let mut keys = BTreeSet::new();
        for e in self
            .entries
            .iter()
            .filter(|e| e.name == name && !e.property)
        {
            if let (Some(r), Some(er)) = (recv, e.receiver.as_deref())
                && r != er
            {
                continue;
            }
            keys.extend(map_keys_in_doc(&e.doc));
        }
        keys.into_iter().collect()
    }
}

/// Metadata spells types the Rust way (`&mut ImmutableString`, `&str`, `Array`); a value in
/// the scope says `string`, `array`. One spelling for both.
pub fn normalize(ty: &str) -> String {
    let t = ty.trim().trim_start_matches("&mut ").trim();
    match t {
        "&str" | "str" | "String" | "ImmutableString" | "string" => "string".into(),
        "Array" | "array" => "array".into(),
        "Map" | "map" => "map".into(),
        "INT" | "i64" => "i64".into(),
        "FLOAT" | "f64" => "f64".into(),
        "Blob" | "blob" => "blob".into(),
        "FnPtr" | "Fn" => "Fn".into(),
        other => other.to_string(),
    }
}

pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

/// Keys of every `#{a, b: 1, c (s)}` written in a doc text (top level of each map only).
pub fn map_keys_in_doc(doc: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let bytes: Vec<char> = doc.chars().collect();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == '#' && bytes[i + 1] == '{' {
            let mut depth = 1;
            let mut item = String::new();
            let mut j = i + 2;
            while j < bytes.len() && depth > 0 {
                let c = bytes[j];
                match c {
                    '{' | '(' | '[' => depth += 1,
                    '}' | ')' | ']' => depth -= 1,
                    _ => {}
                }
                if depth == 0 || (depth == 1 && c == ',') {
                    let key: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if is_identifier(&key) {
                        keys.push(key);
                    }
                    item.clear();
                } else if depth == 1 {
                    // Nested values (`env: #{..}`, `timeout (s)`) are skipped: the key
                    // before them is what counts.
                    item.push(c);
                }
                j += 1;
            }
            i = j;
        } else {
            i += 1;
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_keys_come_from_the_doc_text() {
        let doc = "Run a command.\nopts: #{sudo, cwd, env: #{..}, stdin, timeout (s), check: true, stream}.";
        assert_eq!(
            map_keys_in_doc(doc),
            ["sudo", "cwd", "env", "stdin", "timeout", "check", "stream"]
        );
        assert_eq!(
            map_keys_in_doc("An SSH host from #{host, user, port, key, jump}."),
            ["host", "user", "port", "key", "jump"]
        );
    }

    #[test]
    fn types_are_spelled_one_way() {
        assert_eq!(normalize("&mut ImmutableString"), "string");
        assert_eq!(normalize("&str"), "string");
        assert_eq!(normalize("&mut Host"), "Host");
        assert_eq!(normalize("Array"), "array");
    }
}
