//! `hoist init [HOST...]`: start a project in the current directory — a commented hoist.toml
//! (one environment, one group of the hosts given, else `local`: this machine), an example
//! recipe in recipes/, and the next three commands to type. Only new files are written: one
//! that exists is refused, named, before anything is written. The files pass the one effect
//! boundary like every change a run makes, so `--dry-run` shows them as a plan shows files.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::Global;
use super::json::Json;
use crate::error::{Error, Result};
use crate::host::FileOpts;
use crate::runtime::Runtime;

/// The example recipe `hoist init` writes as recipes/hello.rhai; it passes `hoist check` and
/// runs on any host (tests/init.rs runs it on the fleet).
pub const HELLO_RECIPE: &str = include_str!("hello.rhai");

/// The environment and the group hoist.toml gets.
const ENV: &str = "production";
const GROUP: &str = "web";

/// The files compose reads when none is named, in its order (as `h.compose` picks them).
const COMPOSE_FILES: &[&str] = &[
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];

/// What `hoist init` found in the directory and was asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    pub dir: PathBuf,
    /// The app's name: the directory's, as compose accepts project names.
    pub app: String,
    /// The compose file found (its file name), if any.
    pub compose: Option<String>,
    /// Does the compose file name its image `${IMAGE}` (what `hoist deploy` sets)?
    pub compose_uses_image_var: bool,
    /// Is there a Dockerfile for `hoist deploy` to build?
    pub dockerfile: bool,
    /// The host specs given (checked), or `local` when none were.
    pub hosts: Vec<String>,
}

impl Project {
    /// Read the directory (its compose file, a Dockerfile) and check the host specs.
    pub fn survey(dir: &Path, hosts: &[String]) -> Result<Project> {
        for h in hosts {
            crate::host::HostSpec::parse(h)
                .map_err(|e| Error::usage(format!("hoist init {h}: {}", e.message)))?;
        }
        let compose = COMPOSE_FILES
            .iter()
            .find(|f| dir.join(f).is_file())
            .map(|f| f.to_string());
        let compose_uses_image_var = compose.as_ref().is_some_and(|f| {
            std::fs::read_to_string(dir.join(f))
                .is_ok_and(|t| t.contains("${IMAGE}") || t.contains("$IMAGE"))
        });
        Ok(Project {
            app: app_name(dir),
            compose,
            compose_uses_image_var,
            dockerfile: dir.join("Dockerfile").is_file(),
            hosts: if hosts.is_empty() {
                vec!["local".to_string()]
            } else {
                hosts.to_vec()
            },
            dir: dir.to_path_buf(),
        })
    }

    /// The files to write, in order: (path, text).
    pub fn files(&self) -> Vec<(PathBuf, String)> {
        vec![
            (self.dir.join("hoist.toml"), self.hoist_toml()),
            (
                self.dir.join("recipes").join("hello.rhai"),
                HELLO_RECIPE.to_string(),
            ),
        ]
    }

    fn placeholder(&self) -> bool {
        self.hosts == ["local"]
    }

    /// hoist.toml, commented for someone who has not read the reference yet.
    pub fn hoist_toml(&self) -> String {
        let q = |s: &str| toml::Value::String(s.to_string()).to_string();
        let mut vars = vec![format!("app = {}", q(&self.app))];
        if let Some(f) = &self.compose {
            vars.push(format!("compose = {}", q(f)));
        }
        let hosts: Vec<String> = self.hosts.iter().map(|h| q(h)).collect();
        let placeholder = if self.placeholder() {
            "# `local` is this machine, a placeholder: put your servers here.\n"
        } else {
            ""
        };
        format!(
            "# hoist.toml: this project's hosts and vars, written by `hoist init`. hoist finds it in\n\
             # the current directory or a parent (like a justfile); the project's own recipes live in\n\
             # recipes/ beside it and override built-in ones of the same name.\n\
             \n\
             # Vars of every environment. A var named like a recipe's parameter gives that parameter\n\
             # its value (`hoist deploy` then needs no --app); flags and --set still win.\n\
             vars = {{ {vars} }}\n\
             \n\
             # One environment. With only one in the file it is selected by default; add others\n\
             # ([env.staging] ...) and pick one with --env NAME.\n\
             [env.{ENV}]\n\
             # e.g. registry = \"registry.example.org/lab\" for `hoist deploy` to push to (and\n\
             # registry_user, with the password in the REGISTRY_PASSWORD environment variable).\n\
             vars = {{}}\n\
             \n\
             # Groups of hosts. A host is \"[user@]host[:port]\" as ssh takes it (keys, ProxyJump and\n\
             # the rest come from ~/.ssh/config, as with ssh itself) or \"local\" for this machine.\n\
             [env.{ENV}.hosts]\n\
             {placeholder}{GROUP} = [{hosts}]\n\
             \n\
             # Vars of one group or one host reach recipes through h.vars:\n\
             # [env.{ENV}.group_vars.{GROUP}]\n\
             # port = 8080\n",
            vars = vars.join(", "),
            hosts = hosts.join(", "),
        )
    }

