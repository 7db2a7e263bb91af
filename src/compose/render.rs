//! From compose file texts and variables to the interpolated YAML and the typed model —
//! pure, so a plan or `p.render()` needs no compose tool and no engine. The steps are
//! compose's: parse each file, interpolate every string value (keys are left alone), merge
//! the files in order, then validate the result against the model.

use serde_yaml::{Mapping, Value};

use super::interpolate::{InterpolateError, interpolate};
use super::model::ComposeFile;
use crate::error::{Error, Result};

/// One compose file: where it came from (for errors) and its text.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub text: String,
}

/// The result of rendering: the merged, interpolated YAML and its typed form.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub value: Value,
    pub model: ComposeFile,
}

impl Rendered {
    pub fn yaml(&self) -> String {
        serde_yaml::to_string(&self.value).unwrap_or_default()
    }
}

/// Render `sources` (in `-f` order) with variables from `lookup`.
pub fn render(sources: &[Source], lookup: &dyn Fn(&str) -> Option<String>) -> Result<Rendered> {
    if sources.is_empty() {
        return Err(Error::usage("no compose file to render"));
    }
    let mut merged = Value::Mapping(Mapping::new());
    for src in sources {
        let mut doc: Value = serde_yaml::from_str(&src.text)
            .map_err(|e| Error::usage(format!("{} is not valid YAML: {e}", src.name)))?;
        if !doc.is_mapping() {
            return Err(Error::usage(format!(
                "{}: a compose file is a mapping with `services:` at the top",
                src.name
            )));
        }
        interpolate_value(&mut doc, "", &|e, path| located(src, e, path), lookup)?;
        merge(&mut merged, doc, "");
    }
    let names: Vec<&str> = sources.iter().map(|s| s.name.as_str()).collect();
    let model = validate(&merged, &names.join(" + "))?;
    Ok(Rendered {
        value: merged,
        model,
    })
}

/// An interpolation error with the file, the line and the YAML path.
fn located(src: &Source, e: InterpolateError, path: &str) -> Error {
    let needle = e.needle();
    let line = src
        .text
        .lines()
        .position(|l| {
            let code = l.trim_start();
            !code.starts_with('#') && (l.contains(&format!("${{{needle}")) || l.contains(&needle))
        })
        .map(|i| i + 1);
    let at = match line {
        Some(l) => format!("{}:{l}", src.name),
        None => src.name.clone(),
    };
    Error::usage(format!("{at}: {path}: {e}"))
}

fn interpolate_value(
    v: &mut Value,
    path: &str,
    err: &dyn Fn(InterpolateError, &str) -> Error,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<()> {
    match v {
        Value::String(s) => {
            *s = interpolate(s, lookup).map_err(|e| err(e, path))?;
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                interpolate_value(item, &format!("{path}[{i}]"), err, lookup)?;
            }
        }
        Value::Mapping(m) => {
            for (k, item) in m.iter_mut() {
                let key = key_text(k);
                let p = if path.is_empty() {
                    key
                } else {
                    format!("{path}.{key}")
                };
                interpolate_value(item, &p, err, lookup)?;
            }
        }
        Value::Tagged(t) => interpolate_value(&mut t.value, path, err, lookup)?,
        _ => {}
    }
    Ok(())
}

