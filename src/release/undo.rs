//! The undo of a cutover, as the shell script a host's guard runs: put the release that was
//! live back exactly — its files from the kept copies, hoist's override, the records — then
//! its containers. hoist runs it through the guard too (it asks the guard to fire), so the
//! undo is one script whoever starts it, and it finishes even when hoist is gone. Every value
//! in it is quoted by the one renderer; the compose commands are rendered [`Command`]s.

use crate::command::{quote, quote_path};

/// A file of the release being restored: its name in the project directory, the sha256 it is
/// kept under, the mode it gets.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptFile {
    pub name: String,
    pub sha: String,
    pub mode: u32,
}

/// What an undo puts back.
#[derive(Debug, Clone, PartialEq)]
pub struct Restore {
    /// The project directory.
    pub dir: String,
    /// Says what it does, first line of its output ("putting r3 (reg/app:v3) back").
    pub headline: String,
    /// The files of the release put back (none: the files stay as they are).
    pub files: Vec<KeptFile>,
    /// Files of the attempt the restored release does not have.
    pub remove: Vec<String>,
    /// hoist's override file as the restored release had it (None: removed).
    pub pin: Option<String>,
    /// The records when hoist asked for the undo, and when the host undoes on its own.
    pub records_asked: String,
    pub records_lost: String,
    /// The containers: see [`Containers`].
    pub containers: Containers,
    /// When the host undoes on its own (the run was lost, or its deadline passed), the step it
    /// protects may have finished: then it stands instead (see [`Finished`]).
    pub unless_finished: Option<Finished>,
}

/// What shows that a cutover finished: every service of the release has containers, all
/// running, healthy where they have a health check, the pinned ones on the release's image,
/// and the HTTP check (when the release has one) answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    pub release: String,
    pub project: String,
    pub services: Vec<String>,
    pub pinned_services: Vec<String>,
    pub image: String,
    pub http: Option<String>,
}

impl Finished {
    /// A shell function `finished` that returns 0 when the cutover finished.
    fn function(&self) -> String {
        let http = match &self.http {
            Some(url) => format!(
                "  command -v curl >/dev/null 2>&1 || return 1\n\
                 curl -fsS -m 3 -o /dev/null {} || return 1\n",
                quote(url)
            ),
            None => String::new(),
        };
        format!(
            "finished() {{\n\
             command -v docker >/dev/null 2>&1 || return 1\n\
             for svc in {services}; do\n\
             ids=$(docker ps -aq --filter label=com.docker.compose.project={project} --filter label=com.docker.compose.service=\"$svc\")\n\
             [ -n \"$ids\" ] || return 1\n\
             for id in $ids; do\n\
             set -- $(docker inspect -f '{{{{.State.Status}}}} {{{{if .State.Health}}}}{{{{.State.Health.Status}}}}{{{{else}}}}none{{{{end}}}} {{{{.Config.Image}}}}' \"$id\") x x x\n\
             [ \"$1\" = running ] || return 1\n\
             [ \"$2\" = healthy ] || [ \"$2\" = none ] || return 1\n\
             case ' '{pinned}' ' in *\" $svc \"*) [ \"$3\" = {image} ] || return 1;; esac\n\
             done\n\
             done\n\
             {http}}}\n",
            services = self
                .services
                .iter()
                .map(|s| quote(s))
                .collect::<Vec<_>>()
                .join(" "),
            project = quote(&self.project),
            pinned = quote(&self.pinned_services.join(" ")),
            image = quote(&self.image),
        )
    }
}

/// How the undo brings the project's containers back.
#[derive(Debug, Clone, PartialEq)]
pub enum Containers {
    /// The restored release runs again: `stop` (rendered) the pinned services — a recreate cut
    /// short may have left the engine stopping one of them —, remove their containers that do
    /// not run `image` and any temp-named leftover of a cut recreate, then `up` (rendered, with
    /// --remove-orphans: services the attempt added go).
    Restart {
        project: String,
        services: Vec<String>,
        image: String,
        stop: String,
        up: String,
    },
    /// There was no release before: the attempt's containers and networks go, found by the
    /// project's label (no compose file or env file needed; named volumes stay).
    Remove { project: String },
}

const RECORDS: &str = ".hoist/releases.jsonl";

