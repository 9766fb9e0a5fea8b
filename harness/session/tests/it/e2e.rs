//! End to end in the next step.
