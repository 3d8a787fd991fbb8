//! Reusable view pieces.
pub mod forms;
pub mod language;
pub mod layout;
pub mod vehicles;
