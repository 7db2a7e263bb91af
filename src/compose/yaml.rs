//! YAML as compose reads it. Compose v2 (compose-go) parses with go-yaml v3, whose plain
//! scalars are YAML 1.2 with YAML 1.1 leftovers: `012` is octal 10, `1_000` is 1000,
//! `0x1F`/`0o17`/`0b101` are numbers, unquoted dates are timestamps (which compose then
//! refuses), `yes`/`on` stay strings. Merge keys (`<<: *base`) are applied. This module
//! reads a document into a `serde_json::Value` with the line of every node (for errors that
//! point at `file:line`), and writes values back as YAML that reads the same way.
//!
//! The tokenizer is yaml-rust2's event parser; resolution of scalars, anchors and merge keys
//! is ours, so that it is compose's.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A YAML problem at a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub line: usize,
    pub message: String,
}

/// Lines of the nodes of a document, by YAML path (`services.web.ports[0]`).
#[derive(Debug, Clone, Default)]
pub struct Lines(HashMap<String, usize>);

impl Lines {
    /// The line of `path`, else of its nearest ancestor that has one.
    pub fn find(&self, path: &str) -> Option<usize> {
        let mut p = path;
        loop {
            if let Some(l) = self.0.get(p) {
                return Some(*l);
            }
            let cut = p.rfind(['.', '['])?;
            p = &p[..cut];
        }
    }

    /// Whether `path` itself (not an ancestor) has a line here.
    pub fn has(&self, path: &str) -> bool {
        self.0.contains_key(path)
    }

    fn insert(&mut self, path: String, line: usize) {
        self.0.entry(path).or_insert(line);
    }

    /// Copy the lines under `from` to the same places under `to` (an alias or a merge).
    fn copy_subtree(&mut self, from: &str, to: &str) {
        let moved: Vec<(String, usize)> = self
            .0
            .iter()
            .filter_map(|(k, l)| {
                let rest = k.strip_prefix(from)?;
                (rest.is_empty() || rest.starts_with(['.', '[']))
                    .then(|| (format!("{to}{rest}"), *l))
            })
            .collect();
        for (k, l) in moved {
            self.insert(k, l);
        }
    }
}

/// Compose's own tags: `!reset` drops what earlier files set, `!override` replaces instead
/// of merging. Kept by path for the merge of several files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeTag {
    Reset,
    Override,
}

/// A parsed document.
#[derive(Debug, Clone)]
pub struct Doc {
    pub value: Value,
    pub lines: Lines,
    pub tags: HashMap<String, MergeTag>,
}

/// Parse one YAML document (an empty text is an empty mapping's `null`).
pub fn parse(text: &str) -> Result<Doc, YamlError> {
    let mut docs = parse_documents(text)?;
    if docs.len() > 1 {
        return Err(YamlError {
            line: docs[1].first_line,
            message: "a compose file holds one YAML document (found a second `---`)".into(),
        });
    }
    Ok(docs.pop().map(|d| d.doc).unwrap_or(Doc {
        value: Value::Null,
        lines: Lines::default(),
        tags: HashMap::new(),
    }))
}

/// One document of a YAML stream and the line it starts at.
pub struct Document {
    pub doc: Doc,
    pub first_line: usize,
}

/// Every document of `text` (`---` separated; compose merges them in order, as if each
/// were a file of its own). An empty text is no document.
pub fn parse_documents(text: &str) -> Result<Vec<Document>, YamlError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut b = Builder {
        parser: Parser::new_from_str(text),
        anchors: HashMap::new(),
        lines: Lines::default(),
        tags: HashMap::new(),
    };
    let mut out = Vec::new();
    loop {
        let (ev, mark) = b.next()?;
        let value = match ev {
            Event::StreamEnd => break,
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => continue,
            Event::DocumentStart => {
                let (ev, mark) = b.next()?;
                if ev == Event::DocumentEnd {
                    Value::Null
                } else {
                    b.node(ev, mark, "")?
                }
            }
            other => b.node(other, mark, "")?,
        };
        out.push(Document {
            doc: Doc {
                value,
                lines: std::mem::take(&mut b.lines),
                tags: std::mem::take(&mut b.tags),
            },
            first_line: mark.line(),
        });
    }
    Ok(out)
}

