//! Reading suite files (TOML, `docs/scenarios.md`). A file that cannot be used is an
//! error naming the file, the line and column, and what is wrong; a suite that loads
//! builds, so nothing is discovered half-way through a run.

use crate::kit::Branch;
use crate::scenarios::{
    Category, Edit, ExpectDef, NotificationDef, Replace, Scenario, SignatureMode, Source, StepDef,
    SuiteName,
};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The bundled suites, as shipped in `fixtures/scenarios/`.
pub const BUNDLED: &[(&str, &str)] = &[
    (
        "full.toml",
        include_str!("../../../fixtures/scenarios/full.toml"),
    ),
    (
        "connection.toml",
        include_str!("../../../fixtures/scenarios/connection.toml"),
    ),
];

/// Files the bundled suites refer to, by the path they use.
const BUNDLED_FILES: &[(&str, &[u8])] = &[(
    "../faq/faq-example-as-printed.xml",
    include_bytes!("../../../fixtures/faq/faq-example-as-printed.xml"),
)];

/// Why a suite could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    /// The file or directory could not be read.
    #[error("failed to read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not a usable suite.
    #[error("{file}:{line}:{column}: {message}\n{snippet}")]
    Invalid {
        file: String,
        line: usize,
        column: usize,
        message: String,
        /// The offending line with a caret under the column.
        snippet: String,
    },
    /// A directory holds no `*.toml` file.
    #[error("{0}: no suite files (*.toml)")]
    Empty(PathBuf),
}

impl SuiteError {
    /// Whether the cause is I/O (exit code 3) rather than the content (usage, 2).
    pub fn is_io(&self) -> bool {
        matches!(self, SuiteError::Io { .. })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDef {
    #[allow(dead_code)]
    suite: Option<String>,
    #[allow(dead_code)]
    description: Option<String>,
    scenario: Vec<ScenarioToml>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ScenarioToml {
    id: Spanned<String>,
    title: String,
    category: Category,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    fk_hosts: bool,
    step: Spanned<Vec<Spanned<StepToml>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct StepToml {
    notification: Option<Spanned<NotificationToml>>,
    #[serde(default)]
    edit: Vec<Edit>,
    #[serde(default)]
    replace: Vec<Replace>,
    signature: Option<Spanned<SignatureMode>>,
    #[serde(default)]
    after_signing: Vec<Replace>,
    #[serde(default)]
    envelope_replace: Vec<Replace>,
    body: Option<String>,
    soap_action: Option<String>,
    expect: ExpectDef,
    message: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct NotificationToml {
    class: Option<Spanned<String>>,
    generator: Option<Spanned<String>>,
    seed: Option<u64>,
    file: Option<Spanned<String>>,
    name: Option<String>,
}

fn branch(name: &str) -> Option<Branch> {
    Some(match name {
        "anordnare-inom-ees" => Branch::AnordnareInomEes,
        "anordnare-utom-ees-narstaende" => Branch::AnordnareUtomEesNarstaende,
        "annan-arbetsgivare" => Branch::AnnanArbetsgivare,
        "egen-foretagare" => Branch::EgenForetagare,
        "egen-arbetsgivare" => Branch::EgenArbetsgivare,
        "med-andring" => Branch::MedAndring,
        "samordningsnummer" => Branch::Samordningsnummer,
        _ => return None,
    })
}

/// The kit's notification classes, as suite files name them.
pub const CLASSES: &[&str] = &[
    "anordnare-inom-ees",
    "anordnare-utom-ees-narstaende",
    "annan-arbetsgivare",
    "egen-foretagare",
    "egen-arbetsgivare",
    "med-andring",
    "samordningsnummer",
];

/// How a suite file reads the files it names.
trait Files {
    fn read(&self, path: &str) -> Result<Vec<u8>, String>;
}

struct Embedded;

impl Files for Embedded {
    fn read(&self, path: &str) -> Result<Vec<u8>, String> {
        BUNDLED_FILES
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, b)| b.to_vec())
            .ok_or_else(|| format!("`{path}` is not bundled"))
    }
}

struct Disk<'a>(&'a Path);

impl Files for Disk<'_> {
    fn read(&self, path: &str) -> Result<Vec<u8>, String> {
        std::fs::read(self.0.join(path))
            .map_err(|e| format!("cannot read `{path}` (relative to the suite file): {e}"))
    }
}

/// The scenarios of a bundled suite.
pub fn bundled(name: SuiteName) -> Result<Vec<Scenario>, SuiteError> {
    let file = match name {
        SuiteName::Full => BUNDLED[0],
        SuiteName::Connection => BUNDLED[1],
    };
    parse(file.0, file.1, &Embedded)
}

/// The scenarios of `path`: one suite file, or every `*.toml` in a directory (in name
/// order). Ids must be unique across the files.
pub fn load(path: &Path) -> Result<Vec<Scenario>, SuiteError> {
    let io = |source| SuiteError::Io {
        path: path.to_path_buf(),
        source,
    };
    let files: Vec<PathBuf> = if path.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(io)?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file())
            .collect();
        v.sort();
        if v.is_empty() {
            return Err(SuiteError::Empty(path.to_path_buf()));
        }
        v
    } else {
        vec![path.to_path_buf()]
    };
    let mut all: Vec<Scenario> = Vec::new();
    for f in files {
        let text = std::fs::read(&f).map_err(|source| SuiteError::Io {
            path: f.clone(),
            source,
        })?;
        let name = f.display().to_string();
        let text = String::from_utf8(text).map_err(|e| SuiteError::Invalid {
            file: name.clone(),
            line: 1,
            column: 1,
            message: format!("not UTF-8 (byte {})", e.utf8_error().valid_up_to()),
            snippet: String::new(),
        })?;
        let dir = f.parent().unwrap_or(Path::new("."));
        let scenarios = parse(&name, &text, &Disk(dir))?;
        for s in scenarios {
            if let Some(first) = all.iter().find(|a| a.id == s.id) {
                let at: usize = text
                    .lines()
                    .take(s.line.saturating_sub(1))
                    .map(|l| l.len() + 1)
                    .sum();
                return Err(invalid(
                    &name,
                    &text,
                    Some(at..at),
                    format!(
                        "scenario id `{}` is also defined in {}:{}",
                        s.id, first.source, first.line
                    ),
                ));
            }
            all.push(s);
        }
    }
    Ok(all)
}

