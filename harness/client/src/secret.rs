//! Passphrases for encrypted keys and PKCS#12 files.
//!
//! A passphrase never travels as a command-line value: it comes from an environment variable whose
//! *name* the caller chooses, or from a prompt callback (for an interactive terminal). [`Secret`]
//! prints as `***` in `Debug` output so it cannot leak into logs by accident.

use std::fmt;

/// A passphrase. `Debug` prints `***`; there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

/// Why a passphrase could not be obtained.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The named environment variable is not set.
    #[error("read the passphrase: environment variable {var} is not set")]
    NotSet {
        /// The variable's name.
        var: String,
    },
    /// The named environment variable does not hold valid Unicode.
    #[error("read the passphrase: environment variable {var} is not valid unicode")]
    NotUnicode {
        /// The variable's name.
        var: String,
    },
    /// The prompt callback failed.
    #[error("read the passphrase from the prompt")]
    Prompt(#[source] std::io::Error),
}

impl Secret {
    /// Wraps a passphrase held in memory (for callers that got it from a vault or a test).
    pub fn new(passphrase: impl Into<String>) -> Self {
        Self(passphrase.into())
    }

    /// Reads the passphrase from the environment variable named `var`.
    pub fn from_env(var: &str) -> Result<Self, SecretError> {
        match std::env::var(var) {
            Ok(value) => Ok(Self(value)),
            Err(std::env::VarError::NotPresent) => Err(SecretError::NotSet {
                var: var.to_owned(),
            }),
            Err(std::env::VarError::NotUnicode(_)) => Err(SecretError::NotUnicode {
                var: var.to_owned(),
            }),
        }
    }

    /// Asks `prompt_fn` for the passphrase, passing it the text to show (`prompt`).
    ///
    /// The callback decides how to read it (a terminal without echo, a GUI dialog, ...). A trailing
    /// newline (`\n` or `\r\n`) is removed.
    pub fn from_prompt<F>(prompt: &str, prompt_fn: F) -> Result<Self, SecretError>
    where
        F: FnOnce(&str) -> std::io::Result<String>,
    {
        let mut value = prompt_fn(prompt).map_err(SecretError::Prompt)?;
        if value.ends_with('\n') {
            value.pop();
            if value.ends_with('\r') {
                value.pop();
            }
        }
        Ok(Self(value))
    }

    /// The passphrase itself. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // Best effort: overwrite the bytes before the allocation is freed. Safe code cannot stop
        // the optimiser from eliding this in every case, but it usually keeps it.
        let mut bytes = std::mem::take(&mut self.0).into_bytes();
        bytes.iter_mut().for_each(|b| *b = 0);
        std::hint::black_box(&bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_passphrase() {
        let secret = Secret::new("hunter2-fictitious");
        let shown = format!("{secret:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(shown, "Secret(***)");
    }

    #[test]
    fn missing_env_var_is_a_clear_error() {
        let err = Secret::from_env("EIOA_CLIENT_TEST_SURELY_UNSET_VAR").unwrap_err();
        assert!(matches!(err, SecretError::NotSet { .. }));
        assert!(err
            .to_string()
            .contains("EIOA_CLIENT_TEST_SURELY_UNSET_VAR"));
    }

    #[test]
    fn prompt_strips_the_newline() {
        let secret = Secret::from_prompt("passphrase: ", |p| {
            assert_eq!(p, "passphrase: ");
            Ok("abc\r\n".to_owned())
        })
        .unwrap();
        assert_eq!(secret.expose(), "abc");
        let err = Secret::from_prompt("p", |_| Err(std::io::Error::other("no tty"))).unwrap_err();
        assert!(matches!(err, SecretError::Prompt(_)));
    }
}
