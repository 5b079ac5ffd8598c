//! File paths ⇄ `file://` URIs. Generated file names contain characters that URIs
//! percent-encode (`$` → `%24`); paths are always compared after decoding.

use std::path::{Path, PathBuf};

pub fn path_to_uri(path: &Path) -> String {
    url::Url::from_file_path(path).map(|u| u.to_string()).unwrap_or_else(|()| format!("file://{}", path.display()))
}

/// The decoded path of a `file://` URI; `None` for other schemes.
pub fn uri_to_path(uri: &str) -> Option<PathBuf> {
    url::Url::parse(uri).ok()?.to_file_path().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoded_names_round_trip() {
        let p = Path::new("/tmp/x/src/providers/get$Items by id.ts");
        let uri = path_to_uri(p);
        assert!(uri.contains("%20"), "{uri}");
        assert_eq!(uri_to_path(&uri).as_deref(), Some(p));
        // Servers (vscode-uri style) encode `$` too; both spellings decode to the same path.
        assert_eq!(uri_to_path("file:///a/%24b.ts").as_deref(), Some(Path::new("/a/$b.ts")));
        assert_eq!(uri_to_path("file:///a/$b.ts").as_deref(), Some(Path::new("/a/$b.ts")));
        assert_eq!(uri_to_path("untitled:1"), None);
    }
}
