//! Reusable view pieces.
pub mod activity;
pub mod browse;
pub mod chart;
pub mod chart_cursor;
pub mod forms;
pub mod language;
pub mod layout;
pub mod route;
pub mod vehicles;