struct Builder<'a> {
    parser: Parser<std::str::Chars<'a>>,
    /// Anchor id → (value, the path it was defined at).
    anchors: HashMap<usize, (Value, String)>,
    lines: Lines,
    tags: HashMap<String, MergeTag>,
}

fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl Builder<'_> {
    fn next(&mut self) -> Result<(Event, Marker), YamlError> {
        self.parser.next_token().map_err(|e| YamlError {
            line: e.marker().line(),
            message: e.info().to_string(),
        })
    }

    fn note_tag(&mut self, tag: &Option<Tag>, path: &str) {
        if let Some(t) = tag
            && t.handle == "!"
        {
            match t.suffix.as_str() {
                "reset" => {
                    self.tags.insert(path.to_string(), MergeTag::Reset);
                }
                "override" => {
                    self.tags.insert(path.to_string(), MergeTag::Override);
                }
                _ => {}
            }
        }
    }

    fn node(&mut self, ev: Event, mark: Marker, path: &str) -> Result<Value, YamlError> {
        self.lines.insert(path.to_string(), mark.line());
        let (value, anchor) = match ev {
            Event::Alias(id) => {
                let Some((v, from)) = self.anchors.get(&id).cloned() else {
                    return Err(YamlError {
                        line: mark.line(),
                        message: "an alias names an anchor that is not defined".into(),
                    });
                };
                self.lines.copy_subtree(&from, path);
                return Ok(v);
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.note_tag(&tag, path);
                let v = scalar(&text, style, tag.as_ref(), path).map_err(|message| YamlError {
                    line: mark.line(),
                    message,
                })?;
                (v, anchor)
            }
            Event::SequenceStart(anchor, tag) => {
                self.note_tag(&tag, path);
                let mut items = Vec::new();
                loop {
                    let (ev, m) = self.next()?;
                    if ev == Event::SequenceEnd {
                        break;
                    }
                    let p = format!("{path}[{}]", items.len());
                    items.push(self.node(ev, m, &p)?);
                }
                (Value::Array(items), anchor)
            }
            Event::MappingStart(anchor, tag) => {
                self.note_tag(&tag, path);
                (self.mapping(path)?, anchor)
            }
            other => {
                return Err(YamlError {
                    line: mark.line(),
                    message: format!("unexpected YAML event {other:?}"),
                });
            }
        };
        if anchor > 0 {
            self.anchors
                .insert(anchor, (value.clone(), path.to_string()));
        }
        Ok(value)
    }

    fn mapping(&mut self, path: &str) -> Result<Value, YamlError> {
        let mut explicit: Map<String, Value> = Map::new();
        let mut key_lines: HashMap<String, usize> = HashMap::new();
        // Entries from `<<`, in precedence order (earlier wins), added after the explicit keys.
        let mut merged: Vec<(Map<String, Value>, String)> = Vec::new();
        loop {
            let (ev, m) = self.next()?;
            if ev == Event::MappingEnd {
                break;
            }
            let is_merge =
                matches!(&ev, Event::Scalar(t, TScalarStyle::Plain, _, None) if t == "<<");
            if is_merge {
                let (vev, vm) = self.next()?;
                let at = child(path, "<<");
                let v = self.node(vev, vm, &at)?;
                let line = vm.line();
                let bad = || YamlError {
                    line,
                    message: "a merge key `<<` takes a mapping or a list of mappings".into(),
                };
                match v {
                    Value::Object(o) => merged.push((o, at)),
                    Value::Array(items) => {
                        for (i, item) in items.into_iter().enumerate() {
                            match item {
                                Value::Object(o) => merged.push((o, format!("{at}[{i}]"))),
                                _ => return Err(bad()),
                            }
                        }
                    }
                    _ => return Err(bad()),
                }
                continue;
            }
            let key = match ev {
                Event::Scalar(text, style, _, tag) => {
                    // compose reads keys as go-yaml does and refuses any that is not a
                    // string (`1:`, `true:`, `~:`, a date), anywhere in the file.
                    let core = tag
                        .as_ref()
                        .filter(|t| t.handle == "tag:yaml.org,2002:" || t.handle == "!!")
                        .map(|t| t.suffix.as_str());
                    let not_string = match core {
                        Some(t) => ["int", "float", "bool", "null", "timestamp"].contains(&t),
                        None => {
                            style == TScalarStyle::Plain && tag.is_none() && !reads_as_string(&text)
                        }
                    };
                    if not_string {
                        return Err(YamlError {
                            line: m.line(),
                            message: if path.is_empty() {
                                format!("non-string key at top level: {text}")
                            } else {
                                format!("non-string key in {path}: {text}")
                            },
                        });
                    }
                    match core {
                        Some("binary") => match scalar(&text, style, tag.as_ref(), path) {
                            Ok(Value::String(decoded)) => decoded,
                            _ => text,
                        },
                        _ => text,
                    }
                }
                Event::Alias(id) => match self.anchors.get(&id) {
                    Some((Value::String(s), _)) => s.clone(),
                    Some((other, _)) => other.to_string(),
                    None => String::new(),
                },
                _ => {
                    return Err(YamlError {
                        line: m.line(),
                        message: "a mapping key must be a plain value".into(),
                    });
                }
            };
            if let Some(first) = key_lines.get(&key) {
                return Err(YamlError {
                    line: m.line(),
                    message: format!("mapping key \"{key}\" already defined at line {first}"),
                });
            }
            key_lines.insert(key.clone(), m.line());
            let (vev, vm) = self.next()?;
            let p = child(path, &key);
            self.lines.insert(p.clone(), m.line());
            let v = self.node(vev, vm, &p)?;
            explicit.insert(key, v);
        }
        if merged.is_empty() {
            return Ok(Value::Object(explicit));
        }
        let mut out = Map::new();
        for (m, from) in merged {
            for (k, v) in m {
                if !out.contains_key(&k) && !explicit.contains_key(&k) {
                    self.lines.copy_subtree(&child(&from, &k), &child(path, &k));
                    out.insert(k, v);
                }
            }
        }
        out.extend(explicit);
        Ok(Value::Object(out))
    }
}

