//! "Did you mean ...?": nearest-name suggestions for unknown keys and names.

/// `` `a`, `b`, `c` ``
pub fn backticked<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> String {
    names
        .into_iter()
        .map(|n| format!("`{}`", n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Appends "; did you mean `x`?" when a candidate is close to `got`.
pub fn with_suggestion<S: AsRef<str>>(message: String, got: &str, candidates: &[S]) -> String {
    match nearest(got, candidates) {
        Some(best) => format!("{message}; did you mean `{best}`?"),
        None => message,
    }
}

/// The candidate nearest to `got` by edit distance, if it is close enough to
/// be a plausible typo (at most a third of the word's length, and at least 1).
pub fn nearest<'a, S: AsRef<str>>(got: &str, candidates: &'a [S]) -> Option<&'a str> {
    let got_lower = got.to_ascii_lowercase();
    let limit = (got.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|c| (levenshtein(&got_lower, c.as_ref()), c.as_ref()))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance (insertions, deletions, substitutions), bounded input sizes.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().take(256).collect();
    let b: Vec<char> = b.chars().take(256).collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_suggests_close_names_only() {
        assert_eq!(
            nearest("failure_treshold", &["failure_threshold", "success_threshold"]),
            Some("failure_threshold")
        );
        assert_eq!(nearest("zzz", &["failure_threshold"]), None);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
    }
}
