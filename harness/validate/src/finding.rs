//! Findings and reports: the stable, documented output of validation.

use serde::{Deserialize, Serialize};

/// How bad a finding is. Only errors make a document invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One problem in one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable rule id: `EIOA-X###` (XML), `EIOA-S###` (schema), `EIOA-R###` (business rule).
    pub rule: String,
    pub severity: Severity,
    /// 1-based; 0 when the finding concerns the whole document.
    pub line: u32,
    /// 1-based; 0 when unknown.
    pub column: u32,
    /// Element path such as `/AnmalanFranArbetsgivare/assistent/personnummer`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub message: String,
    /// One sentence on how to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// For schema findings: the kind of XSD violation (`unexpected-element`,
    /// `missing-element`, `pattern`, `enumeration`, `datatype`, `attribute`, `text`,
    /// `root`, `other`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// Everything found in one document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    /// No error findings (warnings allowed).
    pub fn is_valid(&self) -> bool {
        !self.findings.iter().any(|f| f.severity == Severity::Error)
    }
    pub fn errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count()
    }
    pub fn warnings(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .count()
    }
    /// Whether any finding carries this rule id.
    pub fn has(&self, rule: &str) -> bool {
        self.findings.iter().any(|f| f.rule == rule)
    }
    /// Distinct rule ids, sorted.
    pub fn rules(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.findings.iter().map(|f| f.rule.as_str()).collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}
