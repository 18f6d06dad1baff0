//! Exchange's answer shapes: objects whose typed values carry `@data.type` / `@odata.type` annotations
//! (reference §4.2), the `{"@odata.context","@adminapi.warnings","value"}` envelope, `$select`, and paging by
//! `@odata.nextLink` under `Prefer: odata.maxpagesize`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::error::{ExchangeError, ExchangeResult};

/// Exchange's date-time form: `2022-09-21T08:07:47.0000000+00:00`.
pub fn exchange_time(at: DateTime<Utc>) -> String {
    use chrono::Timelike;
    format!("{}.{:07}+00:00", at.format("%Y-%m-%dT%H:%M:%S"), at.nanosecond() % 1_000_000_000 / 100)
}

/// Builds one output object with Exchange's type annotations.
#[derive(Clone, Debug, Default)]
pub struct ObjectBuilder {
    object: Map<String, Value>,
}

impl ObjectBuilder {
    /// An empty object.
    pub fn new() -> ObjectBuilder {
        ObjectBuilder::default()
    }

    /// A string (or null) property.
    pub fn string(mut self, name: &str, value: Option<&str>) -> ObjectBuilder {
        self.object.insert(name.to_string(), value.map_or(Value::Null, |text| Value::String(text.to_string())));
        self
    }

    /// A boolean property.
    pub fn bool(mut self, name: &str, value: bool) -> ObjectBuilder {
        self.object.insert(name.to_string(), Value::Bool(value));
        self
    }

    /// A number property.
    pub fn number(mut self, name: &str, value: i64) -> ObjectBuilder {
        self.object.insert(name.to_string(), json!(value));
        self
    }

    /// A GUID property (`System.Guid`).
    pub fn guid(mut self, name: &str, value: Option<Uuid>) -> ObjectBuilder {
        self.object.insert(format!("{name}@data.type"), json!("System.Guid"));
        self.object.insert(format!("{name}@odata.type"), json!("#Guid"));
        self.object.insert(name.to_string(), value.map_or(Value::Null, |id| Value::String(id.to_string())));
        self
    }

    /// A date-time property (`System.DateTime`).
    pub fn time(mut self, name: &str, value: Option<DateTime<Utc>>) -> ObjectBuilder {
        self.object.insert(format!("{name}@data.type"), json!("System.DateTime"));
        self.object.insert(format!("{name}@odata.type"), json!("#DateTimeOffset"));
        self.object.insert(name.to_string(), value.map_or(Value::Null, |at| Value::String(exchange_time(at))));
        self
    }

    /// An enumeration property, with its .NET type.
    pub fn enumeration(mut self, name: &str, type_name: &str, value: &str) -> ObjectBuilder {
        self.object.insert(format!("{name}@data.type"), json!(type_name));
        self.object.insert(name.to_string(), json!(value));
        self
    }

    /// A collection of strings (`#Collection(String)`).
    pub fn strings<I, S>(mut self, name: &str, values: I) -> ObjectBuilder
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let values: Vec<Value> = values.into_iter().map(|value| Value::String(value.into())).collect();
        self.object.insert(format!("{name}@odata.type"), json!("#Collection(String)"));
        self.object.insert(name.to_string(), Value::Array(values));
        self
    }

    /// The finished object.
    pub fn build(self) -> Map<String, Value> {
        self.object
    }
}

/// Keeps only the `$select`ed properties (and their annotations) of each object; names are case-insensitive.
pub fn select(objects: Vec<Map<String, Value>>, select: &[String]) -> Vec<Map<String, Value>> {
    if select.is_empty() {
        return objects;
    }
    objects
        .into_iter()
        .map(|object| {
            object
                .into_iter()
                .filter(|(key, _)| {
                    let base = key.split('@').next().unwrap_or(key);
                    select.iter().any(|wanted| wanted.eq_ignore_ascii_case(base))
                })
                .collect()
        })
        .collect()
}

/// The position a `@odata.nextLink` continues from, bound to the request it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageToken {
    /// Objects already returned.
    pub offset: usize,
    /// Fingerprint of the cmdlet input: the next page must be asked for with the same body.
    pub fingerprint: String,
}

impl PageToken {
    /// The opaque text for the link.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}:{}", self.offset, self.fingerprint))
    }

    /// Reads a token back; a token that does not parse or belongs to another request is refused.
    pub fn decode(text: &str, fingerprint: &str) -> ExchangeResult<PageToken> {
        let invalid = || ExchangeError::bad_body("The $skiptoken is not valid for this request.");
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let (offset, print) = text.split_once(':').ok_or_else(invalid)?;
        let offset = offset.parse::<usize>().map_err(|_| invalid())?;
        if print != fingerprint {
            return Err(invalid());
        }
        Ok(PageToken { offset, fingerprint: print.to_string() })
    }
}

/// A fingerprint of a cmdlet input (its name and parameters), for page tokens.
pub fn fingerprint(cmdlet: &str, parameters: &Map<String, Value>) -> String {
    let text = format!("{}\n{}", cmdlet.to_ascii_lowercase(), Value::Object(parameters.clone()));
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes());
    digest.as_ref()[..12].iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The page size a client asked for with `Prefer: odata.maxpagesize=N` (1..=1000; default 1000).
pub fn max_page_size(prefer: Option<&str>) -> usize {
    prefer
        .into_iter()
        .flat_map(|value| value.split([',', ';']))
        .filter_map(|part| part.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("odata.maxpagesize"))
        .and_then(|(_, size)| size.trim().parse::<usize>().ok())
        .map_or(1000, |size| size.clamp(1, 1000))
}

/// The success body: `@odata.context`, warnings, the page of objects and, when more remain, `@odata.nextLink`.
pub fn envelope(context: &str, warnings: &[String], page: Vec<Map<String, Value>>, next_link: Option<String>) -> Value {
    let mut body = json!({
        "@odata.context": context,
        "adminapi.warnings@odata.type": "#Collection(String)",
        "@adminapi.warnings": warnings,
        "value": page,
    });
    if let Some(link) = next_link {
        body["@odata.nextLink"] = Value::String(link);
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_refuse_another_request() {
        let token = PageToken { offset: 40, fingerprint: "abc".into() };
        assert_eq!(PageToken::decode(&token.encode(), "abc").unwrap(), token);
        assert!(PageToken::decode(&token.encode(), "abd").is_err());
        assert!(PageToken::decode("!!", "abc").is_err());
    }

    #[test]
    fn prefer_picks_the_page_size() {
        assert_eq!(max_page_size(Some("odata.maxpagesize=50")), 50);
        assert_eq!(max_page_size(Some("odata.maxpagesize = 5000;odata.continue-on-error")), 1000);
        assert_eq!(max_page_size(None), 1000);
    }

    #[test]
    fn select_keeps_annotations_of_selected_properties() {
        let object = ObjectBuilder::new().guid("ExchangeGuid", Some(Uuid::nil())).string("Alias", Some("a")).build();
        let kept = select(vec![object], &["exchangeguid".to_string()]);
        assert_eq!(kept[0].len(), 3);
    }

    #[test]
    fn times_have_seven_fraction_digits() {
        let at = DateTime::parse_from_rfc3339("2022-09-21T08:07:47Z").unwrap().with_timezone(&Utc);
        assert_eq!(exchange_time(at), "2022-09-21T08:07:47.0000000+00:00");
    }
}
