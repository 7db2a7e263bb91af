//! One recipe parameter: `//! @param name[: type] [= default] doc`, typed by its default (or by
//! the declared type). Every value a parameter receives — a command-line flag, `--set`, an
//! inventory var — is checked and converted here, before the recipe runs, so a bad value is a
//! usage error naming where it came from and what was expected.

use serde_json::Value;

/// What a parameter holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    String,
    Int,
    Float,
    Bool,
    Array,
    Map,
}

impl ParamType {
    /// The type named in `@param name: TYPE`.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "string" | "str" => ParamType::String,
            "int" => ParamType::Int,
            "float" => ParamType::Float,
            "bool" => ParamType::Bool,
            "array" => ParamType::Array,
            "map" => ParamType::Map,
            _ => return None,
        })
    }

    /// The type of a default value (`()`, JSON null, has none).
    pub fn of(v: &Value) -> Option<Self> {
        Some(match v {
            Value::String(_) => ParamType::String,
            Value::Number(n) if n.is_i64() || n.is_u64() => ParamType::Int,
            Value::Number(_) => ParamType::Float,
            Value::Bool(_) => ParamType::Bool,
            Value::Array(_) => ParamType::Array,
            Value::Object(_) => ParamType::Map,
            Value::Null => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Int => "int",
            ParamType::Float => "float",
            ParamType::Bool => "bool",
            ParamType::Array => "array",
            ParamType::Map => "map",
        }
    }

    /// What a value of this type looks like, for error messages.
    pub fn expected(self) -> &'static str {
        match self {
            ParamType::String => "a string",
            ParamType::Int => "an integer",
            ParamType::Float => "a number",
            ParamType::Bool => "true or false",
            ParamType::Array => "a list (a,b,c or a JSON array)",
            ParamType::Map => "a map (k=v,k2=v2 or a JSON object)",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    pub ty: ParamType,
    /// The type of an array's items (from the default's first item; else strings).
    pub item: ParamType,
    /// None: the parameter is required. `Some(Null)`: optional, `()` when not given.
    pub default: Option<Value>,
    pub doc: String,
}

impl Param {
    /// The flag as users type it.
    pub fn flag(&self) -> String {
        format!("--{}", self.name.replace('_', "-"))
    }

    /// The parameter's type and default, for `--help`: `int, default 0`.
    pub fn describe(&self) -> String {
        let ty = match self.ty {
            ParamType::Array if self.item != ParamType::String => {
                format!("array of {}", self.item.name())
            }
            t => t.name().to_string(),
        };
        match &self.default {
            None => format!("{ty}, required"),
            Some(Value::Null) => format!("{ty}, optional"),
            Some(d) => format!("{ty}, default {d}"),
        }
    }

    /// `name[: type] [= default] doc`.
    pub fn parse(text: &str) -> Result<Param, String> {
        let name_end = text
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(text.len());
        let (name, mut rest) = text.split_at(name_end);
        if name.is_empty() {
            return Err("the parameter name must be an identifier".into());
        }
        rest = rest.trim_start();
        let mut declared = None;
        if let Some(after) = rest.strip_prefix(':') {
            let after = after.trim_start();
            let end = after
                .find(|c: char| !c.is_ascii_alphanumeric())
                .unwrap_or(after.len());
            let ty = &after[..end];
            declared = Some(ParamType::parse(ty).ok_or_else(|| {
                format!("unknown type `{ty}` (string, int, float, bool, array or map)")
            })?);
            rest = after[end..].trim_start();
        }
        let (default, doc) = match rest.strip_prefix('=') {
            Some(after) => {
                let after = after.trim_start();
                if let Some(doc) = after.strip_prefix("()") {
                    (Some(Value::Null), doc.trim().to_string())
                } else {
                    let mut de = serde_json::Deserializer::from_str(after).into_iter::<Value>();
                    let value = match de.next() {
                        Some(Ok(v)) => v,
                        _ => {
                            return Err(
                                "the default must be () or a JSON value (\"text\", 3, 1.5, true, [..], {..})"
                                    .into(),
                            );
                        }
                    };
                    let used = de.byte_offset();
                    (Some(value), after[used..].trim().to_string())
                }
            }
            None => (None, rest.to_string()),
        };
        let from_default = default.as_ref().and_then(ParamType::of);
        let ty = match (declared, from_default) {
            (Some(d), Some(f)) if d != f && !(d == ParamType::Float && f == ParamType::Int) => {
                return Err(format!(
                    "declared {} but the default is {}",
                    d.name(),
                    f.expected()
                ));
            }
            (Some(d), _) => d,
            (None, Some(f)) => f,
            // A parameter that is required or defaults to () and names no type is a string.
            (None, None) => ParamType::String,
        };
        let item = match &default {
            Some(Value::Array(items)) => items
                .first()
                .and_then(ParamType::of)
                .unwrap_or(ParamType::String),
            _ => ParamType::String,
        };
        let default = match (ty, default) {
            (ParamType::Float, Some(Value::Number(n))) => {
                Some(serde_json::json!(n.as_f64().unwrap_or_default()))
            }
            (_, d) => d,
        };
        Ok(Param {
            name: name.to_string(),
            ty,
            item,
            default,
            doc,
        })
    }

    /// The values of a flag given on the command line (one per occurrence; `None` for a bare
    /// `--flag`). A list or map may be given once with commas or by repeating the flag; a
    /// scalar given twice takes the last.
    pub fn from_flags(&self, given: &[Option<String>]) -> Result<Value, String> {
        match self.ty {
            ParamType::Array => {
                let mut items = Vec::new();
                for g in given {
                    let text = g.as_deref().ok_or_else(|| self.needs_value())?;
                    items.extend(self.list_items(text)?);
                }
                Ok(Value::Array(items))
            }
            ParamType::Map => {
                let mut map = serde_json::Map::new();
                for g in given {
                    let text = g.as_deref().ok_or_else(|| self.needs_value())?;
                    map.extend(map_items(text).map_err(|m| self.bad(text, &m))?);
                }
                Ok(Value::Object(map))
            }
            // A scalar given twice takes the last value, as a later flag overrides an earlier.
            _ => match given.last().cloned().flatten() {
                None if self.ty == ParamType::Bool => Ok(Value::Bool(true)),
                None => Err(self.needs_value()),
                Some(text) => scalar(self.ty, &text).ok_or_else(|| self.bad(&text, "")),
            },
        }
    }

    /// A value from `--set` or the inventory (already typed, or text to read as the type).
    pub fn from_value(&self, v: &Value) -> Result<Value, String> {
        let show = || match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match (self.ty, v) {
            (_, Value::Null) if self.default == Some(Value::Null) => Ok(Value::Null),
            (ParamType::String, Value::String(_)) => Ok(v.clone()),
            // Numbers and booleans are also text: `--set tag=2` is the tag "2".
            (ParamType::String, Value::Number(_) | Value::Bool(_)) => {
                Ok(Value::String(v.to_string()))
            }
            (ParamType::Array, Value::String(s)) => Ok(Value::Array(self.list_items(s)?)),
            (ParamType::Array, Value::Array(items)) => items
                .iter()
                .map(|i| self.item_value(i))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            (ParamType::Map, Value::Object(_)) => Ok(v.clone()),
            (ParamType::Map, Value::String(s)) => {
                map_items(s).map(Value::Object).map_err(|m| self.bad(s, &m))
            }
            (ty, Value::String(s)) => scalar(ty, s).ok_or_else(|| self.bad(s, "")),
            (ty, other) => typed_scalar(ty, other).ok_or_else(|| self.bad(&show(), "")),
        }
    }

    fn item_value(&self, v: &Value) -> Result<Value, String> {
        let text = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let converted = match v {
            Value::String(s) => scalar(self.item, s),
            other if self.item == ParamType::String => match other {
                Value::Number(_) | Value::Bool(_) => Some(Value::String(other.to_string())),
                _ => None,
            },
            other => typed_scalar(self.item, other),
        };
        converted.ok_or_else(|| {
            format!(
                "{}: item `{text}` is not {}",
                self.flag(),
                self.item.expected()
            )
        })
    }

    /// `a,b,c` (or a JSON array), each item read as the item type; "" is the empty list.
    fn list_items(&self, text: &str) -> Result<Vec<Value>, String> {
        let t = text.trim();
        if t.starts_with('[') {
            return match serde_json::from_str::<Value>(t) {
                Ok(Value::Array(items)) => items.iter().map(|i| self.item_value(i)).collect(),
                _ => Err(self.bad(text, "not a JSON array")),
            };
        }
        if t.is_empty() {
            return Ok(Vec::new());
        }
        t.split(',')
            .map(|i| self.item_value(&Value::String(i.trim().to_string())))
            .collect()
    }

    fn needs_value(&self) -> String {
        format!("{} needs a value: {}", self.flag(), self.ty.expected())
    }

    fn bad(&self, text: &str, why: &str) -> String {
        let default = match &self.default {
            Some(Value::Null) | None => String::new(),
            Some(d) => format!(" (its default is {d})"),
        };
        let why = if why.is_empty() {
            String::new()
        } else {
            format!(": {why}")
        };
        format!(
            "{} `{text}`: expected {}{default}{why}",
            self.flag(),
            self.ty.expected()
        )
    }
}

/// Text read as a scalar of `ty`: None when it is not one.
fn scalar(ty: ParamType, text: &str) -> Option<Value> {
    let t = text.trim();
    match ty {
        ParamType::String => Some(Value::String(text.to_string())),
        ParamType::Int => t.parse::<i64>().ok().map(Value::from),
        ParamType::Float => t
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Value::from),
        ParamType::Bool => match t {
            "true" | "yes" | "1" => Some(Value::Bool(true)),
            "false" | "no" | "0" => Some(Value::Bool(false)),
            _ => None,
        },
        ParamType::Array | ParamType::Map => None,
    }
}

