//! Rendering of harness results. One value per run, many formats: the renderers
//! hold no logic beyond presentation.

pub mod connect;
pub mod evidence;
pub mod run;
pub mod validation;
pub mod write;