/// A scalar's value at `path`. Quoted and block scalars are strings; plain ones are
/// resolved.
fn scalar(text: &str, style: TScalarStyle, tag: Option<&Tag>, path: &str) -> Result<Value, String> {
    let core = tag.filter(|t| t.handle == "tag:yaml.org,2002:" || t.handle == "!!");
    let date = || {
        // compose's schema refuses a date anywhere but under an `x-` extension, whose
        // content it does not check and writes as RFC 3339.
        if path.split(['.', '[']).any(|p| p.starts_with("x-")) {
            Ok(Value::String(rfc3339(text)))
        } else {
            Err(format!(
                "`{text}` reads as a date (compose refuses timestamps); quote it: \"{text}\""
            ))
        }
    };
    if let Some(t) = core {
        return match t.suffix.as_str() {
            "str" => Ok(Value::String(text.to_string())),
            "null" => Ok(Value::Null),
            "bool" | "int" | "float" => match resolve_plain(text) {
                Resolved::Value(v) if !v.is_string() => Ok(v),
                _ => Err(format!("cannot read `{text}` as !!{}", t.suffix)),
            },
            "timestamp" if is_timestamp(text) => date(),
            // go-yaml decodes it; compose takes the bytes as text.
            "binary" => {
                use base64::Engine as _;
                let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
                base64::engine::general_purpose::STANDARD
                    .decode(clean)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .map(Value::String)
                    .ok_or_else(|| format!("cannot read `{text}` as !!binary"))
            }
            _ => Ok(Value::String(text.to_string())),
        };
    }
    if style != TScalarStyle::Plain {
        return Ok(Value::String(text.to_string()));
    }
    match resolve_plain(text) {
        Resolved::Value(v) => Ok(v),
        Resolved::Timestamp => date(),
    }
}

