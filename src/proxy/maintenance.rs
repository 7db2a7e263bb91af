//! Maintenance mode: while work is done by hand, an app's host names answer 503 with a page
//! instead of reaching the app. It is a route of its own in Caddy's config, placed just before
//! the app's route with the same match, so the app's route (and its upstream, which a release
//! may still switch) stays as it was and `live` only removes the page's route.

/// The message shown when none is given.
pub fn default_message(app: &str) -> String {
    format!("{app} is down for maintenance and will be back soon.")
}

const HEAD: &str = "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Down for maintenance</title></head>\n<body><h1>Down for maintenance</h1>\n<p>";
const TAIL: &str = "</p>\n</body></html>\n";

/// The page Caddy answers with: the message, HTML-escaped, in a fixed frame.
pub fn page(message: &str) -> String {
    let escaped = message
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;");
    format!("{HEAD}{escaped}{TAIL}")
}

/// The message a page of [`page`] shows; none when `body` is not such a page.
pub fn message_of(body: &str) -> Option<String> {
    let escaped = body.strip_prefix(HEAD)?.strip_suffix(TAIL)?;
    Some(
        escaped
            .replace("&#39;", "'")
            .replace("&quot;", "\"")
            .replace("&gt;", ">")
            .replace("&lt;", "<")
            .replace("&amp;", "&"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_goes_into_the_page_escaped_and_comes_back_as_it_was() {
        let m = "Back at 5 <b>pm</b> & \"soon\" — it's fine";
        let p = page(m);
        assert!(p.contains("Back at 5 &lt;b&gt;pm&lt;/b&gt; &amp; &quot;soon&quot;"));
        assert!(!p.contains("<b>"));
        assert_eq!(message_of(&p).as_deref(), Some(m));
        assert_eq!(message_of("plain text"), None);
    }
}
