//! A second, independent differential corpus for hoist's compose renderer (the first is the
//! generator in tests/compose_fidelity.rs). Each generated project is small and aimed at one
//! class of the places where renderers disagree: nested interpolation whose unused branch is
//! in error, defaults holding special characters, YAML 1.1 vs 1.2 scalars in every kind of
//! field, short and long volume and port syntax (malformed ones included), command strings
//! with quotes, named resources defined or not, merge keys, extends, profiles, env files,
//! structural errors and unset variables. Plus hand-written projects in the manner of
//! compose-go's loader tests (written here, not copied). Seeded and deterministic: the same
//! seed gives the same projects.

/// One project: its files, the environment compose (and hoist's `env` option) sees, and the
/// options of the command line.
#[derive(Debug, Clone, Default)]
pub struct Case {
    pub name: String,
    /// Files in the project directory.
    pub files: Vec<(String, String)>,
    /// The process environment (compose's) = the `env` option (hoist's).
    pub env: Vec<(String, String)>,
    pub profiles: Vec<String>,
    /// `-f` files; empty = compose's default discovery (with override files).
    pub explicit: Vec<String>,
    /// `--env-file` files; empty = `.env` when present.
    pub env_files: Vec<String>,
}

/// splitmix64: a small, well-mixed generator; each case gets its own stream.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// A YAML single-quoted scalar (any text survives it).
fn sq(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A YAML double-quoted scalar.
fn dq(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `text` as a YAML scalar in one of three styles: quoted (two ways) or plain, which YAML
/// itself may read differently (a plain `{` starts a flow mapping, ` #` a comment).
fn styled(r: &mut Rng, text: &str) -> String {
    match r.below(10) {
        0..=4 => sq(text),
        5..=7 => dq(text),
        _ => text.to_string(),
    }
}

/// Variables the templates use; each case sets some of them.
const NAMES: &[&str] = &["A", "B", "C", "lower_d"];

const VALUES: &[&str] = &[
    "val",
    "",
    "two words",
    "{}",
    "1",
    "x:y",
    "$",
    "yes",
    "08",
    "a}b",
];

/// The environment of one case: every name unset, empty or set.
fn environment(r: &mut Rng) -> Vec<(String, String)> {
    let mut env = Vec::new();
    for n in NAMES {
        match r.below(5) {
            0 | 1 => {}
            2 => env.push((n.to_string(), String::new())),
            _ => env.push((n.to_string(), r.pick(VALUES).to_string())),
        }
    }
    env
}

/// One interpolation expression, nested up to `depth`; `fallible` allows `:?`/`?` and
/// malformed forms.
fn nested(r: &mut Rng, depth: usize, fallible: bool) -> String {
    let v = *r.pick(NAMES);
    let inner = |r: &mut Rng| -> String {
        if depth > 0 && r.chance(65) {
            nested(r, depth - 1, fallible)
        } else {
            r.pick(&["w", "", "a b", "-", "0", "x/y"]).to_string()
        }
    };
    let ops: &[&str] = if fallible {
        &[":-", "-", ":+", "+", ":?", "?", ":-", "-"]
    } else {
        &[":-", "-", ":+", "+"]
    };
    match r.below(12) {
        0 => format!("${{{v}}}"),
        1 => format!("${v}"),
        2 if fallible => r
            .pick(&["${", "${A:}", "${A:!x}", "${-A}", "$ {A}", "${A B}"])
            .to_string(),
        _ => {
            let op = *r.pick(ops);
            let mut word = inner(r);
            if r.chance(25) {
                word.push_str(&inner(r));
            }
            format!("${{{v}{op}{word}}}")
        }
    }
}

/// Where a generated string goes: the field, and the YAML for it at service level.
fn place(r: &mut Rng, text: &str) -> String {
    match r.below(9) {
        0 => format!("    environment:\n      T: {}\n", styled(r, text)),
        1 => format!(
            "    environment:\n      - {}\n",
            styled(r, &format!("T={text}"))
        ),
        2 => format!("    labels:\n      t: {}\n", styled(r, text)),
        3 => format!("    image: {}\n", styled(r, &format!("busybox:{text}"))),
        4 => format!("    command: [\"echo\", {}]\n", dq(text)),
        5 => format!("    working_dir: {}\n", styled(r, &format!("/w{text}"))),
        6 => format!("    entrypoint: {}\n", sq(&format!("/bin/echo {text}"))),
        7 => format!("    dns: {}\n", sq(&format!("10.0.0.{text}"))),
        _ => format!("    user: {}\n", styled(r, text)),
    }
}

fn service(body: &str) -> String {
    format!("services:\n  s:\n    image: busybox\n{body}")
}

// ------------------------------------------------------------------ the classes

/// Nested interpolation: unused branches with `:?` in them (2.40 reads them eagerly).
fn nesting(r: &mut Rng, c: &mut Case) {
    c.env = environment(r);
    let mut body = String::new();
    for _ in 0..1 + r.below(2) {
        let depth = 1 + r.below(3);
        let t = nested(r, depth, true);
        body.push_str(&place(r, &t));
    }
    c.files
        .push(("compose.yaml".into(), dedupe_fields(&service(&body))));
}

/// A project with a field given twice (two `place`s) keeps the first: a duplicate key is an
/// error of its own, which would hide the class being tested.
fn dedupe_fields(yaml: &str) -> String {
    let mut seen = std::collections::HashSet::new();
    let mut out = String::new();
    let mut skipping = false;
    for line in yaml.lines() {
        if line.starts_with("    ") && !line.starts_with("     ") {
            let key = line
                .trim()
                .split(':')
                .next()
                .unwrap_or_default()
                .to_string();
            skipping = !seen.insert(key);
        } else if !line.starts_with("      ") {
            skipping = false;
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

const SPECIAL_WORDS: &[&str] = &[
    "{}",
    "{",
    "}",
    "{{}}",
    "{\"k\":\"v\"}",
    "[1,2]",
    "a:b",
    "a-b",
    "a?b",
    "a+b",
    "#x",
    " #x",
    "'q'",
    "\"q\"",
    "\\",
    "\\n",
    "$",
    "$$",
    "$$A",
    "${}",
    "%s",
    "été",
    "a b",
    "=",
    ",",
    "*",
    "&a",
    "!x",
    "|",
    "@",
    "`x`",
    "~",
];

/// Defaults, alternatives and messages holding characters with a meaning somewhere.
fn special_defaults(r: &mut Rng, c: &mut Case) {
    c.env = environment(r);
    let w = *r.pick(SPECIAL_WORDS);
    let a = *r.pick(NAMES);
    let b = *r.pick(NAMES);
    let t = match r.below(10) {
        0 => format!("${{{a}:-{w}}}"),
        1 => format!("${{{a}-{w}}}"),
        2 => format!("${{{a}:+{w}}}"),
        3 => format!("${{{a}:-{w}}}-${{{b}}}"),
        4 => format!("pre${{{a}:-{w}}}post"),
        5 => format!("${{{a}:-{w}}}}}"),
        6 => format!("{{${{{a}:-{w}}}}}"),
        7 => format!("${{{a}:?{w}}}"),
        8 => format!("${{{a}:-{w}}}${{{b}:-{w}}}"),
        _ => format!("${{{a}:-x{w}y}} ${b}"),
    };
    let body = place(r, &t);
    c.files.push(("compose.yaml".into(), service(&body)));
}

/// Scalars YAML 1.1 and 1.2 read differently (and some every version reads the same).
const SCALARS: &[&str] = &[
    "2024-01-01",
    "2024-1-1",
    "2024-01-01T10:00:00Z",
    "2024-01-01 10:00:00",
    "10:00",
    "1:20:30",
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "Y",
    "True",
    "FALSE",
    "0777",
    "0o777",
    "0x1f",
    "0X1F",
    "0b101",
    "1_000",
    "1e3",
    "1E3",
    "1.5e-3",
    ".5",
    "5.",
    "+5",
    "-0",
    "0",
    "00",
    "09",
    "1.0",
    "3.14159265358979323846",
    "123456789012345678901",
    ".inf",
    "-.INF",
    ".NaN",
    "~",
    "null",
    "NULL",
    "Null",
    "",
    "<<",
    "=",
    "!!str 12",
    "!!int '12'",
    "!!float 1",
    "!!bool yes",
    "!!binary aGk=",
    "!!timestamp 2024-01-01",
];

/// One of the ambiguous scalars in a field of some type.
fn yaml_scalars(r: &mut Rng, c: &mut Case) {
    let s = *r.pick(SCALARS);
    let body = match r.below(14) {
        0 | 1 => format!("    environment:\n      K: {s}\n"),
        2 => format!("    labels:\n      k: {s}\n"),
        3 => format!("    image: {s}\n"),
        4 => format!("    user: {s}\n"),
        5 => format!("    command: [{s}]\n"),
        6 => format!("    extra_hosts:\n      h: {s}\n"),
        7 => format!("    environment:\n      {s}: v\n"),
        8 => format!("    labels:\n      {s}: v\n"),
        9 => format!("    deploy:\n      replicas: {s}\n"),
        10 => format!("    read_only: {s}\n"),
        11 => format!("    hostname: {s}\n"),
        12 => format!("    stop_signal: {s}\n"),
        _ => format!("    sysctls:\n      net.core.somaxconn: {s}\n"),
    };
    let mut y = service(&body);
    if r.chance(25) {
        y.push_str(&format!("x-ext:\n  v: {s}\n  l: [{s}]\n"));
    }
    if r.chance(10) {
        // A scalar as a service name.
        y = format!("services:\n  {s}:\n    image: busybox\n");
    }
    c.files.push(("compose.yaml".into(), y));
}

const SHORT_VOLUMES: &[&str] = &[
    "./data:/data",
    "./data:/data:ro",
    "./data:/data:rw",
    "./data:/data:z",
    "./data:/data:ro,Z",
    "./data:/data:nocopy",
    "./data:/data:bogus",
    "./data:/data:ro:extra",
    "data:/data",
    "data:/data:ro",
    "data:/data:nocopy",
    "undeclared:/u",
    ":/app/static",
    "/data:",
    "/data",
    "data",
    "./rel",
    "rel/path:/x",
    "./a:rel",
    "/a::/b",
    "::",
    "~/home:/h",
    ".:/app",
    "..:/up",
    "/abs/host:/abs/ctr",
    "/abs/host:/abs/ctr:cached",
    "/abs/host:/abs/ctr:delegated",
    "/abs/host:/abs/ctr:consistent",
    "C:\\\\win:/w",
    "./a:/b:ro,rw",
    "./a:/b:rprivate",
    "./a:/b:shared,ro",
    "${A}:/from-var",
    "${A:-./dflt}:/d",
    "./sp ace:/sp ace",
    "./a:/b/",
    "./a:/",
    "data:/data:rw,nocopy",
];

const LONG_VOLUMES: &[&str] = &[
    "type: bind\n        source: ./b\n        target: /b",
    "type: bind\n        source: ./b\n        target: /b\n        read_only: true",
    "type: bind\n        source: ./b\n        target: /b\n        bind:\n          create_host_path: true",
    "type: bind\n        source: ./b\n        target: /b\n        bind:\n          propagation: rslave",
    "type: bind\n        target: /b",
    "type: bind\n        source: ''\n        target: /b",
    "type: volume\n        source: data\n        target: /v",
    "type: volume\n        source: data\n        target: /v\n        volume:\n          nocopy: true",
    "type: volume\n        target: /anon",
    "type: volume\n        source: undeclared\n        target: /v",
    "type: tmpfs\n        target: /t",
    "type: tmpfs\n        target: /t\n        tmpfs:\n          size: 1000",
    "type: tmpfs\n        target: /t\n        tmpfs:\n          size: -1",
    "type: tmpfs\n        target: /t\n        tmpfs:\n          size: 10m",
    "type: tmpfs\n        target: /t\n        foo: bar",
    "type: tmpfs\n        source: ./x\n        target: /t",
    "type: npipe\n        source: ./p\n        target: /p",
    "type: image\n        source: busybox\n        target: /i",
    "type: cluster\n        source: c\n        target: /c",
    "type: bogus\n        source: ./b\n        target: /b",
    "source: ./b\n        target: /b",
    "type: bind\n        source: ./b",
    "type: bind\n        source: ./b\n        target: relative",
    "type: bind\n        source: ./b\n        target: /b\n        read_only: 'yes'",
    "type: bind\n        source: ./b\n        target: /b\n        read_only: ${A:-true}",
    "type: volume\n        source: data\n        target: /v\n        consistency: cached",
];

/// Short and long volume syntax, named volumes declared or not.
fn volumes(r: &mut Rng, c: &mut Case) {
    c.env = environment(r);
    let mut y = String::from("services:\n  s:\n    image: busybox\n    volumes:\n");
    for _ in 0..1 + r.below(2) {
        if r.chance(60) {
            let v = *r.pick(SHORT_VOLUMES);
            y.push_str(&format!("      - {}\n", styled(r, v)));
        } else {
            y.push_str(&format!("      - {}\n", r.pick(LONG_VOLUMES)));
        }
    }
    match r.below(4) {
        0 => {}
        1 => y.push_str("volumes:\n  data: {}\n"),
        2 => y.push_str("volumes:\n  data:\n"),
        _ => y.push_str("volumes:\n  data:\n    external: true\n"),
    }
    c.files.push(("compose.yaml".into(), y));
}

const SHORT_PORTS: &[&str] = &[
    "80",
    "8080:80",
    "8080:80/udp",
    "8080:80/sctp",
    "8080:80/xyz",
    "8080-8081:80-81",
    "8080-8082:80-81",
    "8080-8081:80",
    "127.0.0.1:8080:80",
    "127.0.0.1::80",
    "127.0.0.1:80",
    "[::1]:8080:80",
    "::1:8080:80",
    "0.0.0.0:8080:80/tcp",
    "8080:80:90",
    "abc",
    "abc:80",
    "70000",
    "8080:70000",
    "0:80",
    "-1",
    "80-",
    "80-70",
    ":80",
    "8080:",
    "1.5",
    " 80",
    "${A:-8080}:80",
    "${A}:80",
    "80/",
    "localhost:8080:80",
];

const LONG_PORTS: &[&str] = &[
    "target: 80",
    "target: 80\n        published: 8080",
    "target: 80\n        published: '8080'",
    "target: 80\n        published: 8080-8081",
    "target: 80\n        published: '${A:-8080}'",
    "target: '80'",
    "target: '${B:-81}'",
    "target: abc",
    "published: 8080",
    "target: 80\n        protocol: udp",
    "target: 80\n        protocol: bogus",
    "target: 80\n        mode: host",
    "target: 80\n        mode: bogus",
    "target: 80\n        host_ip: 127.0.0.1",
    "target: 80\n        name: web\n        app_protocol: http",
    "target: 80\n        x-note: fine",
    "target: 80\n        extra: nope",
    "target: 70000",
    "target: -1",
];

/// Short and long port syntax.
fn ports(r: &mut Rng, c: &mut Case) {
    c.env = environment(r);
    let mut y = String::from("services:\n  s:\n    image: busybox\n    ports:\n");
    for _ in 0..1 + r.below(2) {
        if r.chance(65) {
            let p = *r.pick(SHORT_PORTS);
            // Unquoted, a YAML 1.1 reader takes `8080:80` for a sexagesimal number.
            let text = if r.chance(30) && !p.starts_with(' ') {
                p.to_string()
            } else {
                dq(p)
            };
            y.push_str(&format!("      - {text}\n"));
        } else {
            y.push_str(&format!("      - {}\n", r.pick(LONG_PORTS)));
        }
    }
    if r.chance(15) {
        y.push_str("    expose: [\"3000\", 3001, \"3002-3003\", \"3004/udp\"]\n");
    }
    c.files.push(("compose.yaml".into(), y));
}

const COMMANDS: &[&str] = &[
    "echo hello",
    "echo \"unbalanced",
    "echo 'unbalanced",
    "echo 'a b' \"c d\"",
    "sh -c \"echo \\\"nested\\\"\"",
    "sh -c 'echo $$HOME'",
    "a\\ b c",
    "trailing\\",
    "echo # not a comment",
    "",
    "  ",
    "echo ${A:-x} ${B}",
    "echo \"${A:-x y}\"",
    "echo 'it''s'",
    "echo \"a\\nb\"",
    "tab\tseparated",
    "echo é",
    "echo \"\"",
    "echo ''",
    "echo \"a'b\"",
];

/// `command:` / `entrypoint:` / healthcheck `test:` strings, shell-split as compose does.
fn commands(r: &mut Rng, c: &mut Case) {
    c.env = environment(r);
    let cmd = *r.pick(COMMANDS);
    let body = match r.below(5) {
        0 | 1 => format!("    command: {}\n", styled(r, cmd)),
        2 => format!("    entrypoint: {}\n", styled(r, cmd)),
        3 => format!(
            "    healthcheck:\n      test: {}\n      interval: 10s\n",
            styled(r, cmd)
        ),
        _ => format!(
            "    command: {}\n    entrypoint: {}\n",
            sq(cmd),
            sq(r.pick::<&str>(COMMANDS))
        ),
    };
    c.files.push(("compose.yaml".into(), service(&body)));
}

/// Named volumes, networks, secrets and configs: used, declared, external, or neither.
fn resources(r: &mut Rng, c: &mut Case) {
    let mut y = String::from("services:\n  s:\n    image: busybox\n");
    let kinds = ["volumes", "networks", "secrets", "configs"];
    let kind = *r.pick(&kinds);
    match kind {
        "volumes" => y.push_str("    volumes: [\"vol:/v\"]\n"),
        "networks" => match r.below(3) {
            0 => y.push_str("    networks: [net]\n"),
            1 => y.push_str("    networks:\n      net:\n        aliases: [a]\n"),
            _ => y.push_str("    networks:\n      net:\n    network_mode: host\n"),
        },
        "secrets" => y.push_str("    secrets: [sec]\n"),
        _ => y.push_str("    configs:\n      - source: cfg\n        target: /c\n"),
    }
    let name = match kind {
        "volumes" => "vol",
        "networks" => "net",
        "secrets" => "sec",
        _ => "cfg",
    };
    match r.below(7) {
        0 => {}
        1 => y.push_str(&format!("{kind}:\n  {name}:\n")),
        2 => y.push_str(&format!("{kind}:\n  {name}: {{}}\n")),
        3 => y.push_str(&format!("{kind}:\n  {name}:\n    external: true\n")),
        4 => y.push_str(&format!(
            "{kind}:\n  {name}:\n    external: true\n    driver: local\n"
        )),
        5 => y.push_str(&format!("{kind}:\n  other: {{}}\n")),
        _ => {
            c.files.push(("s.txt".into(), "secret\n".into()));
            y.push_str(&format!("{kind}:\n  {name}:\n    file: ./s.txt\n"));
        }
    }
    c.files.push(("compose.yaml".into(), y));
}

/// YAML merge keys: order, precedence, nesting, and a few that are errors.
fn merges(r: &mut Rng, c: &mut Case) {
    let mut y = String::from(
        "x-a: &a\n  image: busybox:a\n  environment:\n    FROM: a\n    A_ONLY: '1'\n  labels: [la=1]\n\
         x-b: &b\n  image: busybox:b\n  environment:\n    FROM: b\n  command: [b]\n\
         x-env: &env\n  E1: one\n  E2: two\n\
         x-list: &list [\"8080:80\"]\n\
         services:\n  s:\n",
    );
    match r.below(10) {
        0 => y.push_str("    <<: *a\n"),
        1 => y.push_str("    <<: [*a, *b]\n"),
        2 => y.push_str("    <<: [*b, *a]\n"),
        3 => y.push_str("    <<: *a\n    image: busybox:own\n"),
        4 => y.push_str("    image: busybox:own\n    <<: *a\n"),
        5 => y.push_str("    <<: *a\n    environment:\n      <<: *env\n      E1: mine\n"),
        6 => y.push_str("    <<: *a\n    ports: *list\n"),
        7 => y.push_str("    <<: *list\n    image: busybox\n"),
        8 => y.push_str("    <<: [*a, *env]\n"),
        _ => y.push_str("    <<: *nosuch\n    image: busybox\n"),
    }
    if r.chance(30) {
        y.push_str("  t:\n    <<: *a\n    environment: *env\n");
    }
    c.files.push(("compose.yaml".into(), y));
}

/// `extends`: same file, chained, another file, cycles, and what merges how.
fn extends(r: &mut Rng, c: &mut Case) {
    c.env = environment(r);
    let mut y = String::from(
        "services:\n  base:\n    image: busybox:${A:-base}\n    environment:\n      X: base\n      Y: base\n    \
         ports: [\"8080:80\"]\n    volumes: [\"./b:/b\"]\n    command: [base]\n    labels: {l: base}\n    dns: [1.1.1.1]\n",
    );
    let child = match r.below(9) {
        0 => "  c:\n    extends: base\n",
        1 => {
            "  c:\n    extends: {service: base}\n    environment:\n      Y: child\n      Z: child\n"
        }
        2 => {
            "  c:\n    extends: base\n    ports: [\"8080:80\", \"9090:90\"]\n    volumes: [\"./c:/b\"]\n"
        }
        3 => "  c:\n    extends: base\n    command: child\n    dns: 8.8.8.8\n",
        4 => "  c:\n    extends: base\n  d:\n    extends: c\n    labels: {l: d}\n",
        5 => "  c:\n    extends: d\n  d:\n    extends: c\n",
        6 => "  c:\n    extends: c\n",
        7 => {
            "  c:\n    extends:\n      file: other.yaml\n      service: o\n    environment: [MINE=1]\n"
        }
        _ => "  c:\n    extends:\n      file: other.yaml\n      service: missing\n",
    };
    y.push_str(child);
    if child.contains("other.yaml") {
        c.files.push((
            "other.yaml".into(),
            "services:\n  o:\n    image: busybox:other\n    build: ./ctx\n    environment: {O: '1'}\n    volumes: [\"./ov:/ov\"]\n"
                .into(),
        ));
    }
    c.files.push(("compose.yaml".into(), y));
}

/// Profiles: from the option, from COMPOSE_PROFILES (environment or .env), and a service
/// of an active profile depending on one of an inactive profile.
fn profiles(r: &mut Rng, c: &mut Case) {
    let mut y = String::from("services:\n  web:\n    image: busybox\n");
    match r.below(4) {
        0 => y.push_str("    profiles: [front]\n"),
        1 => y.push_str("    depends_on: [db]\n"),
        2 => y.push_str("    depends_on:\n      db:\n        condition: service_healthy\n        required: false\n"),
        _ => y.push_str("    profiles: [\"${A:-front}\"]\n"),
    }
    y.push_str("  db:\n    image: busybox\n");
    if r.chance(70) {
        y.push_str(&format!(
            "    profiles: [{}]\n",
            r.pick(&["back", "front", "back, debug"])
        ));
    }
    y.push_str("  tool:\n    image: busybox\n    profiles: [debug]\n");
    match r.below(6) {
        0 => c.profiles = vec!["back".into()],
        1 => c.profiles = vec!["front".into(), "debug".into()],
        2 => c.profiles = vec!["*".into()],
        3 => c.env.push(("COMPOSE_PROFILES".into(), "back,debug".into())),
        4 => c
            .files
            .push((".env".into(), "COMPOSE_PROFILES=front\n".into())),
        _ => {}
    }
    if r.chance(30) {
        c.env
            .push(("A".into(), r.pick(&["back", "", "front"]).to_string()));
    }
    c.files.push(("compose.yaml".into(), y));
}

const ENV_FILE_LINES: &[&str] = &[
    "A=from-file",
    "B=\"double ${A}\"",
    "C='single ${A}'",
    "lower_d=${B:-dflt}",
    "A=${UNSET_X}",
    "B=${A:+alt}",
    "export C=exported",
    "C=inline # comment",
    "C=hash#kept",
    "B=\"multi\nline\"",
    "A",
    "  B = spaced ",
    "C=${A:-{}}",
    "lower_d=${A:?needs A}",
    "B=\"esc \\t \\\" \\\\ \\$A\"",
    "C=\"bad",
    "BAD KEY=1",
    "A=2024-01-01",
    "B=yes",
    "C=012",
];

/// Env files: `.env`, `--env-file` (one or two), and what they feed to interpolation.
fn env_files(r: &mut Rng, c: &mut Case) {
    if r.chance(40) {
        c.env = environment(r);
    }
    let mut file = String::new();
    for _ in 0..1 + r.below(4) {
        file.push_str(r.pick::<&str>(ENV_FILE_LINES));
        file.push('\n');
    }
    match r.below(4) {
        0 | 1 => c.files.push((".env".into(), file)),
        2 => {
            c.files.push(("prod.env".into(), file));
            c.env_files = vec!["prod.env".into()];
            if r.chance(20) {
                c.files.push((".env".into(), "A=from-dot-env\n".into()));
            }
        }
        _ => {
            c.files.push(("one.env".into(), file));
            let mut second = String::new();
            for _ in 0..1 + r.below(2) {
                second.push_str(r.pick::<&str>(ENV_FILE_LINES));
                second.push('\n');
            }
            c.files.push(("two.env".into(), second));
            c.env_files = vec!["one.env".into(), "two.env".into()];
            if r.chance(15) {
                c.env_files.push("absent.env".into());
            }
        }
    }
    let mut body = String::from("    environment:\n");
    for n in NAMES {
        body.push_str(&format!("      {n}: ${{{n}-unset}}\n"));
    }
    c.files.push(("compose.yaml".into(), service(&body)));
}

const ERRORS: &[&str] = &[
    "services: []\n",
    "services:\n  s: busybox\n",
    "services:\n  s:\n    image: [busybox]\n",
    "services:\n  s:\n    image: busybox\n    ports: 80\n",
    "services:\n  s:\n    image: busybox\n    environment: A=1\n",
    "services:\n  s:\n    image: busybox\n    environment:\n      A: [1]\n",
    "services:\n  s:\n    image: busybox\n    environment:\n      A: {b: 1}\n",
    "services:\n  s:\n    image: busybox\n    environment:\n      1: one\n",
    "services:\n  s:\n    image: busybox\n    depends_on: [nosuch]\n",
    "services:\n  s:\n    image: busybox\n    depends_on: [s]\n",
    "services:\n  s:\n    image: busybox\n    restart: sometimes\n",
    "services:\n  s:\n    image: busybox\n    pull_policy: bogus\n",
    "services:\n  s:\n    image: busybox\n    network_mode: host\n    networks: [default]\n",
    "services:\n  s:\n    image: busybox\n\tcommand: x\n",
    "services:\n  s:\n    image: busybox\n    mem_limit: lots\n",
    "services:\n  s:\n    image: busybox\n    mem_limit: 512m\n",
    "services:\n  s:\n    image: busybox\n    shm_size: 1gb\n",
    "services:\n  s:\n    image: busybox\n    stop_grace_period: 1h30m\n",
    "services:\n  s:\n    image: busybox\n    stop_grace_period: 90\n",
    "services:\n  s:\n    image: busybox\n    healthcheck:\n      test: [\"CMD\"]\n      interval: 1x\n",
    "services:\n  s:\n    image: busybox\n    healthcheck:\n      disable: true\n",
    "services:\n  s:\n    image: busybox\n    healthcheck:\n      test: NONE\n",
    "services:\n  s:\n    image: busybox\n    ulimits:\n      nofile: 1024\n      nproc: {soft: 1, hard: 2}\n",
    "services:\n  s:\n    image: busybox\n    ulimits:\n      nofile: {soft: x}\n",
    "services:\n  s:\n    build: .\n",
    "services:\n  s:\n    build: {}\n",
    "services:\n  s:\n    restart: always\n",
    "services:\n  s:\n",
    "services:\n",
    "name: MyProject\nservices:\n  s:\n    image: busybox\n",
    "name: my-project\nservices:\n  s:\n    image: busybox\n",
    "name: ${A:-from-var}\nservices:\n  s:\n    image: busybox\n",
    "version: '3.8'\nservices:\n  s:\n    image: busybox\n",
    "version: 2\nservices:\n  s:\n    image: busybox\n",
    "services:\n  s:\n    image: busybox\nunknown_top: 1\n",
    "services:\n  s:\n    image: busybox\nx-top: {a: 1}\n",
    "services:\n  s.dot:\n    image: busybox\n",
    "services:\n  S_Upper:\n    image: busybox\n",
    "services:\n  \"with space\":\n    image: busybox\n",
    "services:\n  s:\n    image: busybox\n    container_name: c\n    deploy:\n      replicas: 2\n",
    "services:\n  s:\n    image: busybox\n    deploy:\n      resources:\n        limits:\n          cpus: '0.5'\n          memory: 50M\n",
    "services:\n  s:\n    image: busybox\n    deploy:\n      resources:\n        reservations:\n          devices:\n            - capabilities: [gpu]\n              count: all\n",
    "services:\n  s:\n    image: busybox\n    deploy:\n      resources:\n        reservations:\n          devices:\n            - count: 1\n",
    "services:\n  s:\n    image: busybox\n    extra_hosts: [\"h:1.2.3.4\", \"g=5.6.7.8\"]\n",
    "services:\n  s:\n    image: busybox\n    extra_hosts: [\"nocolon\"]\n",
    "services:\n  s:\n    image: busybox\n    labels: [\"a=1\", \"a=2\"]\n",
    "services:\n  s:\n    image: busybox\n    environment: [\"A=1\", \"A=2\"]\n",
    "services:\n  s:\n    image: busybox\n    dns: []\n    cap_add: []\n",
    "services:\n  s:\n    image: busybox\n    tmpfs: /run\n",
    "services:\n  s:\n    image: busybox\n    sysctls: [\"a.b=1\", \"c.d\"]\n",
    "services:\n  s:\n    image: busybox\n    logging:\n      driver: json-file\n      options:\n        max-size: 10m\n",
    "services:\n  s:\n    image: busybox\n    platform: linux/amd64\n    init: 'true'\n",
    "services:\n  s:\n    image: busybox\n    env_file: []\n",
    "services:\n  s:\n    image: busybox\n    env_file:\n      - path: absent.env\n        required: false\n",
    "services:\n  s:\n    image: busybox\n    develop:\n      watch:\n        - path: ./src\n",
    "services:\n  s:\n    image: busybox\n    post_start:\n      - command: [echo]\n",
    "services:\n  s:\n    image: busybox\n    depends_on:\n      t:\n        condition: bogus\n  t:\n    image: busybox\n",
    "services:\n  s:\n    image: busybox\n    cpus: 0.5\n    cpu_count: 2\n    mem_swappiness: 150\n",
    "services:\n  s:\n    image: busybox\n    volumes_from: [nosuch]\n",
    "services:\n  s:\n    image: busybox\n    links: [nosuch]\n",
    "services:\n  s:\n    image: busybox\n    ipc: service:nosuch\n",
    "services:\n  s:\n    image: busybox\n    network_mode: service:nosuch\n",
    "services:\n  s:\n    image: busybox\n    annotations: {a: 1}\n    attach: false\n",
    "services:\n  s:\n    image: busybox\n    image: busybox\n",
    "services:\n  s:\n    image: busybox\nservices:\n  t:\n    image: busybox\n",
    "services:\n  s: &x\n    image: busybox\n  t: *x\n",
    "services:\n  s:\n    image: busybox\n---\nservices:\n  t:\n    image: busybox\n",
    "services:\n  s:\n    image: busybox\n    labels:\n      ? [a]\n      : b\n",
    "services:\n  s:\n    image: \"busybox\n",
    "services:\n  s:\n    image: busybox\n    command: [echo, 1, true, null]\n",
    "services:\n  s:\n    image: busybox\n    environment:\n      A: 1.0\n      B: 1e3\n      C: true\n      D: null\n      E: 0x10\n",
    "services:\n  s:\n    image: busybox\n    labels:\n      A: 1.0\n      B: true\n      C: null\n",
    "services:\n  s:\n    image: busybox\n    dns: 8.8.8.8\n    dns_search: example.com\n",
    "services:\n  s:\n    image: busybox\n    working_dir: relative\n",
    "services:\n  s:\n    image: busybox\n    scale: 2\n    deploy:\n      replicas: 3\n",
    "services:\n  s:\n    image: busybox\n    gpus: all\n",
    "services:\n  s:\n    image: busybox\n    blkio_config:\n      weight: 2000\n",
    "include:\n  - absent.yaml\nservices:\n  s:\n    image: busybox\n",
    "services:\n  s:\n    image: busybox\nvolumes:\n  v:\n    external: true\n    name: other\n",
    "services:\n  s:\n    image: busybox\nnetworks:\n  default:\n    name: custom\n",
    "services:\n  s:\n    image: busybox\nnetworks:\n  n:\n    ipam:\n      config:\n        - subnet: 10.0.0.0/24\n",
    "services:\n  s:\n    image: busybox\nsecrets:\n  sec:\n    environment: A\n",
    "services:\n  s:\n    image: busybox\nconfigs:\n  cfg:\n    content: hello ${A:-x}\n",
];

/// A project compose may well refuse: structural errors and rarely used fields.
fn errors(r: &mut Rng, c: &mut Case) {
    c.env = environment(r);
    c.files
        .push(("compose.yaml".into(), r.pick(ERRORS).to_string()));
}

/// Unset variables in every position compose warns about (or does not).
fn unset_vars(r: &mut Rng, c: &mut Case) {
    c.env = environment(r);
    let mut body = String::new();
    let forms = [
        "${A}",
        "$B",
        "${C}-${lower_d}",
        "${A:-${B}}",
        "${A:+$C}",
        "${A-x}",
        "${A?msg}",
        "$${A}",
        "${UNSET_Q}",
        "${A:-$UNSET_R}",
        "pre$lower_d",
    ];
    for _ in 0..1 + r.below(3) {
        let t = *r.pick(&forms);
        body.push_str(&place(r, t));
    }
    c.files
        .push(("compose.yaml".into(), dedupe_fields(&service(&body))));
}

/// Override files: compose's discovery, `-f` order, and `!reset`/`!override`.
fn overrides(r: &mut Rng, c: &mut Case) {
    c.files.push((
        "compose.yaml".into(),
        "services:\n  s:\n    image: busybox\n    ports: [\"8080:80\"]\n    environment: {A: base}\n    command: [base]\n    dns: [1.1.1.1]\n"
            .into(),
    ));
    let over = match r.below(8) {
        0 => "services:\n  s:\n    ports: [\"9090:90\"]\n",
        1 => "services:\n  s:\n    ports: !reset []\n",
        2 => "services:\n  s:\n    ports: !override [\"7070:70\"]\n",
        3 => "services:\n  s:\n    environment: !reset {}\n",
        4 => "services:\n  s:\n    command: !reset null\n",
        5 => "services:\n  s:\n    dns: 8.8.8.8\n    environment: [A=over, B]\n",
        6 => "services:\n  t:\n    image: busybox\n",
        _ => "services:\n  s:\n    image: !reset\n",
    };
    if r.chance(50) {
        c.files.push(("compose.override.yaml".into(), over.into()));
    } else {
        c.files.push(("second.yaml".into(), over.into()));
        c.explicit = vec!["compose.yaml".into(), "second.yaml".into()];
    }
}

type Class = fn(&mut Rng, &mut Case);

/// The classes, with a name each (cases are named after theirs).
pub const CLASSES: &[(&str, Class)] = &[
    ("nesting", nesting),
    ("special-default", special_defaults),
    ("yaml-scalar", yaml_scalars),
    ("volumes", volumes),
    ("ports", ports),
    ("command", commands),
    ("resources", resources),
    ("merge-keys", merges),
    ("extends", extends),
    ("profiles", profiles),
    ("env-files", env_files),
    ("errors", errors),
    ("unset", unset_vars),
    ("overrides", overrides),
];

/// `n` projects from `seed`, the classes in turn.
pub fn generate(seed: u64, n: usize) -> Vec<Case> {
    (0..n)
        .map(|i| {
            let (class, make) = CLASSES[i % CLASSES.len()];
            let mut r = Rng::new(seed.wrapping_mul(1_000_003).wrapping_add(i as u64));
            let mut c = Case {
                name: format!("{class}-{i}"),
                ..Case::default()
            };
            make(&mut r, &mut c);
            c
        })
        .collect()
}

/// Projects in the manner of compose-go's loader tests (its cases, rewritten here): one
/// behaviour each, with the environment they need.
pub fn loader_cases() -> Vec<Case> {
    let env = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let one = |name: &str, yaml: &str, e: &[(&str, &str)]| Case {
        name: format!("loader-{name}"),
        files: vec![("compose.yaml".into(), yaml.to_string())],
        env: env(e),
        ..Case::default()
    };
    let mut out = vec![
        one("top-level-list", "- services\n", &[]),
        one("top-level-string", "just text\n", &[]),
        one(
            "non-string-top-key",
            "services:\n  s:\n    image: busybox\n123: x\n",
            &[],
        ),
        one(
            "non-string-service",
            "services:\n  123:\n    image: busybox\n",
            &[],
        ),
        one(
            "non-string-env-key",
            "services:\n  s:\n    image: busybox\n    environment:\n      1: x\n",
            &[],
        ),
        one("services-list", "services:\n  - s\n", &[]),
        one("service-list", "services:\n  s: [image]\n", &[]),
        one(
            "networks-list",
            "services:\n  s:\n    image: busybox\nnetworks: [n]\n",
            &[],
        ),
        one(
            "network-string",
            "services:\n  s:\n    image: busybox\nnetworks:\n  n: bridge\n",
            &[],
        ),
        one(
            "volumes-list",
            "services:\n  s:\n    image: busybox\nvolumes: [v]\n",
            &[],
        ),
        one("image-number", "services:\n  s:\n    image: 123\n", &[]),
        one("image-bool", "services:\n  s:\n    image: true\n", &[]),
        one(
            "env-bool",
            "services:\n  s:\n    image: busybox\n    environment:\n      A: true\n      B: false\n      C: yes\n",
            &[],
        ),
        one(
            "env-object",
            "services:\n  s:\n    image: busybox\n    environment:\n      A: {x: 1}\n",
            &[],
        ),
        one(
            "env-string",
            "services:\n  s:\n    image: busybox\n    environment: \"A=1\"\n",
            &[],
        ),
        one(
            "env-interpolated",
            "services:\n  s:\n    image: busybox\n    environment:\n      A: ${X}\n      B: ${Y:-dy}\n      C: $Z\n",
            &[("X", "x"), ("Z", "")],
        ),
        one(
            "cast-full",
            "services:\n  s:\n    image: busybox\n    cpus: ${CPUS}\n    read_only: ${RO}\n    deploy:\n      replicas: ${R}\n    healthcheck:\n      retries: ${R}\n      disable: ${RO}\n    ports:\n      - target: ${T}\n",
            &[("CPUS", "0.5"), ("RO", "true"), ("R", "3"), ("T", "80")],
        ),
        one(
            "cast-bad-bool",
            "services:\n  s:\n    image: busybox\n    read_only: ${RO}\n",
            &[("RO", "maybe")],
        ),
        one(
            "cast-bad-int",
            "services:\n  s:\n    image: busybox\n    deploy:\n      replicas: ${R}\n",
            &[("R", "1.5")],
        ),
        one(
            "cast-empty-int",
            "services:\n  s:\n    image: busybox\n    deploy:\n      replicas: ${R}\n",
            &[],
        ),
        one(
            "extends-command",
            "services:\n  b:\n    image: busybox\n    command: [a, b]\n  c:\n    extends: b\n    command: c d\n",
            &[],
        ),
        one("tab-indent", "services:\n\ts:\n\t\timage: busybox\n", &[]),
        one(
            "additional-prop",
            "services:\n  s:\n    image: busybox\n    deploy:\n      resources:\n        impossible: 1\n",
            &[],
        ),
        one(
            "external-and-driver",
            "services:\n  s:\n    image: busybox\nvolumes:\n  v:\n    external: true\n    driver: local\n",
            &[],
        ),
        one(
            "external-and-opts",
            "services:\n  s:\n    image: busybox\nvolumes:\n  v:\n    external: true\n    driver_opts: {a: b}\n",
            &[],
        ),
        one(
            "external-and-labels",
            "services:\n  s:\n    image: busybox\nvolumes:\n  v:\n    external: true\n    labels: {a: b}\n",
            &[],
        ),
        one(
            "external-name-and-name",
            "services:\n  s:\n    image: busybox\nvolumes:\n  v:\n    name: a\n    external:\n      name: b\n",
            &[],
        ),
        one(
            "external-name-deprecated",
            "services:\n  s:\n    image: busybox\nvolumes:\n  v:\n    external:\n      name: b\n",
            &[],
        ),
        one(
            "tmpfs-size-zero",
            "services:\n  s:\n    image: busybox\n    volumes:\n      - type: tmpfs\n        target: /t\n        tmpfs:\n          size: 0\n",
            &[],
        ),
        one(
            "tmpfs-size-negative",
            "services:\n  s:\n    image: busybox\n    volumes:\n      - type: tmpfs\n        target: /t\n        tmpfs:\n          size: -1\n",
            &[],
        ),
        one(
            "tmpfs-size-string",
            "services:\n  s:\n    image: busybox\n    volumes:\n      - type: tmpfs\n        target: /t\n        tmpfs:\n          size: abc\n",
            &[],
        ),
        one(
            "tmpfs-extra",
            "services:\n  s:\n    image: busybox\n    volumes:\n      - type: tmpfs\n        target: /t\n        foo: 1\n",
            &[],
        ),
        one(
            "bind-empty-source",
            "services:\n  s:\n    image: busybox\n    volumes:\n      - type: bind\n        target: /b\n",
            &[],
        ),
        one(
            "bind-windows-source",
            "services:\n  s:\n    image: busybox\n    volumes:\n      - type: bind\n        source: C:\\\\x\n        target: /b\n",
            &[],
        ),
        one(
            "volume-subpath",
            "services:\n  s:\n    image: busybox\n    volumes:\n      - type: volume\n        source: v\n        target: /v\n        volume:\n          subpath: sub\nvolumes:\n  v: {}\n",
            &[],
        ),
        one(
            "expanded-ports",
            "services:\n  s:\n    image: busybox\n    ports:\n      - \"8080-8082:80-82\"\n      - \"127.0.0.1:9000:9000/udp\"\n",
            &[],
        ),
        one(
            "extra-hosts-map",
            "services:\n  s:\n    image: busybox\n    extra_hosts:\n      a: 1.2.3.4\n      b: \"::1\"\n",
            &[],
        ),
        one(
            "extra-hosts-list",
            "services:\n  s:\n    image: busybox\n    extra_hosts: [\"a:1.2.3.4\", \"b=::1\"]\n",
            &[],
        ),
        one(
            "isolation",
            "services:\n  s:\n    image: busybox\n    isolation: bogus\n",
            &[],
        ),
        one(
            "device-count-int",
            "services:\n  s:\n    image: busybox\n    deploy:\n      resources:\n        reservations:\n          devices:\n            - capabilities: [gpu]\n              count: 2\n",
            &[],
        ),
        one(
            "device-count-string",
            "services:\n  s:\n    image: busybox\n    deploy:\n      resources:\n        reservations:\n          devices:\n            - capabilities: [gpu]\n              count: some\n",
            &[],
        ),
        one(
            "device-count-and-ids",
            "services:\n  s:\n    image: busybox\n    deploy:\n      resources:\n        reservations:\n          devices:\n            - capabilities: [gpu]\n              count: 1\n              device_ids: [\"0\"]\n",
            &[],
        ),
        one(
            "pull-policy",
            "services:\n  s:\n    image: busybox\n    pull_policy: build\n",
            &[],
        ),
        one("empty-file", "", &[]),
        one("comment-only", "# nothing\n", &[]),
        one(
            "empty-lists",
            "services:\n  s:\n    image: busybox\n    dns: []\n    ports: []\n    volumes: []\n",
            &[],
        ),
        one(
            "ssh-build",
            "services:\n  s:\n    build:\n      context: .\n      ssh: [default]\n",
            &[],
        ),
        one(
            "ssh-build-bad",
            "services:\n  s:\n    build:\n      context: .\n      ssh: default\n",
            &[],
        ),
        one(
            "legacy-bool",
            "services:\n  s:\n    image: busybox\n    privileged: yes\n",
            &[],
        ),
        one(
            "project-name-var",
            "name: ${PN}\nservices:\n  s:\n    image: busybox\n",
            &[("PN", "from-env")],
        ),
        one(
            "project-name-int",
            "name: 123\nservices:\n  s:\n    image: busybox\n",
            &[],
        ),
        one(
            "project-name-bad",
            "name: \"Bad Name!\"\nservices:\n  s:\n    image: busybox\n",
            &[],
        ),
        one(
            "numeric-ids",
            "services:\n  s:\n    image: busybox\n    user: \"1000:1000\"\n    group_add: [100, \"200\"]\n",
            &[],
        ),
        one(
            "x-service",
            "services:\n  s:\n    image: busybox\n  x-not-a-service:\n    image: busybox\n",
            &[],
        ),
        one(
            "depends-cycle",
            "services:\n  a:\n    image: busybox\n    depends_on: [b]\n  b:\n    image: busybox\n    depends_on: [c]\n  c:\n    image: busybox\n    depends_on: [a]\n",
            &[],
        ),
        one(
            "depends-self",
            "services:\n  a:\n    image: busybox\n    depends_on: [a]\n",
            &[],
        ),
        one(
            "depends-profile-no-cycle",
            "services:\n  a:\n    image: busybox\n    depends_on: [b]\n  b:\n    image: busybox\n    profiles: [p]\n    depends_on: [a]\n",
            &[],
        ),
        one(
            "multi-document",
            "services:\n  a:\n    image: busybox\n---\nservices:\n  b:\n    image: busybox\n",
            &[],
        ),
        one(
            "develop-no-action",
            "services:\n  s:\n    image: busybox\n    develop:\n      watch:\n        - path: ./src\n",
            &[],
        ),
        one(
            "network-mode-and-networks",
            "services:\n  s:\n    image: busybox\n    network_mode: host\n    networks: [n]\nnetworks:\n  n: {}\n",
            &[],
        ),
        one(
            "unit-bytes",
            "services:\n  s:\n    image: busybox\n    shm_size: 1g\n    mem_limit: 512mb\n    memswap_limit: -1\n",
            &[],
        ),
        one(
            "build-ulimits",
            "services:\n  s:\n    build:\n      context: .\n      ulimits:\n        nofile: 1024\n",
            &[],
        ),
        one(
            "service-with-dots",
            "services:\n  a.b:\n    image: busybox\n  c:\n    image: busybox\n    depends_on: [a.b]\n",
            &[],
        ),
        one(
            "x-keys-everywhere",
            "x-top: 1\nservices:\n  s:\n    image: busybox\n    x-svc: 2\n    deploy:\n      x-d: 3\n    build:\n      context: .\n      x-b: 4\nnetworks:\n  n:\n    x-n: 5\n",
            &[],
        ),
        one(
            "label-file",
            "services:\n  s:\n    image: busybox\n    label_file: ./absent.labels\n",
            &[],
        ),
        one(
            "env-file-missing",
            "services:\n  s:\n    image: busybox\n    env_file: ./absent.env\n",
            &[],
        ),
        one(
            "env-file-optional",
            "services:\n  s:\n    image: busybox\n    env_file:\n      - path: ./absent.env\n        required: false\n",
            &[],
        ),
        one(
            "interpolate-int-default",
            "services:\n  s:\n    image: busybox\n    ports:\n      - target: ${T:-80}\n        published: ${P:-8080}\n",
            &[],
        ),
        one(
            "interpolate-key-untouched",
            "services:\n  s:\n    image: busybox\n    environment:\n      ${K}: v\n",
            &[("K", "kk")],
        ),
        one(
            "required-message-nested",
            "services:\n  s:\n    image: ${IMG:?set IMG (${HINT:-no hint})}\n",
            &[],
        ),
        one(
            "required-set",
            "services:\n  s:\n    image: ${IMG:?set IMG}\n",
            &[("IMG", "busybox")],
        ),
        one(
            "required-empty",
            "services:\n  s:\n    image: ${IMG:?set IMG}\n",
            &[("IMG", "")],
        ),
        one(
            "required-empty-plain",
            "services:\n  s:\n    image: busybox${IMG?set IMG}\n",
            &[("IMG", "")],
        ),
        one(
            "nested-unused-required",
            "services:\n  s:\n    image: ${IMG:-${FALLBACK:?need one}}\n",
            &[("IMG", "busybox")],
        ),
        one(
            "nested-used-required",
            "services:\n  s:\n    image: ${IMG:-${FALLBACK:?need one}}\n",
            &[("FALLBACK", "busybox")],
        ),
        one(
            "braces-default-then-var",
            "services:\n  s:\n    image: busybox\n    environment:\n      J: ${J:-{}}-${K}\n",
            &[("K", "k")],
        ),
        one(
            "unquoted-date",
            "services:\n  s:\n    image: busybox\n    environment:\n      D: 2024-01-01\n",
            &[],
        ),
        one(
            "quoted-date",
            "services:\n  s:\n    image: busybox\n    environment:\n      D: \"2024-01-01\"\n",
            &[],
        ),
        one(
            "date-label",
            "services:\n  s:\n    image: busybox\n    labels:\n      d: 2024-01-01\n",
            &[],
        ),
        one(
            "date-in-x",
            "x-when: 2024-01-01\nservices:\n  s:\n    image: busybox\n",
            &[],
        ),
        one(
            "unbalanced-command",
            "services:\n  s:\n    image: busybox\n    command: echo \"it's\n",
            &[],
        ),
        one(
            "undefined-volume",
            "services:\n  s:\n    image: busybox\n    volumes: [\"data:/data\"]\n",
            &[],
        ),
        one(
            "empty-source-volume",
            "services:\n  s:\n    image: busybox\n    volumes: [\"${STATIC}:/app/static\"]\n",
            &[],
        ),
        one(
            "bad-port-range",
            "services:\n  s:\n    image: busybox\n    ports: [\"8000-8001:80-82\"]\n",
            &[],
        ),
        one(
            "bad-port-proto",
            "services:\n  s:\n    image: busybox\n    ports: [\"80/http\"]\n",
            &[],
        ),
    ];
    // Override and extends cases across files.
    out.push(Case {
        name: "loader-override-ports-merge".into(),
        files: vec![
            (
                "a.yaml".into(),
                "services:\n  s:\n    image: busybox\n    ports: [\"8080:80\", \"9090:90\"]\n"
                    .into(),
            ),
            (
                "b.yaml".into(),
                "services:\n  s:\n    ports: [\"8080:80\", \"7070:70\"]\n".into(),
            ),
        ],
        explicit: vec!["a.yaml".into(), "b.yaml".into()],
        ..Case::default()
    });
    out.push(Case {
        name: "loader-override-reset".into(),
        files: vec![
            ("a.yaml".into(), "services:\n  s:\n    image: busybox\n    environment: {A: 1, B: 2}\n    ports: [\"8080:80\"]\n".into()),
            ("b.yaml".into(), "services:\n  s:\n    environment:\n      A: !reset\n    ports: !reset []\n".into()),
        ],
        explicit: vec!["a.yaml".into(), "b.yaml".into()],
        ..Case::default()
    });
    out.push(Case {
        name: "loader-extends-other-dir".into(),
        files: vec![
            ("compose.yaml".into(), "services:\n  s:\n    extends:\n      file: base.yaml\n      service: b\n".into()),
            ("base.yaml".into(), "services:\n  b:\n    build: ./ctx\n    volumes: [\"./data:/d\"]\n    env_file:\n      - path: ./absent.env\n        required: false\n".into()),
        ],
        ..Case::default()
    });
    out.push(Case {
        name: "loader-env-file-option".into(),
        files: vec![
            ("override.env".into(), "FOO=from-override\nBAR=${FOO}-bar\n".into()),
            (".env".into(), "FOO=from-dotenv\n".into()),
            ("compose.yaml".into(), "services:\n  s:\n    image: busybox\n    environment:\n      FOO: ${FOO}\n      BAR: ${BAR}\n".into()),
        ],
        env_files: vec!["override.env".into()],
        ..Case::default()
    });
    out.push(Case {
        name: "loader-env-files-later-wins".into(),
        files: vec![
            ("a.env".into(), "FOO=a\nONLY_A=1\n".into()),
            ("b.env".into(), "FOO=b\nUSES=${ONLY_A}\n".into()),
            ("compose.yaml".into(), "services:\n  s:\n    image: busybox\n    environment:\n      FOO: ${FOO}\n      USES: ${USES-unset}\n".into()),
        ],
        env_files: vec!["a.env".into(), "b.env".into()],
        ..Case::default()
    });
    out
}