/// Parses one suite file's text (`file` names it in errors).
pub fn parse_str(file: &str, text: &str, base_dir: &Path) -> Result<Vec<Scenario>, SuiteError> {
    parse(file, text, &Disk(base_dir))
}

fn parse(file: &str, text: &str, files: &dyn Files) -> Result<Vec<Scenario>, SuiteError> {
    let err = |span: Option<Range<usize>>, message: String| invalid(file, text, span, message);
    let def: FileDef = toml::from_str(text).map_err(|e| err(e.span(), e.message().to_string()))?;
    let mut seen: BTreeMap<String, Range<usize>> = BTreeMap::new();
    let mut out = Vec::new();
    for s in def.scenario {
        let id_span = s.id.span();
        let id = s.id.into_inner();
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(err(
                Some(id_span),
                format!("scenario id `{id}` must be letters, digits, `-` or `_`"),
            ));
        }
        if let Some(first) = seen.get(&id) {
            let line = line_col(text, first.start).0;
            return Err(err(
                Some(id_span),
                format!("scenario id `{id}` is already used on line {line}"),
            ));
        }
        let line = line_col(text, id_span.start).0;
        seen.insert(id.clone(), id_span);
        let steps_span = s.step.span();
        let steps_toml = s.step.into_inner();
        if steps_toml.is_empty() {
            return Err(err(
                Some(steps_span),
                format!("scenario `{id}` has no step"),
            ));
        }
        let mut names: HashSet<String> = HashSet::new();
        let mut steps = Vec::new();
        for (i, st) in steps_toml.into_iter().enumerate() {
            let step_span = st.span();
            let st = st.into_inner();
            let sig_span = st
                .signature
                .as_ref()
                .map_or(step_span.clone(), |s| s.span());
            let signature = st.signature.map(Spanned::into_inner).unwrap_or_default();
            if signature == SignatureMode::Previous && i == 0 {
                return Err(err(
                    Some(sig_span),
                    "signature = \"previous\" needs an earlier step whose signatures it reuses"
                        .into(),
                ));
            }
            let notification = match (st.notification, &st.body) {
                (Some(n), Some(_)) => {
                    return Err(err(
                        Some(n.span()),
                        "a step sends either a notification or a raw `body`, not both".into(),
                    ))
                }
                (None, None) => {
                    return Err(err(
                        Some(step_span),
                        "a step needs a `notification` (class, generator, file or name) or a raw `body`"
                            .into(),
                    ))
                }
                (None, Some(_)) => None,
                (Some(n), None) => Some(notification(n, &mut names, files, &err)?),
            };
            let from_file = matches!(
                notification,
                Some(NotificationDef {
                    source: Source::File { .. },
                    ..
                })
            );
            if from_file && st.edit.iter().any(|e| *e != Edit::DuplicateAssistant) {
                return Err(err(
                    Some(step_span),
                    "named edits change a generated notification; for a file, use `replace`".into(),
                ));
            }
            steps.push(StepDef {
                notification,
                edits: st.edit,
                replace: st.replace,
                signature,
                after_signing: st.after_signing,
                envelope_replace: st.envelope_replace,
                body: st.body,
                soap_action: st.soap_action,
                expect: st.expect.into(),
                message: st.message,
            });
        }
        out.push(Scenario {
            id,
            title: s.title,
            category: s.category,
            tags: s.tags,
            fk_hosts: s.fk_hosts,
            source: file.to_string(),
            line,
            steps,
        });
    }
    Ok(out)
}

