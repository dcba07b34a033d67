//! "Did you mean ...?" (the same rule as `cb_core::config`).

/// `` `a`, `b`, `c` ``
pub(crate) fn backticked<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> String {
    names
        .into_iter()
        .map(|n| format!("`{}`", n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `message; did you mean `x`?` when a candidate is close to `got`.
pub(crate) fn with_suggestion<S: AsRef<str>>(message: String, got: &str, candidates: &[S]) -> String {
    match nearest(got, candidates) {
        Some(best) => format!("{message}; did you mean `{best}`?"),
        None => message,
    }
}

/// The nearest candidate by edit distance, when close enough to be a typo.
pub(crate) fn nearest<'a, S: AsRef<str>>(got: &str, candidates: &'a [S]) -> Option<&'a str> {
    let got = got.to_ascii_lowercase();
    let limit = (got.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|c| (levenshtein(&got, c.as_ref()), c.as_ref()))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().take(256).collect();
    let b: Vec<char> = b.chars().take(256).collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_only_close_names() {
        assert_eq!(
            nearest("ai_provder", &["ai_provider", "database"]),
            Some("ai_provider")
        );
        assert_eq!(nearest("zzz", &["ai_provider"]), None);
    }
}
