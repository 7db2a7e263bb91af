//! The prompt says where the session points: the environment and who is connected.

use std::borrow::Cow;

use reedline::{Prompt, PromptEditMode, PromptHistorySearch, PromptHistorySearchStatus};

pub struct ReplPrompt {
    left: String,
}

impl ReplPrompt {
    /// `hoist(production) [h1=web1 h2=web2]`; one host shows without its variable name.
    pub fn new(env: Option<&str>, bound: &[(String, String)]) -> Self {
        let mut left = String::from("hoist");
        if let Some(e) = env {
            left.push_str(&format!("({e})"));
        }
        const SHOWN: usize = 3;
        match bound {
            [] => {}
            [(_, name)] => left.push_str(&format!(" [{name}]")),
            many => {
                let mut parts: Vec<String> = many
                    .iter()
                    .take(SHOWN)
                    .map(|(var, name)| format!("{var}={name}"))
                    .collect();
                if many.len() > SHOWN {
                    parts.push(format!("+{}", many.len() - SHOWN));
                }
                left.push_str(&format!(" [{}]", parts.join(" ")));
            }
        }
        ReplPrompt { left }
    }
}

impl Prompt for ReplPrompt {
    fn render_prompt_left(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.left)
    }

    fn render_prompt_right(&self) -> Cow<'_, str> {
        Cow::Borrowed("")
    }

    fn render_prompt_indicator(&self, _mode: PromptEditMode) -> Cow<'_, str> {
        Cow::Borrowed("> ")
    }

    fn render_prompt_multiline_indicator(&self) -> Cow<'_, str> {
        Cow::Borrowed("… ")
    }

    fn render_prompt_history_search_indicator(&self, search: PromptHistorySearch) -> Cow<'_, str> {
        let failing = match search.status {
            PromptHistorySearchStatus::Passing => "",
            PromptHistorySearchStatus::Failing => "failing ",
        };
        Cow::Owned(format!("({failing}search: {}) ", search.term))
    }
}