/// A typed (non-text) value checked against a scalar type; an integer serves as a float.
fn typed_scalar(ty: ParamType, v: &Value) -> Option<Value> {
    match (ty, v) {
        (ParamType::Int, Value::Number(n)) => n.as_i64().map(Value::from),
        (ParamType::Float, Value::Number(n)) => n.as_f64().map(Value::from),
        (ParamType::Bool, Value::Bool(_)) => Some(v.clone()),
        _ => None,
    }
}

/// `k=v,k2=v2` (values are strings) or a JSON object.
fn map_items(text: &str) -> Result<serde_json::Map<String, Value>, String> {
    let t = text.trim();
    if t.starts_with('{') {
        return match serde_json::from_str::<Value>(t) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err("not a JSON object".into()),
        };
    }
    let mut m = serde_json::Map::new();
    for pair in t.split(',').filter(|p| !p.trim().is_empty()) {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| format!("`{pair}` is not key=value"))?;
        m.insert(k.trim().to_string(), Value::String(v.to_string()));
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(text: &str) -> Param {
        Param::parse(text).unwrap()
    }

    #[test]
    fn the_default_gives_the_type() {
        assert_eq!(p("port = 8080 the port").ty, ParamType::Int);
        assert_eq!(p("port = 8080 the port").doc, "the port");
        assert_eq!(p("ratio = 0.5").ty, ParamType::Float);
        assert_eq!(p("cmd = \"\"").ty, ParamType::String);
        assert_eq!(p("errors = [\"ERROR\"]").ty, ParamType::Array);
        assert_eq!(p("ports = [80]").item, ParamType::Int);
        assert_eq!(p("labels = {}").ty, ParamType::Map);
        assert_eq!(p("dir the checkout").ty, ParamType::String);
        assert_eq!(p("dir the checkout").default, None);
        assert_eq!(p("services: array which ones").ty, ParamType::Array);
        assert_eq!(p("services: array which ones").doc, "which ones");
        let opt = p("user = () registry user");
        assert_eq!(
            (opt.ty, opt.default, opt.doc.as_str()),
            (ParamType::String, Some(Value::Null), "registry user")
        );
        assert_eq!(p("port: int = () a port").ty, ParamType::Int);
        assert_eq!(p("t: float = 3").default, Some(json!(3.0)));
        assert!(
            Param::parse("n: int = \"x\"")
                .unwrap_err()
                .contains("declared int")
        );
        assert!(
            Param::parse("n: integer")
                .unwrap_err()
                .contains("unknown type `integer`")
        );
        assert!(Param::parse("= 3").is_err());
    }

    #[test]
    fn flags_are_read_as_the_type() {
        let port = p("health_port = 0");
        assert_eq!(port.from_flags(&[Some("18301".into())]), Ok(json!(18301)));
        assert_eq!(
            port.from_flags(&[Some("18301x".into())]).unwrap_err(),
            "--health-port `18301x`: expected an integer (its default is 0)"
        );
        let timeout = p("timeout = 120");
        assert!(
            timeout
                .from_flags(&[Some("1m".into())])
                .unwrap_err()
                .contains("expected an integer")
        );
        let cmd = p("cmd = \"\"");
        assert_eq!(cmd.from_flags(&[Some("true".into())]), Ok(json!("true")));
        assert!(
            cmd.from_flags(&[None])
                .unwrap_err()
                .contains("--cmd needs a value")
        );
        let sudo = p("sudo = false");
        assert_eq!(sudo.from_flags(&[None]), Ok(json!(true)));
        assert_eq!(sudo.from_flags(&[Some("false".into())]), Ok(json!(false)));
        assert!(sudo.from_flags(&[Some("maybe".into())]).is_err());
        let services = p("services = []");
        assert_eq!(
            services.from_flags(&[Some("web,worker".into())]),
            Ok(json!(["web", "worker"]))
        );
        assert_eq!(
            services.from_flags(&[Some("web".into()), Some("worker,db".into())]),
            Ok(json!(["web", "worker", "db"]))
        );
        assert_eq!(services.from_flags(&[Some("".into())]), Ok(json!([])));
        assert_eq!(
            services.from_flags(&[Some("[\"a,b\"]".into())]),
            Ok(json!(["a,b"]))
        );
        let ports = p("ports = [80]");
        assert_eq!(
            ports.from_flags(&[Some("80,443".into())]),
            Ok(json!([80, 443]))
        );
        assert!(
            ports
                .from_flags(&[Some("80,x".into())])
                .unwrap_err()
                .contains("item `x` is not an integer")
        );
        let env = p("env = {}");
        assert_eq!(
            env.from_flags(&[Some("A=1,B=x=y".into())]),
            Ok(json!({"A": "1", "B": "x=y"}))
        );
        assert!(env.from_flags(&[Some("A".into())]).is_err());
        assert_eq!(
            port.from_flags(&[Some("1".into()), Some("2".into())]),
            Ok(json!(2)),
            "the last wins"
        );
    }

    #[test]
    fn typed_values_are_checked() {
        let port = p("health_port = 0");
        assert_eq!(port.from_value(&json!(8080)), Ok(json!(8080)));
        assert_eq!(port.from_value(&json!("8080")), Ok(json!(8080)));
        assert!(port.from_value(&json!(true)).is_err());
        assert!(port.from_value(&json!(1.5)).is_err());
        assert_eq!(p("tag = \"\"").from_value(&json!(2)), Ok(json!("2")));
        assert!(p("tag = \"\"").from_value(&json!([2])).is_err());
        assert_eq!(p("t = 1.5").from_value(&json!(2)), Ok(json!(2.0)));
        assert_eq!(p("s = []").from_value(&json!("a,b")), Ok(json!(["a", "b"])));
        assert_eq!(p("u = ()").from_value(&Value::Null), Ok(Value::Null));
        assert!(p("u = \"\"").from_value(&Value::Null).is_err());
    }
}
