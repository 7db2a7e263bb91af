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
    /// The keys of the option maps it takes (from its parameters' types, see
    /// [`crate::script::options::type_of`]).
    pub option_keys: Vec<String>,
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
            .flat_map(|f| {
                let n = f.params.len();
                // An entry with an optional option map stands for both arities.
                let shorter = f.opts_optional.then(|| (f.name.clone(), n - 1));
                std::iter::once((f.name, n)).chain(shorter)
            })
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
                option_keys: params
                    .iter()
                    .filter_map(|p| p["type"].as_str())
                    .filter_map(crate::script::options::keys_in_type)
                    .flatten()
                    .collect(),
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

    /// The keys of the option map `name(...)` takes, from its parameter's type, for a
    /// receiver of type `recv` if known.
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
            keys.extend(e.option_keys.iter().cloned());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_spelled_one_way() {
        assert_eq!(normalize("&mut ImmutableString"), "string");
        assert_eq!(normalize("&str"), "string");
        assert_eq!(normalize("&mut Host"), "Host");
        assert_eq!(normalize("Array"), "array");
    }
}
