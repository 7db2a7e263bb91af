//! The function reference, read from the engine's own metadata (`hoist doc`, `:help`, REPL
//! completion): it cannot drift from what scripts can call.

use rhai::Engine;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FnDoc {
    pub name: String,
    /// e.g. `run(h: Host, cmd: Dynamic) -> Output`
    pub signature: String,
    /// The first parameter's type when the function reads as a method (`h.run(...)`).
    pub this_type: Option<String>,
    pub params: Vec<String>,
    /// The last parameter (an option map) may be left out: one entry stands for both arities.
    pub opts_optional: bool,
    /// A property, read without a call (`h.name`): its signature is `h.name -> String`.
    pub property: bool,
    pub doc: String,
    /// What it does under --dry-run ([`super::fidelity`]); none: not declared.
    pub dry_run: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    functions: Vec<MetaFn>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct MetaFn {
    name: String,
    #[serde(default)]
    params: Vec<MetaParam>,
    #[serde(default)]
    return_type: String,
    #[serde(default)]
    doc_comments: Vec<String>,
}

#[derive(serde::Deserialize)]
struct MetaParam {
    #[serde(default)]
    name: Option<String>,
    #[serde(default, rename = "type")]
    typ: Option<String>,
}

/// hoist's own functions and properties (those registered with documentation), sorted by name.
pub fn functions(engine: &Engine) -> Vec<FnDoc> {
    let json = engine.gen_fn_metadata_to_json(false).unwrap_or_default();
    let meta: Meta = serde_json::from_str(&json).unwrap_or(Meta {
        functions: Vec::new(),
    });
    let mut out: Vec<FnDoc> = meta
        .functions
        .into_iter()
        .filter(|f| !f.doc_comments.is_empty())
        .filter_map(|f| {
            // A property is registered as its getter, `get$name`; no other `$` name is hoist's.
            let (name, property) = match f.name.strip_prefix("get$") {
                Some(p) => (p.to_string(), true),
                None if f.name.contains('$') => return None,
                None => (f.name.clone(), false),
            };
            let params: Vec<String> = f
                .params
                .iter()
                .map(|p| match (&p.name, &p.typ) {
                    // Rhai's metadata drops the spaces of `#{sudo, cwd}`.
                    (Some(n), Some(t)) if n != "_" && t.starts_with("#{") => {
                        format!("{n}: {}", t.replace(',', ", "))
                    }
                    (Some(n), Some(t)) if n != "_" => format!("{n}: {t}"),
                    (Some(n), None) => n.clone(),
                    (_, Some(t)) => t.clone(),
                    _ => "_".into(),
                })
                .collect();
            let ret = if f.return_type.is_empty() || f.return_type == "()" {
                String::new()
            } else {
                format!(" -> {}", f.return_type)
            };
            let this_type = f
                .params
                .first()
                .and_then(|p| p.typ.clone())
                .filter(|t| crate::script::api::TYPE_NAMES.contains(&t.as_str()));
            let doc = clean_doc_comments(f.doc_comments.iter().map(String::as_str));
            let signature = match (property, f.params.first().and_then(|p| p.name.as_deref())) {
                (true, Some(receiver)) => format!("{receiver}.{name}{ret}"),
                _ => format!("{name}({}){ret}", params.join(", ")),
            };
            let dry_run = if property {
                Some(super::fidelity::of_property(this_type.as_deref(), &name).text())
            } else {
                super::fidelity::of(this_type.as_deref(), &name).map(|d| d.text())
            };
            Some(FnDoc {
                signature,
                name,
                this_type,
                params,
                opts_optional: false,
                property,
                doc,
                dry_run,
            })
        })
        .collect();
    // A receiver's overloads together, so that the arities of one method meet.
    out.sort_by(|a, b| {
        a.name
            .cmp(&b.name)
            .then(a.this_type.cmp(&b.this_type))
            .then(a.params.len().cmp(&b.params.len()))
            // Overloads of one arity (`sleep(i64)`, `sleep(f64)`): the engine lists them in no
            // fixed order, and the generated book page must not change between two runs.
            .then(a.signature.cmp(&b.signature))
    });
    merge_optional_opts(out)
}

/// `f(a)` and `f(a, opts)` with one doc are one entry, `f(a[, opts: #{..}])`: the binder
/// registers both arities of a function that takes options.
fn merge_optional_opts(sorted: Vec<FnDoc>) -> Vec<FnDoc> {
    let mut out: Vec<FnDoc> = Vec::with_capacity(sorted.len());
    for f in sorted {
        if let Some(prev) = out.last_mut()
            && !prev.opts_optional
            && prev.name == f.name
            && prev.doc == f.doc
            && prev.this_type == f.this_type
            && f.params.len() == prev.params.len() + 1
            && f.params.starts_with(&prev.params)
            && f.params.last().is_some_and(|p| p.starts_with("opts: #{"))
        {
            let opts = f.params.last().cloned().unwrap_or_default();
            let sep = if prev.params.is_empty() { "" } else { ", " };
            let head = prev.params.join(", ");
            let ret = f
                .signature
                .rsplit_once(") -> ")
                .map(|(_, r)| format!(" -> {r}"))
                .unwrap_or_default();
            prev.signature = format!("{}({head}[{sep}{opts}]){ret}", f.name);
            prev.params = f.params;
            prev.opts_optional = true;
            continue;
        }
        out.push(f);
    }
    out
}

/// Every callable name the engine knows, including Rhai's standard library.
pub fn all_names(engine: &Engine) -> std::collections::BTreeSet<String> {
    engine
        .gen_fn_signatures(true)
        .iter()
        .filter_map(|s| s.split('(').next())
        .map(|n| {
            n.trim()
                .trim_start_matches("get$")
                .trim_start_matches("set$")
                .to_string()
        })
        .filter(|n| !n.is_empty())
        .collect()
}

/// Doc comments as registered (`/// line`, `/** block */`) turned into plain text.
pub fn clean_doc_comments<'a>(comments: impl IntoIterator<Item = &'a str>) -> String {
    comments
        .into_iter()
        .flat_map(str::lines)
        .map(|l| {
            l.trim_start()
                .trim_start_matches("///")
                .trim_start_matches("/**")
                .trim_end_matches("*/")
                .trim()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}
