//! The message inside a registry's JSON error body, for errors that say what the registry said.

/// What a registry error body says: `CODE: message (detail)` from `{"errors": [...]}`.
pub(crate) fn said(body: &str) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<Item>,
    }
    #[derive(serde::Deserialize)]
    struct Item {
        code: Option<String>,
        message: Option<String>,
    }
    match serde_json::from_str::<Errors>(body) {
        Ok(e) if !e.errors.is_empty() => e
            .errors
            .iter()
            .map(|i| {
                format!(
                    "{}: {}",
                    i.code.as_deref().unwrap_or("ERROR"),
                    i.message.as_deref().unwrap_or("")
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        _ => body.trim().chars().take(300).collect(),
    }
}
