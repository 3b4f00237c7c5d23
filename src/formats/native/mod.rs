//! purposelint's own manifests (spec §3): `kind: dataset`, `kind: sink`, `kind: pipeline`.

mod parse;
mod resolve;
mod stream;

pub use parse::{read_documents, Doc, MANIFEST_KINDS};
pub use resolve::resolve;
pub use stream::read_file as read_streamed;

/// True when the text declares a manifest kind on a line of its own, so that a file
/// that fails to parse is reported rather than skipped as templated YAML.
pub fn declares_manifest_kind(text: &str) -> bool {
    text.lines().any(|line| {
        let Some(rest) = line.trim().strip_prefix("kind:") else {
            return false;
        };
        let value = rest.split('#').next().unwrap_or("").trim();
        let value = value.trim_matches(|c| c == '"' || c == '\'');
        MANIFEST_KINDS.contains(&value)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn declared_kinds() {
        assert!(super::declares_manifest_kind("a: 1\nkind: dataset\n"));
        assert!(super::declares_manifest_kind("  kind: \"sink\" # x\n"));
        assert!(!super::declares_manifest_kind("kind: Deployment\n"));
        assert!(!super::declares_manifest_kind(
            "{{ if .x }}\nkind: ConfigMap\n"
        ));
    }
}