fn key_text(k: &Value) -> String {
    match k {
        Value::String(s) => s.clone(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

/// Keys whose lists add up across files (compose's merge rules); other lists are replaced.
const APPENDED_LISTS: &[&str] = &[
    "ports",
    "expose",
    "external_links",
    "dns",
    "dns_search",
    "tmpfs",
    "cap_add",
    "cap_drop",
    "devices",
    "volumes",
    "env_file",
    "profiles",
    "security_opt",
    "extra_hosts",
];

/// Merge an override document into `base`: mappings merge key by key (list-form
/// `environment`/`labels` are turned into mappings first), appended lists add the items not
/// yet present, every other value is replaced.
fn merge(base: &mut Value, over: Value, key: &str) {
    match (base, over) {
        (Value::Mapping(b), Value::Mapping(o)) => {
            for (k, v) in o {
                let name = key_text(&k);
                match b.get_mut(&k) {
                    Some(existing) => {
                        if matches!(name.as_str(), "environment" | "labels" | "args") {
                            to_mapping(existing);
                            let mut v = v;
                            to_mapping(&mut v);
                            merge(existing, v, &name);
                        } else {
                            merge(existing, v, &name);
                        }
                    }
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (Value::Sequence(b), Value::Sequence(o)) if APPENDED_LISTS.contains(&key) => {
            for item in o {
                if !b.contains(&item) {
                    b.push(item);
                }
            }
        }
        (b, o) => *b = o,
    }
}

/// `["A=1", "B"]` as `{A: "1", B: null}`.
fn to_mapping(v: &mut Value) {
    if let Value::Sequence(items) = v {
        let mut m = Mapping::new();
        for item in items.iter() {
            let text = key_text(item);
            match text.split_once('=') {
                Some((k, val)) => m.insert(k.into(), val.into()),
                None => m.insert(text.into(), Value::Null),
            };
        }
        *v = Value::Mapping(m);
    }
}

/// Remove `x-*` extension keys where compose allows them (top level, services, and the
/// top-level networks/volumes/secrets/configs entries) so the strict model sees the rest.
fn without_extensions(v: &Value) -> Value {
    let mut v = v.clone();
    let strip = |m: &mut Mapping| m.retain(|k, _| !key_text(k).starts_with("x-"));
    if let Value::Mapping(top) = &mut v {
        strip(top);
        for section in ["services", "networks", "volumes", "secrets", "configs"] {
            if let Some(Value::Mapping(entries)) = top.get_mut(section) {
                for (_, entry) in entries.iter_mut() {
                    if let Value::Mapping(m) = entry {
                        strip(m);
                    }
                }
            }
        }
    }
    v
}

/// Deserialize into the model and apply the checks compose makes beyond the schema.
pub fn validate(value: &Value, name: &str) -> Result<ComposeFile> {
    let clean = without_extensions(value);
    let model: ComposeFile = serde_path_to_error::deserialize(clean).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        Error::usage(format!("{name} is invalid: {path}: {inner}"))
    })?;
    if model.services.is_empty() {
        return Err(Error::usage(format!("{name} is invalid: no services")));
    }
    for (svc, s) in &model.services {
        let ok_name = !svc.is_empty()
            && svc
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        if !ok_name {
            return Err(Error::usage(format!(
                "{name} is invalid: service name `{svc}` may only use letters, digits, `.`, `_` and `-`"
            )));
        }
        if s.image.is_none() && s.build.is_none() {
            return Err(Error::usage(format!(
                "{name} is invalid: service `{svc}` has neither an image nor a build context"
            )));
        }
        if let Some(p) = &s.pull_policy
            && ![
                "always",
                "never",
                "missing",
                "if_not_present",
                "build",
                "daily",
                "weekly",
            ]
            .contains(&p.as_str())
            && !p.starts_with("every_")
        {
            return Err(Error::usage(format!(
                "{name} is invalid: services.{svc}.pull_policy `{p}` is not one of always, never, missing, build"
            )));
        }
        if let Some(deps) = &s.depends_on {
            let names: Vec<String> = match deps {
                super::model::DependsOn::List(l) => l.clone(),
                super::model::DependsOn::Map(m) => m.keys().cloned().collect(),
            };
            for d in names {
                if !model.services.contains_key(&d) {
                    return Err(Error::usage(format!(
                        "{name} is invalid: service `{svc}` depends on undefined service `{d}`"
                    )));
                }
            }
        }
    }
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(text: &str) -> Vec<Source> {
        vec![Source {
            name: "docker-compose.yml".into(),
            text: text.into(),
        }]
    }

    #[test]
    fn missing_required_variable_names_file_line_and_variable() {
        let text =
            "services:\n  web:\n    image: x\n    volumes:\n      - ${DATA:?set DATA}:/data\n";
        let e = render(&src(text), &|_| None).unwrap_err();
        assert!(
            e.message
                .contains("docker-compose.yml:5: services.web.volumes[0]: required variable DATA"),
            "{}",
            e.message
        );
    }

    #[test]
    fn unknown_key_and_wrong_type_are_rejected_with_their_path() {
        let e = render(
            &src("services:\n  web:\n    image: x\n    bogus: 1\n"),
            &|_| None,
        )
        .unwrap_err();
        assert!(e.message.contains("services.web"), "{}", e.message);
        assert!(e.message.contains("bogus"), "{}", e.message);
        let e = render(
            &src("services:\n  web:\n    image: x\n    ports: 8080\n"),
            &|_| None,
        )
        .unwrap_err();
        assert!(e.message.contains("services.web.ports"), "{}", e.message);
        // Extensions are fine.
        render(
            &src("x-common: &c {a: 1}\nservices:\n  web:\n    image: x\n    x-note: hi\n"),
            &|_| None,
        )
        .unwrap();
    }

    #[test]
    fn override_files_merge() {
        let a = Source {
            name: "a.yml".into(),
            text: "services:\n  web:\n    image: x:1\n    ports: ['80:80']\n    environment: [A=1, B=2]\n".into(),
        };
        let b = Source {
            name: "b.yml".into(),
            text: "services:\n  web:\n    image: x:2\n    ports: ['443:443']\n    environment: {B: '3'}\n".into(),
        };
        let r = render(&[a, b], &|_| None).unwrap();
        let web = &r.model.services["web"];
        assert_eq!(web.image.as_deref(), Some("x:2"));
        assert_eq!(web.ports.as_ref().unwrap().len(), 2);
        let env = web.environment.as_ref().unwrap().pairs();
        assert_eq!(
            env,
            vec![
                ("A".into(), Some("1".into())),
                ("B".into(), Some("3".into()))
            ]
        );
    }
}
