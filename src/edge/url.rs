//! Building the clients' URLs: ids from payloads and answers only ever become single, encoded
//! path segments.

use reqwest::Url;

/// `url` with `segments` appended, each percent-encoded: an id can never reach another path.
pub fn with_segments(mut url: Url, segments: &[&str]) -> Url {
    url.path_segments_mut()
        .expect("an http(s) base URL has a path")
        .pop_if_empty()
        .extend(segments);
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_path_segments_never_paths() {
        let base = Url::parse("https://api.pagerduty.com").unwrap();
        let url = with_segments(base, &["incidents", "../users/P1?x=", "notes"]);
        assert_eq!(
            url.as_str(),
            "https://api.pagerduty.com/incidents/..%2Fusers%2FP1%3Fx=/notes"
        );
    }
}