impl Restore {
    /// The script (POSIX sh).
    pub fn script(&self) -> String {
        let mut s = String::from("set -u\nrc=0\n");
        s.push_str(&format!("cd -- {} || exit 1\n", quote_path(&self.dir)));
        if let Some(f) = &self.unless_finished {
            s.push_str(&f.function());
            s.push_str(&format!(
                "if [ \"${{HOIST_GUARD_WHY:-asked}}\" != asked ] && finished; then echo {}; exit 0; fi\n",
                quote(&format!(
                    "hoist: the cutover to {} had finished and it passes its checks: it stays live",
                    f.release
                ))
            ));
        }
        s.push_str(&format!(
            "echo {}\n",
            quote(&format!("hoist: {}", self.headline))
        ));
        for f in &self.files {
            let tmp = format!("{}.hoist-undo", f.name);
            s.push_str(&format!(
                "{{ cp -f -- {kept} {tmp} && chmod {mode:o} -- {tmp} && mv -f -- {tmp} {name}; }} || rc=1\n",
                kept = quote(&format!(".hoist/releases/{}", f.sha)),
                tmp = quote(&tmp),
                mode = f.mode,
                name = quote(&f.name),
            ));
        }
        for name in &self.remove {
            s.push_str(&format!("rm -f -- {} || rc=1\n", quote(name)));
        }
        let pin = super::layout::PIN_FILE;
        match &self.pin {
            Some(text) => s.push_str(&format!(
                "{{ printf '%s' {text} > {tmp} && mv -f -- {tmp} {pin}; }} || rc=1\n",
                text = quote(text),
                tmp = quote(&format!("{pin}.hoist-undo")),
            )),
            None => s.push_str(&format!("rm -f -- {pin} || rc=1\n")),
        }
        // Records: JSON lines, each starting with `{`, so the quoted heredoc's end line cannot
        // occur in them.
        let tmp = format!("{RECORDS}.hoist-undo");
        s.push_str(&format!(
            "mkdir -p .hoist\nif [ \"${{HOIST_GUARD_WHY:-asked}}\" = asked ]; then\ncat > {tmp} <<'HOIST_RECORDS'\n{}HOIST_RECORDS\nelse\ncat > {tmp} <<'HOIST_RECORDS'\n{}HOIST_RECORDS\nfi\nmv -f -- {tmp} {RECORDS} || rc=1\n",
            self.records_asked, self.records_lost
        ));
        match &self.containers {
            Containers::Restart {
                project,
                services,
                image,
                stop,
                up,
            } => {
                s.push_str(&format!("( {stop} ) || rc=1\n"));
                // The engine's own view: every container of the project, by label.
                s.push_str(&format!(
                    "if command -v docker >/dev/null 2>&1; then\n\
                     for id in $(docker ps -aq --filter label=com.docker.compose.project={project}); do\n\
                       set -- $(docker inspect -f '{{{{.Name}}}} {{{{index .Config.Labels \"com.docker.compose.service\"}}}} {{{{.Config.Image}}}}' \"$id\" 2>/dev/null) x x x\n\
                       name=${{1#/}}; svc=$2; img=$3\n\
                       case \"$name\" in [0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]_*) docker rm -f \"$id\" >/dev/null || rc=1; continue;; esac\n\
                       case ' '{services}' ' in *\" $svc \"*) [ \"$img\" = {image} ] || docker rm -f \"$id\" >/dev/null || rc=1;; esac\n\
                     done\n\
                     fi\n",
                    project = quote(project),
                    services = quote(&services.join(" ")),
                    image = quote(image),
                ));
                s.push_str(&format!("( {up} ) || rc=1\n"));
            }
            Containers::Remove { project } => s.push_str(&format!(
                "if command -v docker >/dev/null 2>&1; then\n\
                 ids=$(docker ps -aq --filter label=com.docker.compose.project={p})\n\
                 [ -z \"$ids\" ] || docker rm -f $ids >/dev/null || rc=1\n\
                 nets=$(docker network ls -q --filter label=com.docker.compose.project={p})\n\
                 [ -z \"$nets\" ] || docker network rm $nets >/dev/null || rc=1\n\
                 fi\n",
                p = quote(project)
            )),
        }
        s.push_str("exit $rc\n");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn restore() -> Restore {
        Restore {
            dir: "~/apps/it's".into(),
            headline: "putting r1 (reg/app:v1) back".into(),
            files: vec![KeptFile {
                name: "compose.yml".into(),
                sha: "ab".repeat(32),
                mode: 0o644,
            }],
            remove: vec!["b c.env".into()],
            pin: Some("services:\n  web:\n    image: \"x\"  # y'z\n".into()),
            records_asked: "{\"id\":\"r1\"}\n".into(),
            records_lost: "{\"id\":\"r1\",\"note\":\"lost\"}\n".into(),
            containers: Containers::Restart {
                project: "app".into(),
                services: vec!["web".into(), "worker".into()],
                image: "reg/app@sha256:1".into(),
                stop: "docker compose stop web".into(),
                up: "docker compose up -d".into(),
            },
            unless_finished: None,
        }
    }

    #[test]
    fn the_script_quotes_every_value_and_keeps_records_verbatim() {
        let s = restore().script();
        assert!(
            s.contains("cd -- \"$HOME\"/'apps/it'\\''s' || exit 1"),
            "{s}"
        );
        assert!(s.contains("'b c.env'"), "{s}");
        assert!(s.contains("y'\\''z"), "{s}");
        assert!(
            s.contains("<<'HOIST_RECORDS'\n{\"id\":\"r1\"}\nHOIST_RECORDS"),
            "{s}"
        );
        assert!(s.contains("' ''web worker'' '"), "{s}");
        assert!(s.ends_with("exit $rc\n"));
    }

    /// The script runs as written in a real sh: files, pin and records land, the container
    /// part is skipped here (no compose project named so).
    #[test]
    fn the_script_restores_files_pin_and_records_in_a_real_shell() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("proj");
        std::fs::create_dir_all(dir.join(".hoist/releases")).unwrap();
        let sha = "cd".repeat(32);
        std::fs::write(dir.join(".hoist/releases").join(&sha), "services: {}\n").unwrap();
        std::fs::write(dir.join("compose.yml"), "changed\n").unwrap();
        std::fs::write(dir.join("b c.env"), "X=1\n").unwrap();
        let mut r = restore();
        r.dir = dir.to_string_lossy().into_owned();
        r.files[0].sha = sha;
        r.containers = Containers::Remove {
            project: "no-such-project-hoist-test".into(),
        };
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(r.script())
            .env("HOIST_GUARD_WHY", "lost")
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{said}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(said.contains("putting r1"), "{said}");
        assert_eq!(
            std::fs::read_to_string(dir.join("compose.yml")).unwrap(),
            "services: {}\n"
        );
        assert!(!dir.join("b c.env").exists());
        assert!(
            std::fs::read_to_string(dir.join(super::super::layout::PIN_FILE))
                .unwrap()
                .contains("y'z")
        );
        assert_eq!(
            std::fs::read_to_string(dir.join(RECORDS)).unwrap(),
            "{\"id\":\"r1\",\"note\":\"lost\"}\n"
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("compose.yml"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o644);
    }
}
