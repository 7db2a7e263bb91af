//! The command line (API.md "CLI").

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "hoist",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("HOIST_GIT_COMMIT"), ")"),
    about = "Deploy recipes in Rhai: SSH hosts, Docker, compose, mounts, registries",
    allow_external_subcommands = true,
    after_help = "Recipes run as `hoist <recipe> [--param value]...` (built-in: deploy, upgrade, bluegreen, \
                  status, releases, logs, exec, destroy, gitpull, facts, adhoc; a project's recipes/ override them).\n\
                  `hoist recipes` lists them, `hoist <recipe> --help` shows their parameters."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args, Default)]
pub struct Global {
    /// Environment of hoist.toml to use.
    #[arg(long, global = true, env = "HOIST_ENV")]
    pub env: Option<String>,
    /// Set a var (overrides inventory vars and recipe defaults); repeatable.
    #[arg(long = "set", value_name = "K=V", global = true)]
    pub sets: Vec<String>,
    /// Only the inventory hosts matching PATTERN: globs (`*`, `?`) over host names, addresses
    /// and group names; comma-separated or repeated. A pattern matching nothing is an error.
    #[arg(long, value_name = "PATTERN", global = true)]
    pub limit: Vec<String>,
    /// Answer yes to every confirm().
    #[arg(long, short = 'y', global = true)]
    pub yes: bool,
    /// How many hosts a fan-out works on at once.
    #[arg(long, global = true, default_value_t = 32)]
    pub forks: usize,
    /// Machine output: one JSON object per line.
    #[arg(long, global = true)]
    pub json: bool,
    /// Trust hosts seen for the first time (a changed key still fails).
    #[arg(long, global = true)]
    pub accept_new_host_keys: bool,
    /// Ask for the sudo password once, at the start (for `sudo: true` commands of users
    /// without passwordless sudo). HOIST_SUDO_PASSWORD gives it without asking.
    #[arg(long, global = true)]
    pub ask_sudo_password: bool,
    /// Show every command as it starts.
    #[arg(long, short = 'v', global = true)]
    pub verbose: bool,
    /// Quiet: no step banners or progress, only warnings, errors, the summary of failed hosts
    /// and the result.
    #[arg(long, short = 'q', global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Plan only: connect, read the hosts' state, and print every change the run would make
    /// (file diffs, docker/compose/registry operations, commands); change nothing.
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// Print the diff of every file the run changes.
    #[arg(long, global = true)]
    pub diff: bool,
    /// Seconds to wait for another run's lock on the app before refusing (default: refuse at once).
    #[arg(long, value_name = "SECONDS", global = true, default_value_t = 0.0)]
    pub lock_wait: f64,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a recipe file.
    Run { file: std::path::PathBuf },
    /// List recipes (built-in and the project's) with their one-line docs.
    Recipes,
    /// Parse, resolve imports and flag unknown functions; runs nothing.
    Check {
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
    /// Reference for every script function (or the ones matching NAME).
    Doc {
        name: Option<String>,
        /// Print the reference as the book's Markdown page (docs/src/reference/functions.md).
        #[arg(long)]
        markdown: bool,
        /// With --markdown: the built-in recipes' page instead (docs/src/reference/recipes.md).
        #[arg(long, requires = "markdown")]
        recipes: bool,
    },
    /// Interactive session with the same primitives; HOSTs are bound as h1, h2... (`host` for one).
    Repl { hosts: Vec<String> },
    /// Start a project here: a commented hoist.toml (environment `production`, group `web` of
    /// the HOSTs, or `local` for this machine), an example recipe in recipes/, and the next
    /// commands to type. Writes only new files; --dry-run shows them.
    Init { hosts: Vec<String> },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell), recipes and their
    /// parameters included: `source <(hoist completions bash)`.
    Completions { shell: String },
    /// Print the man page (roff): `hoist man | man -l -`.
    Man,
    /// Who holds an app's lock on each host (`status`), or break it (`release`).
    Lock {
        #[command(subcommand)]
        action: LockAction,
    },
    /// The front proxy (Caddy, container hoist-proxy) of each host: `status` (state, image, routes,
    /// upstreams), `logs`, `reboot` (restart it and check that every route came back).
    Proxy {
        #[command(subcommand)]
        action: ProxyAction,
    },
    /// The audit log as a table: every change of every run here (run id, recipe, user, host,
    /// step, what changed, outcome).
    Log {
        /// Only runs of this app (the recipe's `--app`).
        #[arg(long)]
        app: Option<String>,
        /// Only since then: a duration back from now (`2h`, `30m`) or an RFC 3339 time.
        #[arg(long)]
        since: Option<String>,
        /// Only the run with this id (or id prefix).
        #[arg(long)]
        run: Option<String>,
    },
    /// A recipe: `hoist deploy --tag v2`.
    #[command(external_subcommand)]
    Recipe(Vec<String>),
}

#[derive(Debug, Clone, Args)]
pub struct LockTarget {
    /// The app (the lock's name).
    #[arg(long)]
    pub app: String,
    /// Inventory group ("" = every host of the environment).
    #[arg(long, default_value = "")]
    pub group: String,
}

#[derive(Debug, Clone, Args)]
pub struct ProxyTarget {
    /// Inventory group ("" = every host of the environment).
    #[arg(long, default_value = "")]
    pub group: String,
    /// The proxy's image (any with Caddy >= 2.6 and wget; default: the `proxy_image` var, else caddy:2).
    #[arg(long)]
    pub proxy_image: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ProxyAction {
    /// One row per host and route: the proxy's state and image, each route's names and upstream,
    /// requests in flight.
    Status(ProxyTarget),
    /// The proxy's last log lines on each host.
    Logs {
        #[command(flatten)]
        target: ProxyTarget,
        /// Lines from the end.
        #[arg(long, default_value_t = 100)]
        tail: u64,
    },
    /// Restart the proxy on each host (a new container with --proxy-image when it runs another
    /// image) and check that it came back with every route it had.
    Reboot(ProxyTarget),
    /// Put an app in maintenance mode on each host: its names answer 503 with a page (the
    /// message) while work is done by hand; its route and live release stay as they are.
    Maintenance {
        #[command(flatten)]
        target: ProxyTarget,
        /// The app (its route's name: the compose project).
        #[arg(long)]
        app: String,
        /// The page's message (default: "APP is down for maintenance and will be back soon.").
        #[arg(long)]
        message: Option<String>,
    },
    /// End maintenance mode: the app's names reach its live release again.
    Live {
        #[command(flatten)]
        target: ProxyTarget,
        /// The app.
        #[arg(long)]
        app: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum LockAction {
    /// One row per host: free, held (by whom, since when) or stale, or why the host did not answer.
    Status(LockTarget),
    /// Remove the lock on every host whoever holds it (for a run that is gone).
    Release(LockTarget),
}
