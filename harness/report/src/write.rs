//! Writing a run's reports to disk: one directory per run under the output
//! directory, four files in it, and `latest` pointing at the newest run.
//!
//! Permissions do not depend on the umask alone: report files are created
//! `0644` in a `0755` directory when personal data is redacted, and `0600` in a
//! `0700` directory when it is not (like the stand-in's journal), so nothing is ever
//! world-writable and unredacted reports are readable by their owner only. A
//! stricter umask still narrows them further.

use std::fs::{DirBuilder, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use crate::run::RunSummary;

/// The report files of one run, in the order they are written.
pub const REPORT_FILES: [&str; 4] = ["summary.json", "junit.xml", "report.md", "report.html"];

/// Why the reports could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}", path.display())]
pub struct WriteError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// Modes of a run directory and its files.
fn modes(redacted: bool) -> (u32, u32) {
    if redacted {
        (0o755, 0o644)
    } else {
        (0o700, 0o600)
    }
}

/// Writes `summary.json`, `junit.xml`, `report.md` and `report.html` of `s` into a
/// new directory `OUT/{started}-{target}-{run id}` and points `OUT/latest` at it.
/// `redacted` says whether the summary's bodies were redacted; it decides the
/// permissions (see the module documentation). Returns the run directory.
pub fn write_run(out: &Path, s: &RunSummary, redacted: bool) -> Result<PathBuf, WriteError> {
    let stamp = s
        .started_at
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_default();
    let target = if s.target.starts_with("mock") {
        "mock"
    } else if s.target.starts_with("fk test") {
        "fk-test"
    } else {
        "url"
    };
    let id: String = s.run_id.chars().take(8).collect();
    let dir = out.join(format!("{stamp}-{target}-{id}"));
    let err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| WriteError { path, source }
    };
    let (dir_mode, file_mode) = modes(redacted);
    DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(out)
        .map_err(err(out))?;
    // A fresh directory (never an existing one or a symlink planted in its place),
    // so the files below are new and get exactly their mode.
    DirBuilder::new()
        .mode(dir_mode)
        .create(&dir)
        .map_err(err(&dir))?;
    for (name, body) in
        REPORT_FILES
            .iter()
            .zip([s.to_json(), s.to_junit(), s.to_markdown(), s.to_html()])
    {
        let p = dir.join(name);
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(file_mode)
            .open(&p)
            .and_then(|mut f| f.write_all(body.as_bytes()))
            .map_err(err(&p))?;
    }
    let latest = out.join("latest");
    let _ = std::fs::remove_file(&latest);
    let _ = std::os::unix::fs::symlink(dir.file_name().unwrap_or_default(), &latest);
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn summary() -> RunSummary {
        RunSummary {
            run_id: "0123456789abcdef".into(),
            tool: "eioa-harness test".into(),
            target: "mock (in-process stand-in)".into(),
            schema_set: eioa_validate::SchemaSetInfo {
                id: "eioa-v1".into(),
                provenance: "reconstructed".into(),
                hash: "000000000000".into(),
            },
            started_at: time::macros::datetime!(2026-11-26 12:00:00 UTC),
            elapsed_ms: 1.0,
            outcomes: Vec::new(),
        }
    }

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    /// The modes of the run directory and of every report file in it.
    fn written(redacted: bool) -> (u32, Vec<u32>) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = write_run(&tmp.path().join("reports"), &summary(), redacted).unwrap();
        assert_eq!(
            std::fs::read_link(tmp.path().join("reports/latest")).unwrap(),
            dir.file_name().unwrap()
        );
        let files = REPORT_FILES.iter().map(|f| mode(&dir.join(f))).collect();
        (mode(&dir), files)
    }

    #[test]
    fn unredacted_reports_are_private_to_their_owner() {
        let (dir, files) = written(false);
        assert_eq!(dir & 0o077, 0, "run directory mode {dir:o}");
        for f in files {
            assert_eq!(f & 0o077, 0, "report file mode {f:o}");
        }
    }

    #[test]
    fn redacted_reports_are_never_group_or_world_writable() {
        let (dir, files) = written(true);
        assert_eq!(dir & 0o022, 0, "run directory mode {dir:o}");
        for f in files {
            assert_eq!(f & 0o133, 0, "report file mode {f:o}");
        }
    }
}
