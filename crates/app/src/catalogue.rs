//! Loads the lifecycle catalogue: a YAML file given by the operator, or the
//! sample shipped with gatewatch. Errors name the file, the line and what to do.

use std::path::Path;

use anyhow::{Context, Result};
use gatewatch_engine::lifecycle::{Catalogue, BUILTIN_CATALOGUE_YAML};

/// Catalogue files larger than this are refused (a catalogue is a few hundred products).
pub const MAX_CATALOGUE_BYTES: u64 = 16 << 20;

/// Parses and validates catalogue YAML; `origin` names it in errors.
pub fn parse(text: &str, origin: &str) -> Result<Catalogue> {
    let cat: Catalogue = serde_norway::from_str(text).map_err(|e| {
        let at = e
            .location()
            .map_or(String::new(), |l| format!(":{}:{}", l.line(), l.column()));
        anyhow::anyhow!("{origin}{at}: not a valid lifecycle catalogue: {e}")
    })?;
    cat.validate()
        .map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
    Ok(cat)
}

/// The catalogue at `path`, or the built-in sample when `None`.
pub fn load(path: Option<&Path>) -> Result<Catalogue> {
    let Some(path) = path else {
        return parse(BUILTIN_CATALOGUE_YAML, "built-in catalogue");
    };
    let meta =
        std::fs::metadata(path).with_context(|| format!("{}: cannot read", path.display()))?;
    if meta.len() > MAX_CATALOGUE_BYTES {
        anyhow::bail!(
            "{}: {} bytes is larger than a catalogue can be ({} bytes)",
            path.display(),
            meta.len(),
            MAX_CATALOGUE_BYTES
        );
    }
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{}: not UTF-8 text (invalid byte at offset {}); save the catalogue as UTF-8",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })?;
    parse(&text, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalogue_is_valid() {
        let cat = load(None).unwrap();
        assert!(cat.products.len() >= 10);
        assert!(cat
            .lookup("Siemens", Some("SIMATIC S7-1200 CPU 1214C"))
            .is_some());
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse(
            "version: 1\nproducts:\n  - vendor: X\n    eol: 2020-01-01\n",
            "cat.yaml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("cat.yaml:"), "{e}");
        assert!(e.contains("eol"), "{e}");
        let e = parse("version: 3\n", "cat.yaml").unwrap_err().to_string();
        assert!(e.contains("version 3"), "{e}");
    }
}
