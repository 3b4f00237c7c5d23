//! "Did you mean" suggestions.

/// The candidate closest to `target`, if it is close enough to be a plausible typo.
pub fn closest<'a, I>(target: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let len = target.chars().count();
    // Never a name that shares nothing with the target (`d` for `o`).
    let limit = (len / 3).max(2).min(len.saturating_sub(1));
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(target, c), c))
        .filter(|&(d, _)| d <= limit)
        .min_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)))
        .map(|(_, c)| c)
}

/// `did you mean `x`?` for help text.
pub fn did_you_mean<'a, I>(target: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    closest(target, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let c = ["purposes", "categories", "fields"];
        assert_eq!(closest("purpose", c), Some("purposes"));
        assert_eq!(closest("catgories", c), Some("categories"));
        assert_eq!(closest("zzz", c), None);
        assert_eq!(closest("o", ["d", "a.b"]), None);
        assert_eq!(closest("ab", ["cd"]), None);
        assert_eq!(closest("abc", ["abd"]), Some("abd"));
    }
}
