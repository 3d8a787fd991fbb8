//! SQL both backends share. The two schemas use one vocabulary, so the
//! conditions of a sample read and the whole event-page query are written
//! once here, as SQL text with typed values between the pieces. Each backend
//! puts the values in its own way: bound parameters (`push_parts` with its
//! own binder), or, for PostgreSQL's COPY, which takes none, literals.

use super::{EventFilter, EventPageRequest, PageRequest, SampleFilter, TimeRange, VehicleId};

/// A value in a query, typed as the column it meets.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SqlValue {
    Int(i64),
    Real(f64),
    Bool(bool),
    /// One of an enum's own wire names.
    Name(&'static str),
    Text(String),
    /// Microseconds since the epoch (integer in SQLite, timestamptz in PostgreSQL).
    Time(i64),
    /// A list of wire names (`IN (…)` on SQLite, `= ANY(…)` on PostgreSQL).
    Names(Vec<&'static str>),
}

/// A piece of a query: SQL text, or a value to put there.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Part {
    Sql(String),
    Value(SqlValue),
}

/// A query as its pieces, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Query(pub Vec<Part>);

impl Query {
    fn sql(&mut self, text: impl Into<String>) -> &mut Self {
        self.0.push(Part::Sql(text.into()));
        self
    }

    fn value(&mut self, value: SqlValue) -> &mut Self {
        self.0.push(Part::Value(value));
        self
    }

    /// ` AND (t >= a AND t < b OR …)` for the permitted ranges.
    fn ranges(&mut self, column: &str, ranges: &[TimeRange]) -> &mut Self {
        self.sql(" AND (");
        for (i, r) in ranges.iter().enumerate() {
            if i > 0 {
                self.sql(" OR ");
            }
            self.sql(format!("({column} >= "))
                .value(SqlValue::Time(r.from_us))
                .sql(format!(" AND {column} < "))
                .value(SqlValue::Time(r.to_us))
                .sql(")");
        }
        self.sql(")")
    }

    /// Writes the query into a sqlx `QueryBuilder`, each value through `bind`.
    pub(crate) fn push_into<'q, DB: sqlx::Database>(
        self,
        builder: &mut sqlx::QueryBuilder<'q, DB>,
        mut bind: impl FnMut(&mut sqlx::QueryBuilder<'q, DB>, SqlValue),
    ) {
        for part in self.0 {
            match part {
                Part::Sql(text) => {
                    builder.push(text);
                }
                Part::Value(value) => bind(builder, value),
            }
        }
    }
}

/// ` WHERE vehicle_id = … AND (time ranges) AND (value filters)` of a
/// sample read.
pub(crate) fn sample_where(
    vehicle: VehicleId,
    ranges: &[TimeRange],
    filter: &SampleFilter,
) -> Query {
    let mut q = Query::default();
    q.sql(" WHERE vehicle_id = ")
        .value(SqlValue::Int(vehicle))
        .ranges("t", ranges);
    if let Some(v) = filter.min_speed_kmh {
        q.sql(" AND speed_kmh >= ").value(SqlValue::Real(v));
    }
    if let Some(v) = filter.max_speed_kmh {
        q.sql(" AND speed_kmh <= ").value(SqlValue::Real(v));
    }
    if let Some(v) = filter.brake_pedal {
        q.sql(" AND brake_pedal = ").value(SqlValue::Bool(v));
    }
    if let Some(v) = filter.abs_active {
        q.sql(" AND abs_active = ").value(SqlValue::Bool(v));
    }
    if let Some(v) = filter.aeb_state {
        q.sql(" AND aeb_state = ").value(SqlValue::Name(v.as_str()));
    }
    if let Some(v) = filter.gear {
        q.sql(" AND gear = ").value(SqlValue::Name(v.as_str()));
    }
    q
}

