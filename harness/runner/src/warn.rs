//! Warnings on exchanges that passed: what FK accepts but handles by hand, and answers
//! slower than FK's backend normally is. Computed on the sending side from what was
//! sent and how long the answer took, so they hold against any target, FK included.

use crate::record::{ExchangeWarning, Observed, WarningKind};
use eioa_fk::resend::{Resend, ResendMemory};
use eioa_model::soap::Request;
use eioa_model::Notification;
use std::time::Duration;

/// FK: "the backend normally answers in under 2 seconds".
pub const FK_ANSWER_TIME: Duration = Duration::from_secs(2);

/// Notification ids a run remembers for changed re-sends: far more than a run sends.
const RESEND_MEMORY: usize = 10_000;

/// The run's memory of accepted notifications.
#[derive(Debug)]
pub(crate) struct Warner {
    sent: ResendMemory,
}

impl Default for Warner {
    fn default() -> Self {
        Warner {
            sent: ResendMemory::new(RESEND_MEMORY),
        }
    }
}

impl Warner {
    /// The warnings for one answered exchange: `body` as sent, the answer as read,
    /// `answer_time` from sending to the last byte of the answer.
    pub(crate) fn check(
        &mut self,
        body: &[u8],
        observed: &Observed,
        answer_time: Duration,
    ) -> Vec<ExchangeWarning> {
        let mut warnings = Vec::new();
        if answer_time > FK_ANSWER_TIME {
            warnings.push(ExchangeWarning {
                kind: WarningKind::SlowAnswer,
                message: format!(
                    "the answer took {:.1} s; FK's backend normally answers in under {} s, so a slower answer from FK is worth reporting to FK with its tx-id",
                    answer_time.as_secs_f64(),
                    FK_ANSWER_TIME.as_secs()
                ),
            });
        }
        // Only accepted notifications count, as at FK: a refused one was never received.
        if observed.tx_id.is_some() {
            if let Some((id, payload)) = notification_of(body) {
                if let Resend::Changed { previous_sha256 } = self.sent.record(&id, &payload) {
                    warnings.push(ExchangeWarning {
                        kind: WarningKind::ChangedResend,
                        message: format!(
                            "notification {id} was sent earlier in this run with other content (payload SHA-256 {previous_sha256}); FK accepts it, but a sent notification cannot be changed: a change needs a new id, and FK handles this one manually (FK-W001)"
                        ),
                    });
                }
            }
        }
        warnings
    }
}

/// The notification id and payload bytes of a SOAP request, when it carries a readable
/// notification.
fn notification_of(body: &[u8]) -> Option<(String, Vec<u8>)> {
    let request = Request::parse(body).ok()?;
    let text = std::str::from_utf8(&request.payload).ok()?;
    let n = Notification::from_xml(text).ok()?;
    Some((n.id, request.payload))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kit::{Branch, Kit};

    fn accepted() -> Observed {
        Observed {
            status: Some(200),
            tx_id: Some("4a8db4b8-bc29-4406-901c-3f69298cabe3".into()),
            delivery: "answered".into(),
            ..Observed::default()
        }
    }

    fn kinds(w: &[ExchangeWarning]) -> Vec<WarningKind> {
        w.iter().map(|w| w.kind).collect()
    }

    #[test]
    fn slow_answers_are_flagged_above_two_seconds() {
        let mut w = Warner::default();
        let fast = w.check(b"hello", &accepted(), Duration::from_millis(1999));
        assert_eq!(kinds(&fast), vec![]);
        let slow = w.check(b"hello", &accepted(), Duration::from_millis(2400));
        assert_eq!(kinds(&slow), vec![WarningKind::SlowAnswer]);
        assert!(slow[0].message.contains("2.4 s"), "{}", slow[0].message);
    }

    #[test]
    fn changed_resend_is_flagged_and_same_resend_is_not() {
        let kit = Kit::load(None, time::OffsetDateTime::now_utc()).expect("kit");
        let n = kit.notification(Branch::AnordnareInomEes);
        let first = kit.signed_request(&n).expect("signed").to_xml();
        let mut changed = n.clone();
        changed.assistent.fornamn = "Annan".into();
        let second = kit.signed_request(&changed).expect("signed").to_xml();
        let mut w = Warner::default();
        let t = Duration::from_millis(10);
        assert_eq!(kinds(&w.check(&first, &accepted(), t)), vec![]);
        assert_eq!(kinds(&w.check(&first, &accepted(), t)), vec![]);
        let warned = w.check(&second, &accepted(), t);
        assert_eq!(kinds(&warned), vec![WarningKind::ChangedResend]);
        assert!(warned[0].message.contains(&n.id), "{}", warned[0].message);
        // A refused request is not remembered.
        let refused = Observed {
            tx_id: None,
            fault: Some("XmlValidationError".into()),
            ..accepted()
        };
        assert_eq!(kinds(&w.check(&first, &refused, t)), vec![]);
        assert_eq!(kinds(&w.check(&second, &accepted(), t)), vec![]);
    }
}