fn notification(
    n: Spanned<NotificationToml>,
    names: &mut HashSet<String>,
    files: &dyn Files,
    err: &dyn Fn(Option<Range<usize>>, String) -> SuiteError,
) -> Result<NotificationDef, SuiteError> {
    let span = n.span();
    let n = n.into_inner();
    let given = [n.class.is_some(), n.generator.is_some(), n.file.is_some()]
        .iter()
        .filter(|b| **b)
        .count();
    if given > 1 {
        return Err(err(
            Some(span),
            "a notification comes from one of `class`, `generator` or `file`".into(),
        ));
    }
    let source = if let Some(c) = n.class {
        let b = branch(c.get_ref()).ok_or_else(|| {
            err(
                Some(c.span()),
                format!(
                    "unknown class `{}`, expected one of: {}",
                    c.get_ref(),
                    CLASSES.join(", ")
                ),
            )
        })?;
        Source::Class {
            branch: b,
            seed: n.seed,
        }
    } else if let Some(g) = n.generator {
        if eioa_gen::Scenario::by_name(g.get_ref()).is_none() {
            let known: Vec<&str> = eioa_gen::strategy::SCENARIOS
                .iter()
                .map(|s| s.name)
                .collect();
            return Err(err(
                Some(g.span()),
                format!(
                    "unknown generator class `{}`, expected one of: {}",
                    g.get_ref(),
                    known.join(", ")
                ),
            ));
        }
        let Some(seed) = n.seed else {
            return Err(err(
                Some(span),
                "a generator notification needs a `seed` (the same seed, the same notification)"
                    .into(),
            ));
        };
        Source::Generator {
            class: g.into_inner(),
            seed,
        }
    } else if let Some(f) = n.file {
        let bytes = files
            .read(f.get_ref())
            .map_err(|e| err(Some(f.span()), e))?;
        let id =
            crate::scenarios::id_in(&bytes).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        Source::File { bytes, id }
    } else {
        match &n.name {
            Some(name) if names.contains(name) => Source::Named,
            Some(name) => {
                return Err(err(
                    Some(span),
                    format!("no earlier step of this scenario names a notification `{name}`"),
                ))
            }
            None => {
                return Err(err(
                    Some(span),
                    "a notification needs `class`, `generator`, `file`, or the `name` of an earlier step's"
                        .into(),
                ))
            }
        }
    };
    if let Some(name) = &n.name {
        names.insert(name.clone());
    }
    Ok(NotificationDef {
        source,
        name: n.name,
    })
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.chars().count(), |n| before[n + 1..].chars().count())
        + 1;
    (line, col)
}

fn invalid(file: &str, text: &str, span: Option<Range<usize>>, message: String) -> SuiteError {
    let start = span.map_or(0, |s| s.start);
    let start = (0..=start.min(text.len()))
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    let (line, column) = line_col(text, start);
    let src = text.lines().nth(line - 1).unwrap_or("");
    let gutter = line.to_string().len();
    let snippet = format!(
        "{:gutter$} |\n{line} | {src}\n{:gutter$} | {}^",
        "",
        "",
        " ".repeat(column - 1)
    );
    SuiteError::Invalid {
        file: file.to_string(),
        line,
        column,
        message: message.trim_end().to_string(),
        snippet,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        assert_eq!(line_col("a\nbä c", 6), (2, 4));
        assert_eq!(line_col("abc", 0), (1, 1));
    }

    #[test]
    fn bundled_suites_load() {
        for name in [SuiteName::Full, SuiteName::Connection] {
            if let Err(e) = bundled(name) {
                panic!("{e}");
            }
        }
    }
}