    /// The three commands to type next, each with what it shows.
    pub fn next_commands(&self) -> Vec<(String, String)> {
        let third = match &self.compose {
            // A real deploy, not yet `--dry-run`: a dry run of `--no-registry` cannot plan
            // sending an image its own plan only builds (it stops at "not an image of
            // local's engine"), and with a registry it needs one set in hoist.toml first.
            Some(f) if self.dockerfile => (
                "hoist deploy --no-registry".to_string(),
                format!("build ./Dockerfile, send the image over SSH, start {f} on every host"),
            ),
            _ => (
                "hoist recipes".to_string(),
                "the built-in recipes; `hoist deploy --help` describes one".to_string(),
            ),
        };
        vec![
            (
                "hoist facts".to_string(),
                "can hoist reach every host? one row each".to_string(),
            ),
            (
                "hoist hello".to_string(),
                "the example recipe, recipes/hello.rhai".to_string(),
            ),
            third,
        ]
    }

    /// What to know before those commands.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.placeholder() {
            notes.push(format!(
                "The hosts are `local` (this machine) for now: put your servers in hoist.toml's \
                 [env.{ENV}.hosts], or run `hoist init HOST...` in a fresh directory."
            ));
        }
        match &self.compose {
            Some(f) if !self.dockerfile => notes.push(format!(
                "{f} is here but no Dockerfile: `hoist deploy` builds one (see `hoist deploy --help`)."
            )),
            Some(f) if !self.compose_uses_image_var => notes.push(format!(
                "{f} should name the service's image `image: ${{IMAGE}}`: the image `hoist deploy` \
                 builds and tags."
            )),
            _ => {}
        }
        notes
    }
}

/// The directory's name as a compose project name: lower case letters, digits, `-`, `_`.
fn app_name(dir: &Path) -> String {
    let raw = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let name: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let name = name.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
    if name.is_empty() {
        "app".to_string()
    } else {
        name.to_string()
    }
}

/// `hoist init [HOST...]` in the current directory.
pub fn run(g: &Global, hosts: &[String]) -> Result<()> {
    let project = Project::survey(&std::env::current_dir()?, hosts)?;
    let files = project.files();
    for (path, _) in &files {
        // A dangling symlink counts as there: writing through it would create its target.
        if std::fs::symlink_metadata(path).is_ok() {
            return Err(Error::usage(format!(
                "{} exists already: hoist init writes only new files",
                path.display()
            ))
            .hint("edit it, or move it away and run hoist init again"));
        }
    }
    let rt = runtime(g)?;
    let written = write(&rt, &project, &files);
    rt.shutdown();
    written?;
    if g.dry_run {
        super::plan::show(&rt, g.json, false);
        return Ok(());
    }
    let next = project.next_commands();
    if g.json {
        Json::emit(&serde_json::json!({"event": "result", "value": {
            "files": files.iter().map(|(p, _)| p.display().to_string()).collect::<Vec<_>>(),
            "next": next.iter().map(|(c, _)| c).collect::<Vec<_>>(),
            "notes": project.notes(),
        }}));
        return Ok(());
    }
    println!(
        "Wrote hoist.toml (environment {ENV}, group {GROUP}: {}) and recipes/hello.rhai.",
        project.hosts.join(", ")
    );
    for n in project.notes() {
        println!("{n}");
    }
    println!("Next:");
    let width = next.iter().map(|(c, _)| c.len()).max().unwrap_or(0);
    for (cmd, what) in &next {
        println!("  {cmd:<width$}   # {what}");
    }
    Ok(())
}

