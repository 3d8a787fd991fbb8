//! Query parameters, generated from the query types the handlers read: an
//! operation's parameters are the fields of its type, in the type's order,
//! each described once here. A field added to a type without a description
//! stops the document from building (the API tests build it); a field
//! removed disappears from it. Enumerations and defaults come from the
//! same enums and constants the services parse with.

use super::path_param;
use crate::domain::export::{ExportFormat, LocationRedaction};
use crate::domain::log_format::{AebState, Gear, Severity};
use crate::domain::staff::CaseStatus;
use serde::de::{DeserializeOwned, Visitor};
use serde_json::{json, Value};

/// The wire names of a query type's fields (after `rename`), as serde's
/// derive declares them.
pub(crate) fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut reader = FieldNames(None);
    // The reader stops at the struct's field list: the error is expected.
    let _ = T::deserialize(&mut reader);
    reader
        .0
        .unwrap_or_else(|| panic!("{} is not a struct", std::any::type_name::<T>()))
}

/// A deserializer that records the field list a derived struct asks for.
struct FieldNames(Option<&'static [&'static str]>);

impl<'de> serde::Deserializer<'de> for &mut FieldNames {
    type Error = serde::de::value::Error;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0 = Some(fields);
        Err(serde::de::Error::custom("field names read"))
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("not a struct"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map
        enum identifier ignored_any
    }
}

/// The documented query parameters of an operation whose handler reads `T`.
pub(super) fn query_of<T: DeserializeOwned>() -> Vec<Value> {
    field_names::<T>()
        .iter()
        .map(|name| query_param(name))
        .collect()
}

/// An operation's path parameters followed by the query parameters of `T`.
pub(super) fn path_and_query<T: DeserializeOwned>(path: Vec<Value>) -> Vec<Value> {
    let mut params = path;
    params.extend(query_of::<T>());
    params
}

pub(super) fn names<E: Copy>(all: &[E], as_str: fn(E) -> &'static str) -> Value {
    all.iter().map(|e| Value::from(as_str(*e))).collect()
}

fn optional(name: &str, schema: Value, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": false, "schema": schema, "description": description})
}

fn text() -> Value {
    json!({"type": "string"})
}

/// The one description of each query parameter the API takes.
fn query_param(name: &str) -> Value {
    let instant =
        "RFC 3339 instant with offset (pages also take a vehicle-local `YYYY-MM-DDTHH:MM`)";
    match name {
        "from" => optional(name, text(), &format!("start, inclusive: {instant}")),
        "to" => optional(name, text(), &format!("end, exclusive: {instant}")),
        "min_speed_kmh" => optional(name, json!({"type": "number"}), "speed at least (km/h)"),
        "max_speed_kmh" => optional(name, json!({"type": "number"}), "speed at most (km/h)"),
        "brake_pedal" => optional(name, json!({"type": "boolean"}), "brake pedal pressed"),
        "abs_active" => optional(name, json!({"type": "boolean"}), "ABS intervening"),
        "aeb_state" => optional(
            name,
            json!({"type": "string", "enum": names(AebState::ALL, AebState::as_str)}),
            "AEB state",
        ),
        "gear" => optional(
            name,
            json!({"type": "string", "enum": names(Gear::ALL, Gear::as_str)}),
            "gear",
        ),
        "include" => optional(
            name,
            text(),
            "bundles only: also the samples as `parquet`, the tracks as `gpx` (a comma list; each a file of the signed manifest)",
        ),
        "fields" => optional(
            name,
            text(),
            "comma list of channels to return (default: all)",
        ),
        "channels" => optional(name, text(), "comma list of channels (default: speed)"),
        "type" => optional(name, text(), "comma list of event types"),
        "group" => optional(
            name,
            text(),
            "comma list of groups: brake, crash, warning, other",
        ),
        "severity" => optional(
            name,
            json!({"type": "string", "enum": names(Severity::ALL, Severity::as_str)}),
            "severity",
        ),
        "order" => optional(
            name,
            json!({"type": "string", "enum": ["asc", "desc"], "default": "asc"}),
            "time order",
        ),
        "tz" => optional(
            name,
            text(),
            "the reader's zone for `t_viewer` (IANA name or UTC)",
        ),
        "limit" => optional(
            name,
            json!({"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}),
            "page size",
        ),
        "cursor" => optional(name, text(), "`next_cursor` of the previous page (opaque)"),
        "format" => json!({
            "name": name, "in": "query", "required": true,
            "schema": {"type": "string", "enum": names(ExportFormat::ALL, ExportFormat::as_str)},
            "description": "file format (no default: the caller chooses)",
        }),
        "location" => optional(
            name,
            json!({
                "type": "string",
                "enum": names(LocationRedaction::ALL, LocationRedaction::as_str),
                "default": LocationRedaction::None.as_str(),
            }),
            "location detail: none, rounded to 0.01° (coarse) or full",
        ),
        "q" => optional(name, text(), "case number, VIN or account"),
        "status" => optional(
            name,
            json!({"type": "string", "enum": names(CaseStatus::ALL, CaseStatus::as_str)}),
            "case status",
        ),
        other => panic!("the OpenAPI document has no description of query parameter `{other}`"),
    }
}

/// `{vin}`, the path parameter of every vehicle operation.
pub(super) fn vin() -> Value {
    path_param("vin", "the vehicle's VIN")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::browse::{ChartQuery, DriveQuery, EventQuery, SampleQuery};
    use crate::domain::export::ExportQuery;

    #[test]
    fn field_names_follow_serde_renames() {
        let names = field_names::<EventQuery>();
        assert!(names.contains(&"type"), "{names:?}");
        assert!(!names.contains(&"event_type"), "{names:?}");
    }

    #[test]
    fn every_query_type_is_described() {
        for names in [
            field_names::<SampleQuery>(),
            field_names::<EventQuery>(),
            field_names::<DriveQuery>(),
            field_names::<ChartQuery>(),
            field_names::<ExportQuery>(),
        ] {
            for name in names {
                assert_eq!(query_param(name)["name"], *name);
            }
        }
    }

    #[test]
    #[should_panic(expected = "no description of query parameter `colour`")]
    fn an_undescribed_parameter_stops_the_document() {
        query_param("colour");
    }
}
