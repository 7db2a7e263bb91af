//! "did you mean …?": the closest known name to a mistyped one (a recipe, a recipe's flag, a
//! template variable), so an error can offer the likeliest fix instead of only refusing.

/// The candidate closest to `word`, when it is close enough to be what was meant: at most
/// a third of `word`'s length apart (at least 2) in edits, a swap of two letters counting
/// as one (`prot` → `port`). Ties go to the first candidate.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = strsim::damerau_levenshtein(word, c);
        if d <= limit && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn finds_the_closest_within_reach() {
        let flags = ["health_port", "health_path", "app", "registry"];
        assert_eq!(closest("helth_port", flags), Some("health_port"));
        assert_eq!(closest("prot", ["app", "port"]), Some("port"));
        assert_eq!(closest("regsitry", flags), Some("registry"));
        assert_eq!(closest("zzzzqqqq", flags), None);
        assert_eq!(closest("x", Vec::<&str>::new()), None);
        // An exact match is distance 0 and wins over a near one.
        assert_eq!(closest("app", ["apps", "app"]), Some("app"));
    }
}