/// One keyset page of events (`columns` selected), or `None` when the
/// cursor leaves nothing to read.
pub(crate) fn event_page(
    columns: &str,
    vehicle: VehicleId,
    ranges: &[TimeRange],
    filter: &EventFilter,
    page: &EventPageRequest,
) -> Option<Query> {
    // As for samples: the cursor's time narrows the ranges, so the index
    // seek starts at the cursor (ties at that instant are sorted by id below).
    let ranges = super::after_cursor(
        ranges,
        PageRequest {
            descending: page.descending,
            after_us: page.after.as_ref().map(|(t_us, _)| {
                if page.descending {
                    t_us.saturating_add(1)
                } else {
                    t_us.saturating_sub(1)
                }
            }),
            limit: page.limit,
        },
    );
    if ranges.is_empty() {
        return None;
    }
    let mut q = Query::default();
    q.sql(format!("SELECT {columns} FROM events WHERE vehicle_id = "))
        .value(SqlValue::Int(vehicle))
        .ranges("t", &ranges);
    if !filter.types.is_empty() {
        let names = filter.types.iter().map(|t| t.as_str()).collect();
        q.sql(" AND event_type").value(SqlValue::Names(names));
    }
    if let Some(severity) = filter.severity {
        q.sql(" AND severity = ")
            .value(SqlValue::Name(severity.as_str()));
    }
    if let Some((t_us, id)) = &page.after {
        q.sql(if page.descending {
            " AND (t, event_id) < ("
        } else {
            " AND (t, event_id) > ("
        })
        .value(SqlValue::Time(*t_us))
        .sql(", ")
        .value(SqlValue::Text(id.clone()))
        .sql(")");
    }
    q.sql(if page.descending {
        " ORDER BY t DESC, event_id DESC LIMIT "
    } else {
        " ORDER BY t, event_id LIMIT "
    })
    .value(SqlValue::Int(i64::from(page.limit)));
    Some(q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::log_format::{EventType, Gear};

    fn text(q: &Query) -> String {
        q.0.iter()
            .map(|p| match p {
                Part::Sql(s) => s.clone(),
                Part::Value(_) => "$".to_string(),
            })
            .collect()
    }

    #[test]
    fn a_sample_read_names_every_filter_once() {
        let filter = SampleFilter {
            min_speed_kmh: Some(30.0),
            brake_pedal: Some(true),
            gear: Some(Gear::D),
            ..SampleFilter::default()
        };
        let ranges = [
            TimeRange {
                from_us: 1,
                to_us: 2,
            },
            TimeRange {
                from_us: 5,
                to_us: 9,
            },
        ];
        let q = sample_where(7, &ranges, &filter);
        assert_eq!(
            text(&q),
            " WHERE vehicle_id = $ AND ((t >= $ AND t < $) OR (t >= $ AND t < $)) \
             AND speed_kmh >= $ AND brake_pedal = $ AND gear = $"
        );
        let values: Vec<&SqlValue> =
            q.0.iter()
                .filter_map(|p| match p {
                    Part::Value(v) => Some(v),
                    Part::Sql(_) => None,
                })
                .collect();
        assert_eq!(values[0], &SqlValue::Int(7));
        assert_eq!(values[4], &SqlValue::Time(9));
        assert_eq!(values[6], &SqlValue::Bool(true));
        assert_eq!(values[7], &SqlValue::Name("D"));
    }

    #[test]
    fn an_event_page_past_its_ranges_reads_nothing() {
        let page = EventPageRequest {
            descending: false,
            after: Some((100, "e".into())),
            limit: 10,
        };
        let ranges = [TimeRange {
            from_us: 0,
            to_us: 50,
        }];
        assert!(event_page("*", 1, &ranges, &EventFilter::default(), &page).is_none());
        let filter = EventFilter {
            types: vec![EventType::ALL[0]],
            severity: None,
        };
        let q = event_page("*", 1, &[TimeRange::ALL], &filter, &page).unwrap();
        assert!(text(&q).contains(" AND event_type$ AND (t, event_id) > ($, $)"));
    }
}
