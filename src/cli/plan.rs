//! How a dry run's plan reads: per host, in order, every change the run would make (file
//! diffs in full), then what the plan took for granted and where it stops being exact.

use std::io::IsTerminal;

use super::json::Json;
use crate::effect::Plan;
use crate::present::lines::{Lines, paint_diff};
use crate::present::style::Painter;
use crate::runtime::Runtime;

/// Print the run's plan (stdout): text, or one `{"event":"plan"}` object with `--json`.
pub fn show(rt: &Runtime, json: bool, stopped: bool) {
    let plan = rt.services.effects().plan();
    let redact = |s: &str| rt.services.redactor.redact(s);
    if json {
        let mut v = plan.to_json(&redact);
        v["event"] = "plan".into();
        v["complete"] = (!stopped).into();
        Json::emit(&v);
        return;
    }
    let p = Painter::for_stream(std::io::stdout().is_terminal());
    print!("{}", render(&plan, &p, &redact, stopped));
}

/// The plan as text.
pub fn render(plan: &Plan, p: &Painter, redact: &dyn Fn(&str) -> String, stopped: bool) -> String {
    let mut out = String::new();
    out.push_str(&p.bold("Plan (dry run: nothing was changed)"));
    out.push('\n');
    for host in plan.hosts() {
        let prefix = Lines::prefix(p, &host);
        let mut step: Option<&str> = None;
        for c in plan.changes.iter().filter(|c| c.host == host) {
            if c.step.as_deref() != step {
                step = c.step.as_deref();
                if let Some(s) = step {
                    out.push_str(&format!("{prefix}{}\n", p.dim(&format!("▶ {s}"))));
                }
            }
            let kind = c.change.kind();
            out.push_str(&format!(
                "{prefix}{} {}\n",
                p.yellow(&format!("~ {kind}:")),
                redact(&c.change.summary())
            ));
            for n in &c.notes {
                out.push_str(&format!("{prefix}    {} {}\n", p.dim("·"), redact(n)));
            }
            if let Some(d) = c.change.diff().filter(|d| !d.is_empty()) {
                out.push_str(&paint_diff(p, &host, &redact(&d)));
                out.push('\n');
            }
        }
    }
    for (host, what) in &plan.assumed {
        let on = if host.is_empty() {
            String::new()
        } else {
            Lines::prefix(p, host)
        };
        out.push_str(&format!("{on}{} {}\n", p.blue("assumed:"), redact(what)));
    }
    for u in &plan.uncertain {
        let on = u
            .host
            .as_ref()
            .map(|h| Lines::prefix(p, h))
            .unwrap_or_default();
        out.push_str(&format!(
            "{on}{} from {} on: {}\n",
            p.red("uncertain"),
            u.at,
            redact(&u.reason)
        ));
    }
    let hosts = plan.hosts().len();
    if plan.is_empty() {
        out.push_str("Nothing to do: the run would change nothing.\n");
    } else {
        out.push_str(&format!(
            "{} change(s) on {hosts} host(s){}.\n",
            plan.changes.len(),
            if stopped {
                ", up to where the run stopped"
            } else {
                ""
            }
        ));
    }
    out
}
