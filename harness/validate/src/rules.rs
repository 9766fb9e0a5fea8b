//! Business rules (EIOA-R###).
use crate::finding::Finding;
use crate::tree::Tree;

pub(crate) fn check(_tree: &Tree, _today: time::Date) -> Vec<Finding> {
    Vec::new()
}