/// A YAML timestamp (`2024-1-2`, `2024-01-02 10:00:00`, `2024-01-02T10:00:00.5+01:00`) as
/// Go's `time.Time` prints in RFC 3339 (UTC when no zone is given).
fn rfc3339(text: &str) -> String {
    let (date, time) = match text.find(['T', 't', ' ']) {
        Some(i) => (&text[..i], text[i..].trim_start_matches(['T', 't', ' '])),
        None => (text, ""),
    };
    let mut d = date.splitn(3, '-');
    let (y, m, day) = (
        d.next().unwrap_or_default(),
        d.next().unwrap_or_default(),
        d.next().unwrap_or_default(),
    );
    let pad = |x: &str| format!("{:0>2}", x);
    if time.is_empty() {
        return format!("{y}-{}-{}T00:00:00Z", pad(m), pad(day));
    }
    let split = time.find(['Z', '+', '-', ' ']).unwrap_or(time.len());
    let (clock, zone) = (&time[..split], time[split..].trim());
    let mut c = clock.splitn(3, ':');
    let (h, mi, sec) = (
        c.next().unwrap_or_default(),
        c.next().unwrap_or_default(),
        c.next().unwrap_or_default(),
    );
    let (whole, frac) = sec.split_once('.').unwrap_or((sec, ""));
    let frac = frac.trim_end_matches('0');
    let frac = if frac.is_empty() {
        String::new()
    } else {
        format!(".{frac}")
    };
    let zone = if zone.is_empty() || zone == "Z" || zone == "+00:00" {
        "Z"
    } else {
        zone
    };
    format!(
        "{y}-{}-{}T{}:{}:{}{frac}{zone}",
        pad(m),
        pad(day),
        pad(h),
        pad(mi),
        pad(whole)
    )
}

/// Whether go-yaml reads a plain scalar as a string (not a number, boolean, null, date,
/// infinity or NaN).
fn reads_as_string(text: &str) -> bool {
    match resolve_plain(text) {
        Resolved::Timestamp => false,
        // hoist keeps these floats JSON cannot hold as strings; go-yaml has floats.
        Resolved::Value(Value::String(s)) => {
            !(text.starts_with(['.', '+', '-']) && (s == "NaN" || s.ends_with("Inf")))
        }
        Resolved::Value(_) => false,
    }
}

enum Resolved {
    Value(Value),
    Timestamp,
}

/// go-yaml v3's resolution of a plain scalar.
fn resolve_plain(text: &str) -> Resolved {
    let v = match text {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        // JSON numbers have no NaN or infinity; compose prints these as Go does.
        ".nan" | ".NaN" | ".NAN" => Value::String("NaN".into()),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Value::String("+Inf".into()),
        "-.inf" | "-.Inf" | "-.INF" => Value::String("-Inf".into()),
        _ => {
            let first = text.as_bytes()[0];
            if first == b'.' {
                return Resolved::Value(match go_parse_float(text) {
                    Some(f) => float_value(f),
                    None => Value::String(text.into()),
                });
            }
            if !(first.is_ascii_digit() || first == b'+' || first == b'-') {
                return Resolved::Value(Value::String(text.into()));
            }
            if is_timestamp(text) {
                return Resolved::Timestamp;
            }
            let plain: String = text.chars().filter(|&c| c != '_').collect();
            if let Some(i) = go_parse_int(&plain) {
                Value::Number(i.into())
            } else if let Some(u) = go_parse_uint(&plain) {
                Value::Number(u.into())
            } else if yaml_style_float(&plain)
                && let Some(f) = go_parse_float(&plain)
            {
                float_value(f)
            } else {
                Value::String(text.into())
            }
        }
    };
    Resolved::Value(v)
}

fn float_value(f: f64) -> Value {
    Number::from_f64(f)
        .map(Value::Number)
        .unwrap_or_else(|| Value::String(format_go_float(f)))
}

/// Go's `strconv.ParseInt(s, 0, 64)`: sign, then `0x`, `0o`, `0b`, a leading `0` (octal)
/// or decimal digits.
fn go_parse_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let mag = go_parse_uint(body)?;
    if neg {
        if mag <= i64::MAX as u64 + 1 {
            Some((mag as i128).wrapping_neg() as i64)
        } else {
            None
        }
    } else {
        i64::try_from(mag).ok()
    }
}