/// A runtime for the local machine only: a hoist.toml of a parent directory is not this
/// project's, and nothing here connects anywhere.
fn runtime(g: &Global) -> Result<Arc<Runtime>> {
    let (reporter, _) = super::reporter(g);
    let rt = Runtime::builder()
        .reporter(reporter)
        .inventory(crate::inventory::Inventory::default())
        .build()?;
    if g.dry_run {
        rt.services.effects().set_mode(crate::effect::Mode::Plan);
    }
    Ok(rt)
}

fn write(rt: &Runtime, project: &Project, files: &[(PathBuf, String)]) -> Result<()> {
    let local = rt.local();
    let text = |p: &Path| p.display().to_string();
    rt.block_on(async {
        local
            .mkdir(&text(&project.dir.join("recipes")), &FileOpts::default())
            .await?;
        for (path, content) in files {
            local
                .write(&text(path), content, &FileOpts::default())
                .await?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(dir: &str, hosts: &[&str], compose: Option<&str>, dockerfile: bool) -> Project {
        Project {
            dir: PathBuf::from(dir),
            app: app_name(Path::new(dir)),
            compose: compose.map(str::to_string),
            compose_uses_image_var: true,
            dockerfile,
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
        }
    }

    #[test]
    fn hoist_toml_parses_as_an_inventory_with_the_hosts_given() {
        let p = project(
            "/srv/My Shop",
            &["deploy@web1.example.org:2222", "web2"],
            Some("docker-compose.yml"),
            true,
        );
        assert_eq!(p.app, "my-shop");
        let text = p.hoist_toml();
        let v: toml::Value = toml::from_str(&text).unwrap();
        assert_eq!(v["vars"]["app"].as_str(), Some("my-shop"));
        assert_eq!(v["vars"]["compose"].as_str(), Some("docker-compose.yml"));
        let web = v["env"]["production"]["hosts"]["web"].as_array().unwrap();
        assert_eq!(web.len(), 2);
        assert_eq!(web[0].as_str(), Some("deploy@web1.example.org:2222"));
        assert!(!text.contains("placeholder"), "{text}");
        // Every line is a comment, blank, a table or a key: commented for a newcomer.
        assert!(text.lines().filter(|l| l.starts_with('#')).count() >= 10);
    }

    #[test]
    fn no_hosts_is_the_local_placeholder_and_no_compose_file_no_compose_var() {
        let p = project("/x/notes", &["local"], None, false);
        let v: toml::Value = toml::from_str(&p.hoist_toml()).unwrap();
        assert!(v["vars"].get("compose").is_none());
        assert_eq!(
            v["env"]["production"]["hosts"]["web"][0].as_str(),
            Some("local")
        );
        assert!(p.hoist_toml().contains("a placeholder"));
        assert_eq!(p.next_commands()[2].0, "hoist recipes");
        assert!(p.notes()[0].contains("`local` (this machine)"));
    }

    #[test]
    fn the_third_command_is_a_deploy_when_there_is_something_to_build() {
        let p = project("/x/shop", &["host1"], Some("compose.yml"), true);
        assert_eq!(p.next_commands()[2].0, "hoist deploy --no-registry");
        assert!(p.notes().is_empty(), "{:?}", p.notes());
        let p = project("/x/shop", &["host1"], Some("compose.yml"), false);
        assert_eq!(p.next_commands()[2].0, "hoist recipes");
        assert!(p.notes()[0].contains("no Dockerfile"));
    }

    #[test]
    fn app_names_are_what_compose_accepts() {
        assert_eq!(app_name(Path::new("/a/Web App.v2")), "web-app-v2");
        assert_eq!(app_name(Path::new("/a/_x")), "x");
        assert_eq!(app_name(Path::new("/")), "app");
    }
}
