//! Shared plumbing: schema set resolution, the data directory.

use crate::exit::ExpectedError;
use anyhow::Context;
use eioa_validate::{SchemaSet, Validator, ValidatorOptions};
use std::path::{Path, PathBuf};

/// Where imported schema sets (and other harness state) live: `$EIOA_HOME`, else
/// `$XDG_DATA_HOME/eioa`, else `~/.local/share/eioa`.
pub fn data_home() -> PathBuf {
    if let Some(h) = std::env::var_os("EIOA_HOME") {
        return PathBuf::from(h);
    }
    if let Some(x) = std::env::var_os("XDG_DATA_HOME") {
        return PathBuf::from(x).join("eioa");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".local/share/eioa")
}

pub fn imported_sets_dir() -> PathBuf {
    data_home().join("schemas")
}

/// Resolves `--schema-set`: the embedded id `eioa-v1`, an imported id, or a directory.
/// Without the flag, `$EIOA_SCHEMA_DIR` (a directory) or the embedded set.
pub fn schema_set(choice: Option<&str>) -> anyhow::Result<SchemaSet> {
    let env = std::env::var("EIOA_SCHEMA_DIR")
        .ok()
        .filter(|s| !s.is_empty());
    let Some(choice) = choice.map(str::to_string).or(env) else {
        return Ok(SchemaSet::embedded());
    };
    let embedded = SchemaSet::embedded();
    if choice == embedded.id {
        return Ok(embedded);
    }
    let as_dir = Path::new(&choice);
    let dir = if as_dir.is_dir() {
        as_dir.to_path_buf()
    } else {
        imported_sets_dir().join(&choice)
    };
    if !dir.is_dir() {
        return Err(ExpectedError::Usage(format!(
            "no schema set `{choice}`: not `{}`, not an imported set (see `eioa schema list`), not a directory",
            embedded.id
        ))
        .into());
    }
    SchemaSet::from_dir(&dir)
        .with_context(|| format!("failed to load schema set from {}", dir.display()))
}

pub fn validator(choice: Option<&str>, opts: ValidatorOptions) -> anyhow::Result<Validator> {
    let set = schema_set(choice)?;
    let id = set.id.clone();
    Validator::new(set, opts).with_context(|| format!("failed to compile schema set `{id}`"))
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<time::Date, String> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &fmt).map_err(|e| format!("`{s}` is not a date (YYYY-MM-DD): {e}"))
}
