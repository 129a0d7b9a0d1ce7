//! The incident's custom fields (`/incidents/{id}/custom_fields/values`), as PagerDuty's REST
//! OpenAPI describes them: per-incident field definitions served by `getIncidentFieldValues`
//! (`{"custom_fields": [CustomFieldsFieldValue]}`: `id`, `type`, `name`, `display_name`,
//! `description`, `data_type`, `field_type`, `value`), and `setIncidentFieldValues` answered 201
//! with the fields. Every PUT body is recorded, taken or refused.

use std::collections::VecDeque;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::{failure, FakePagerDuty, Shared};

/// The longest `string` or `url` value (`CustomFieldsFieldValue.value`: `maxLength: 200`).
const MAX_VALUE_CHARS: usize = 200;

#[derive(Default)]
pub(super) struct FieldsScript {
    /// Incident id, the field as `getIncidentFieldValues` shows it, and its options (for a
    /// `*_fixed` field: the values it accepts, which that answer does not show).
    fields: Vec<(String, Value, Vec<String>)>,
    /// Incident id, body and the status answered, for every PUT.
    puts: Vec<(String, Value, u16)>,
    /// The incident of every `getIncidentFieldValues`.
    reads: Vec<String>,
    /// The statuses the next PUTs get instead of being applied.
    put_replies: VecDeque<u16>,
}

impl FakePagerDuty {
    /// A custom field on the incident: `name`, `data_type`, `field_type`, no value yet, and for
    /// a `*_fixed` field the `options` it accepts.
    pub fn add_field(
        &self,
        incident_id: &str,
        name: &str,
        data_type: &str,
        field_type: &str,
        options: &[&str],
    ) {
        let mut script = self.script.lock().unwrap();
        let n = script.fields.fields.len();
        let field = json!({"id": format!("PFIELD{n}"), "type": "field_value", "name": name,
            "display_name": name.replace('_', " "), "description": null,
            "data_type": data_type, "field_type": field_type, "value": null});
        let options = options.iter().map(|o| o.to_string()).collect();
        script
            .fields
            .fields
            .push((incident_id.to_owned(), field, options));
    }

    /// The incident's fields' values, by name.
    pub fn field_values(&self, incident_id: &str) -> Vec<(String, Value)> {
        let script = self.script.lock().unwrap();
        let on = script.fields.fields.iter();
        on.filter(|(incident, _, _)| incident == incident_id)
            .map(|(_, field, _)| {
                (
                    field["name"].as_str().unwrap().to_owned(),
                    field["value"].clone(),
                )
            })
            .collect()
    }

    /// Every `PUT .../custom_fields/values` on the incident: body and the status answered.
    pub fn field_puts(&self, incident_id: &str) -> Vec<(Value, u16)> {
        let script = self.script.lock().unwrap();
        let puts = script.fields.puts.iter();
        puts.filter(|(incident, _, _)| incident == incident_id)
            .map(|(_, body, status)| (body.clone(), *status))
            .collect()
    }

    /// How many times the incident's fields were read.
    pub fn field_reads(&self, incident_id: &str) -> usize {
        let script = self.script.lock().unwrap();
        script
            .fields
            .reads
            .iter()
            .filter(|id| *id == incident_id)
            .count()
    }

    /// The next PUTs of field values are answered these statuses, and change nothing (those
    /// scripted before and not used yet are forgotten).
    pub fn field_put_replies(&self, statuses: impl IntoIterator<Item = u16>) {
        let mut script = self.script.lock().unwrap();
        script.fields.put_replies = statuses.into_iter().collect();
    }
}

/// `getIncidentFieldValues`: the fields the incident has (none for an incident the test gave
/// none: an account without custom fields).
pub(super) async fn list_values(State(script): State<Shared>, Path(id): Path<String>) -> Response {
    let mut script = script.lock().unwrap();
    script.fields.reads.push(id.clone());
    if let Some(status) = script.outage {
        return failure(status);
    }
    Json(json!({"custom_fields": fields_of(&script.fields, &id)})).into_response()
}

fn fields_of(script: &FieldsScript, incident_id: &str) -> Vec<Value> {
    let on = script.fields.iter();
    on.filter(|(incident, _, _)| incident == incident_id)
        .map(|(_, field, _)| field.clone())
        .collect()
}

/// `setIncidentFieldValues`: 201 with the fields. The OpenAPI documents only 403, 404 and 500
/// as errors; a name the incident does not have, a value outside a fixed field's options, or
/// text over 200 characters is answered 400 here: our choice, since it documents none.
pub(super) async fn set_values(
    State(script): State<Shared>,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let mut script = script.lock().unwrap();
    if let Some(status) = script.outage {
        return failure(status);
    }
    let fields = &mut script.fields;
    let status = match fields.put_replies.pop_front() {
        Some(status) => status,
        None => apply(fields, &id, &body),
    };
    fields.puts.push((id.clone(), body, status));
    match status {
        201 => (
            StatusCode::CREATED,
            Json(json!({"custom_fields": fields_of(fields, &id)})),
        )
            .into_response(),
        status => failure(status),
    }
}

/// Applies the PUT whole, or nothing of it: 201, or 400.
fn apply(script: &mut FieldsScript, incident_id: &str, body: &Value) -> u16 {
    let Some(entries) = body["custom_fields"].as_array() else {
        return 400;
    };
    let mut changes = Vec::new();
    for entry in entries {
        let Some(at) = script.fields.iter().position(|(incident, field, _)| {
            incident == incident_id && field["name"] == entry["name"]
        }) else {
            return 400;
        };
        let (_, field, options) = &script.fields[at];
        let value = &entry["value"];
        let texts: Vec<&str> = match value {
            Value::String(text) => vec![text.as_str()],
            Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
            _ => return 400,
        };
        let too_long = texts.iter().any(|t| t.chars().count() > MAX_VALUE_CHARS);
        let fixed = field["field_type"].as_str().unwrap().ends_with("_fixed");
        let outside = fixed && texts.iter().any(|t| !options.iter().any(|o| o == t));
        let multi = field["field_type"].as_str().unwrap().starts_with("multi");
        if too_long || outside || multi != value.is_array() {
            return 400;
        }
        changes.push((at, value.clone()));
    }
    for (at, value) in changes {
        script.fields[at].1["value"] = value;
    }
    201
}
