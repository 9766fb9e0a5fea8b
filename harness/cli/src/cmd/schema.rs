//! `eioa schema`: show, list, import and export schema sets.

use super::common;
use crate::exit::{ExpectedError, Outcome};
use anyhow::Context;
use eioa_validate::schema::Role;
use eioa_validate::{SchemaSet, Validator, ValidatorOptions};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List the embedded and imported schema sets.
    List,
    /// Show a set's files, roles and hashes (default: the active set).
    Show {
        /// Set id or directory.
        id: Option<String>,
    },
    /// Import FK's official files (the payload XSD at least) as a named set.
    Import {
        /// Directory holding FK's files, e.g. anmalan_fran_arbetsgivare_extern_v1.xsd.
        dir: PathBuf,
        /// Name for the imported set.
        #[arg(long, default_value = "eioa-v1-official")]
        id: String,
    },
    /// What changed between two sets' payload schemas: elements, cardinalities, types,
    /// patterns, enumerations, namespace. Exit 1 when something changed.
    Diff {
        /// The older set: id or directory.
        a: String,
        /// The newer set: id or directory.
        b: String,
        /// `human` or `json`.
        #[arg(long, default_value = "human", value_parser = ["human", "json"])]
        format: String,
    },
    /// Write a set's files (with its manifest) to a directory, e.g. for SoapUI.
    Export {
        dir: PathBuf,
        /// Set id or directory (default: the active set).
        #[arg(long)]
        schema_set: Option<String>,
    },
}

pub fn run(cmd: Command) -> anyhow::Result<Outcome> {
    let mut out = std::io::stdout().lock();
    match cmd {
        Command::List => {
            let e = SchemaSet::embedded();
            writeln!(out, "{}  (embedded)", e.info())?;
            if let Ok(rd) = std::fs::read_dir(common::imported_sets_dir()) {
                let mut ids: Vec<_> = rd
                    .flatten()
                    .filter(|d| d.path().is_dir())
                    .map(|d| d.file_name())
                    .collect();
                ids.sort();
                for id in ids {
                    let id = id.to_string_lossy().to_string();
                    match common::schema_set(Some(&id)) {
                        Ok(s) => writeln!(
                            out,
                            "{}  ({})",
                            s.info(),
                            common::imported_sets_dir().join(&id).display()
                        )?,
                        Err(e) => writeln!(out, "{id}  (broken: {e:#})")?,
                    }
                }
            }
        }
        Command::Show { id } => {
            let set = common::schema_set(id.as_deref())?;
            writeln!(out, "schema set {}", set.info())?;
            if !set.description.is_empty() {
                writeln!(out, "  {}", set.description)?;
            }
            for role in Role::ALL {
                if let Some(f) = set.file(role) {
                    writeln!(
                        out,
                        "  {:<10} {}  {} bytes  sha256 {}",
                        format!("{role:?}").to_lowercase(),
                        f.name,
                        f.bytes.len(),
                        f.sha256
                    )?;
                }
            }
        }
        Command::Import { dir, id } => {
            if id.is_empty() || id.contains(['/', '\\']) || id == SchemaSet::embedded().id {
                return Err(
                    ExpectedError::Usage(format!("`{id}` cannot name an imported set")).into(),
                );
            }
            let mut set = SchemaSet::from_dir(&dir)
                .with_context(|| format!("failed to read {}", dir.display()))?;
            set.id = id.clone();
            // Refuse a set that does not compile, before it replaces anything.
            Validator::new(set.clone(), ValidatorOptions::default())
                .with_context(|| format!("the files in {} do not compile", dir.display()))?;
            let dest = common::imported_sets_dir().join(&id);
            set.write_to(&dest)?;
            writeln!(out, "imported {} into {}", set.info(), dest.display())?;
            writeln!(out, "use it with --schema-set {id}")?;
        }
        Command::Diff { a, b, format } => {
            let (sa, sb) = (common::schema_set(Some(&a))?, common::schema_set(Some(&b))?);
            let d = eioa_validate::schema::diff::diff(&sa, &sb)
                .map_err(|e| ExpectedError::Usage(e.to_string()))?;
            if format == "json" {
                writeln!(out, "{}", serde_json::to_string_pretty(&d)?)?;
            } else {
                write!(out, "{}", d.to_text())?;
            }
            return Ok(if d.changes.is_empty() {
                Outcome::Success
            } else {
                Outcome::Findings
            });
        }
        Command::Export { dir, schema_set } => {
            let set = common::schema_set(schema_set.as_deref())?;
            set.write_to(&dir)?;
            writeln!(out, "wrote {} to {}", set.info(), dir.display())?;
        }
    }
    Ok(Outcome::Success)
}
