//! URLs as they may be shown to people: without user info, query-string credentials or OAuth parameters.

use reqwest::Url;

/// True for query parameters that carry or derive from the credentials.
fn is_secret_param(name: &str) -> bool {
    name == "consumer_key" || name == "consumer_secret" || name.starts_with("oauth_")
}

pub(crate) fn redact_url(url: &Url) -> String {
    let mut shown = url.clone();
    // Errors are ignored on purpose: they only happen for URLs that cannot carry user info at all.
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(name, _)| !is_secret_param(name))
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    if kept.is_empty() {
        shown.set_query(None);
    } else {
        shown.query_pairs_mut().clear().extend_pairs(kept);
    }
    shown.to_string()
}

pub(crate) fn redact_url_str(url: &str) -> String {
    match Url::parse(url) {
        Ok(parsed) => redact_url(&parsed),
        Err(_) => "<unparseable url>".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_credentials_and_oauth_but_keeps_paging() {
        let url = Url::parse(
            "https://ck:cs@shop.example/wp-json/wc/v3/orders?page=2&consumer_key=ck_1&consumer_secret=cs_2&oauth_signature=x",
        )
        .unwrap();
        let shown = redact_url(&url);
        assert_eq!(shown, "https://shop.example/wp-json/wc/v3/orders?page=2");
    }
}