/// Go's `strconv.ParseUint(s, 0, 64)` (no sign).
fn go_parse_uint(s: &str) -> Option<u64> {
    let lower = s.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`, go-yaml's test before a float.
fn yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Go's `strconv.ParseFloat(s, 64)` for the decimal forms YAML reaches it with; out of range
/// is an error there.
fn go_parse_float(s: &str) -> Option<f64> {
    if !s
        .bytes()
        .all(|c| c.is_ascii_digit() || b"+-.eE".contains(&c))
    {
        return None;
    }
    let f: f64 = s.parse().ok()?;
    f.is_finite().then_some(f)
}

/// go-yaml's timestamp forms: `YYYY-M-D`, optionally with a time (`T`, `t` or spaces).
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let rest = &s[5..];
    let num = |t: &str, max_len: usize| -> Option<(u32, usize)> {
        let n = t.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 || n > max_len {
            return None;
        }
        Some((t[..n].parse().ok()?, n))
    };
    let Some((month, n)) = num(rest, 2) else {
        return false;
    };
    let rest = &rest[n..];
    let Some(rest) = rest.strip_prefix('-') else {
        return false;
    };
    let Some((day, n)) = num(rest, 2) else {
        return false;
    };
    let year: u32 = s[..4].parse().unwrap_or(0);
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if day == 0 || day > days {
        return false;
    }
    let time = &rest[n..];
    if time.is_empty() {
        return true;
    }
    // A time part: [Tt] or spaces, then H:M:S[.frac] and an optional zone.
    let t = if let Some(t) = time.strip_prefix(['T', 't']) {
        t
    } else if time.starts_with(' ') {
        time.trim_start_matches(' ')
    } else {
        return false;
    };
    let mut parts = t.splitn(3, ':');
    let (Some(h), Some(m), Some(sec)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let ok_num = |x: &str, max: u32| {
        !x.is_empty() && x.len() <= 2 && x.parse::<u32>().is_ok_and(|v| v <= max)
    };
    if !ok_num(h, 23) || !ok_num(m, 59) {
        return false;
    }
    let sec_digits = sec.bytes().take_while(u8::is_ascii_digit).count();
    if !ok_num(&sec[..sec_digits], 59) {
        return false;
    }
    let mut tail = &sec[sec_digits..];
    if let Some(f) = tail.strip_prefix('.') {
        let n = f.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        tail = &f[n..];
    }
    let tail = tail.trim_start_matches(' ');
    tail.is_empty()
        || tail == "Z"
        || (tail.len() == 6
            && tail.starts_with(['+', '-'])
            && ok_num(&tail[1..3], 23)
            && &tail[3..4] == ":"
            && ok_num(&tail[4..6], 59))
}

/// A float as Go's `strconv.FormatFloat(f, 'g', -1, 64)` writes it (what compose prints
/// for a YAML float that becomes a string, e.g. in `environment`).
pub fn format_go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let e = format!("{f:e}"); // shortest digits: "1.2345e20", "-5e-7"
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        return format!("{f}");
    }
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mant}e{sign}{:02}", exp.abs())
}

/// The text compose makes of a scalar where it wants a string (environment values, labels).
pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(number_text(n)),
        _ => None,
    }
}

pub fn number_text(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(u) = n.as_u64() {
        u.to_string()
    } else {
        format_go_float(n.as_f64().unwrap_or_default())
    }
}

/// Write `v` as block YAML that compose (and hoist) reads back as the same value.
pub fn to_string(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Object(m) if !m.is_empty() => write_map(&mut out, m, 0),
        Value::Array(a) if !a.is_empty() => write_seq(&mut out, a, 0),
        other => {
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
    out
}

fn inline(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => {
            if n.is_f64() {
                let f = n.as_f64().unwrap_or_default();
                let s = format!("{f:?}");
                if s.contains(['.', 'e', 'E']) {
                    s
                } else {
                    format!("{s}.0")
                }
            } else {
                n.to_string()
            }
        }
        Value::String(s) => string(s),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

/// A string plain when that reads back as the same string, else double-quoted.
fn string(s: &str) -> String {
    if plain_is_safe(s) {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_default()
    }
}

fn plain_is_safe(s: &str) -> bool {
    if s.is_empty() || s.trim() != s || s == "<<" {
        return false;
    }
    // YAML 1.1 booleans: strings for compose v2, booleans for v1; quote them for both.
    let lower = s.to_ascii_lowercase();
    if ["y", "n", "yes", "no", "on", "off", "true", "false", "null"].contains(&lower.as_str()) {
        return false;
    }
    let first = s.chars().next().unwrap_or(' ');
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return false;
    }
    if s.chars().any(|c| c.is_control() || c == '\u{feff}') {
        return false;
    }
    matches!(resolve_plain(s), Resolved::Value(Value::String(ref r)) if r == s)
}

fn pad(out: &mut String, indent: usize) {
    for _ in 0..indent {
        out.push(' ');
    }
}

fn write_map(out: &mut String, m: &Map<String, Value>, indent: usize) {
    for (k, v) in m {
        pad(out, indent);
        out.push_str(&string(k));
        out.push(':');
        write_child(out, v, indent + 2);
    }
}

fn write_seq(out: &mut String, a: &[Value], indent: usize) {
    for v in a {
        pad(out, indent);
        out.push('-');
        match v {
            Value::Object(m) if !m.is_empty() => {
                // The first key on the dash's line, the rest aligned under it.
                let mut inner = String::new();
                write_map(&mut inner, m, indent + 2);
                out.push(' ');
                out.push_str(&inner[indent + 2..]);
            }
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
                write_seq(out, items, indent + 2);
            }
            other => {
                out.push(' ');
                out.push_str(&inline(other));
                out.push('\n');
            }
        }
    }
}

fn write_child(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_map(out, m, indent);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            write_seq(out, a, indent);
        }
        other => {
            out.push(' ');
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(text: &str) -> Value {
        parse(text).unwrap().value
    }

    #[test]
    fn scalars_as_compose_reads_them() {
        let doc = v(
            "a: 012\nb: 1_000\nc: 0x1F\nd: yes\ne: 1e3\nf: .5\ng: ~\nh: 0o17\ni: '012'\nj: 08\nk: 1.0\nl: _1\nm: 12:30\n",
        );
        assert_eq!(
            doc,
            json!({"a": 10, "b": 1000, "c": 31, "d": "yes", "e": 1000.0, "f": 0.5, "g": null,
                   "h": 15, "i": "012", "j": 8.0, "k": 1.0, "l": "_1", "m": "12:30"})
        );
        assert!(
            parse("a: 2024-01-01\n")
                .unwrap_err()
                .message
                .contains("date")
        );
        assert!(parse("a: 2024-01-01T10:00:00Z\n").is_err());
        assert_eq!(v("a: 2024-13-01\n"), json!({"a": "2024-13-01"}));
        // Under an extension compose takes a date and writes it in RFC 3339.
        assert_eq!(
            v("x-a: 2024-1-2\ns:\n  x-b: [2024-01-02 10:00:00]\n"),
            json!({"x-a": "2024-01-02T00:00:00Z", "s": {"x-b": ["2024-01-02T10:00:00Z"]}})
        );
    }

    #[test]
    fn keys_must_read_as_strings() {
        for bad in [
            "1: a",
            "true: a",
            "~: a",
            "1.5: a",
            ".inf: a",
            "2024-01-01: a",
        ] {
            let e = parse(&format!("s:\n  {bad}\n")).unwrap_err();
            assert!(
                e.message.starts_with("non-string key in s: "),
                "{bad}: {}",
                e.message
            );
        }
        assert!(
            parse("1: a\n")
                .unwrap_err()
                .message
                .contains("at top level")
        );
        assert_eq!(
            v("'1': a\nyes: b\n!!str 2: c\n"),
            json!({"1": "a", "yes": "b", "2": "c"})
        );
    }

    #[test]
    fn merge_keys_and_lines() {
        let d = parse("x: &b\n  image: i\n  env: {A: 1}\ns:\n  <<: *b\n  env: {B: 2}\n").unwrap();
        assert_eq!(d.value["s"], json!({"image": "i", "env": {"B": 2}}));
        assert_eq!(d.lines.find("s.image"), Some(2));
        assert_eq!(d.lines.find("s.env.B"), Some(6));
        let e = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(e.line, 3);
    }

    #[test]
    fn floats_print_as_go() {
        for (f, s) in [
            (1000.0, "1000"),
            (0.5, "0.5"),
            (1e30, "1e+30"),
            (1.2345678901234568e20, "1.2345678901234568e+20"),
            (1234567.0, "1.234567e+06"),
            (123456.0, "123456"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
        ] {
            assert_eq!(format_go_float(f), s);
        }
    }

    #[test]
    fn written_yaml_reads_back_the_same() {
        let val = json!({"a": "1_000", "b": "yes", "c": "x: y", "d": [1, "012", {"e": "- f", "g": [true]}],
                         "h": "2024-01-01", "i": "", "j": "multi\nline", "k": 1.5, "l": {}, "m": []});
        assert_eq!(v(&to_string(&val)), val);
    }
}
