//! The request body of `InvokeCommand` — `{"CmdletInput":{"CmdletName":"…","Parameters":{…}}}` — and parameter
//! binding as PowerShell does it: names are case-insensitive, every parameter has a type, a value of the
//! wrong type or outside an enumeration is refused with PowerShell's binding error, unknown parameters and
//! missing mandatory ones are refused before the cmdlet runs.
//!
//! Values arrive as JSON: strings, booleans, numbers, arrays, and for multi-valued properties of `Set-*`
//! cmdlets a hashtable `{"@odata.type":"#Exchange.GenericHashTable","Add":[…],"Remove":[…]}`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::error::{ExchangeError, ExchangeResult};

/// The type of a cmdlet parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamType {
    /// `String` (also an identity parameter): a string or a number.
    String,
    /// `Boolean`: `true`/`false`, or the numbers 1/0.
    Bool,
    /// `SwitchParameter`: present (`true`) or explicitly `false`.
    Switch,
    /// `String[]` / `MultiValuedProperty` given whole: a string or an array of strings.
    StringList,
    /// A `MultiValuedProperty` of a `Set-*` cmdlet: a list (replaces), or a hashtable with `Add`/`Remove`.
    MultiValued,
    /// An enumeration: one of the listed names (case-insensitive).
    Enum(&'static [&'static str]),
    /// `-ResultSize`: a positive number or `Unlimited`.
    ResultSize,
    /// `DateTime`: an ISO 8601 string.
    DateTime,
}

impl ParamType {
    fn type_name(self) -> &'static str {
        match self {
            ParamType::String => "System.String",
            ParamType::Bool => "System.Boolean",
            ParamType::Switch => "System.Management.Automation.SwitchParameter",
            ParamType::StringList | ParamType::MultiValued => "Microsoft.Exchange.Data.MultiValuedProperty",
            ParamType::Enum(_) => "System.Enum",
            ParamType::ResultSize => "Microsoft.Exchange.Data.Unlimited`1[System.UInt32]",
            ParamType::DateTime => "System.DateTime",
        }
    }
}

/// One parameter of a cmdlet.
#[derive(Clone, Copy, Debug)]
pub struct ParamSpec {
    /// Canonical name, e.g. `Identity`.
    pub name: &'static str,
    /// Its type.
    pub kind: ParamType,
    /// Whether the cmdlet refuses to run without it.
    pub mandatory: bool,
}

/// A parameter that may be left out.
pub const fn optional(name: &'static str, kind: ParamType) -> ParamSpec {
    ParamSpec { name, kind, mandatory: false }
}

/// A parameter the cmdlet needs.
pub const fn mandatory(name: &'static str, kind: ParamType) -> ParamSpec {
    ParamSpec { name, kind, mandatory: true }
}

/// Common parameters every cmdlet accepts (PowerShell's own, and the module's).
pub const COMMON_PARAMETERS: &[ParamSpec] = &[
    optional("ErrorAction", ParamType::String),
    optional("WarningAction", ParamType::String),
    optional("Verbose", ParamType::Switch),
    optional("Debug", ParamType::Switch),
    optional("Confirm", ParamType::Switch),
    optional("WhatIf", ParamType::Switch),
];

/// The parsed request body.
#[derive(Clone, Debug)]
pub struct CmdletInput {
    /// `CmdletName` as sent.
    pub name: String,
    /// `Parameters` as sent (absent = none).
    pub parameters: Map<String, Value>,
}

/// Parses the `InvokeCommand` body.
pub fn parse_body(body: &[u8]) -> ExchangeResult<CmdletInput> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|error| ExchangeError::bad_body(format!("The request body is not valid JSON: {error}")))?;
    let input = value
        .as_object()
        .and_then(|object| {
            object.iter().find(|(key, _)| key.eq_ignore_ascii_case("CmdletInput")).map(|(_, value)| value)
        })
        .and_then(Value::as_object)
        .ok_or_else(|| ExchangeError::bad_body("The request body must be an object with a 'CmdletInput' object."))?;
    let field = |name: &str| input.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value);
    let name = field("CmdletName")
        .and_then(Value::as_str)
        .filter(|name| !name.trim().is_empty())
        .ok_or_else(|| ExchangeError::bad_body("'CmdletInput.CmdletName' must be a non-empty string."))?
        .trim()
        .to_string();
    let parameters = match field("Parameters") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(parameters)) => parameters.clone(),
        Some(_) => return Err(ExchangeError::bad_body("'CmdletInput.Parameters' must be an object.")),
    };
    Ok(CmdletInput { name, parameters })
}

/// A value of a `MultiValued` parameter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MultiValue {
    /// A whole new list (`-Param a,b` or `$null` → empty).
    pub replace: Option<Vec<String>>,
    /// `@{Add=…}`.
    pub add: Vec<String>,
    /// `@{Remove=…}`.
    pub remove: Vec<String>,
}

/// The bound parameters of one invocation, by canonical name.
#[derive(Clone, Debug, Default)]
pub struct Params {
    values: BTreeMap<&'static str, Bound>,
}

#[derive(Clone, Debug)]
enum Bound {
    Text(String),
    Bool(bool),
    List(Vec<String>),
    Multi(MultiValue),
    Size(Option<u32>),
    Time(DateTime<Utc>),
    Null,
}

impl Params {
    /// Binds `parameters` against `specs` (plus [`COMMON_PARAMETERS`]); `granted` says whether the caller's
    /// roles allow a parameter (an ungranted one is "not found", as RBAC hides it).
    pub fn bind(
        specs: &[ParamSpec],
        parameters: &Map<String, Value>,
        granted: impl Fn(&str) -> bool,
    ) -> ExchangeResult<Params> {
        let mut values = BTreeMap::new();
        for (name, value) in parameters {
            if name.starts_with('@') || name.contains("@odata.") || name.contains("@data.") {
                continue;
            }
            let spec = specs
                .iter()
                .chain(COMMON_PARAMETERS)
                .find(|spec| spec.name.eq_ignore_ascii_case(name))
                .filter(|spec| granted(spec.name))
                .ok_or_else(|| ExchangeError::unknown_parameter(name))?;
            values.insert(spec.name, convert(spec, value)?);
        }
        let missing: Vec<&str> = specs
            .iter()
            .filter(|spec| {
                spec.mandatory && !matches!(values.get(spec.name), Some(bound) if !matches!(bound, Bound::Null))
            })
            .map(|spec| spec.name)
            .collect();
        if !missing.is_empty() {
            return Err(ExchangeError::missing_parameters(&missing));
        }
        Ok(Params { values })
    }

    /// Whether the parameter was given (even as `$null`).
    pub fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// A string parameter (`None` when absent or `$null`).
    pub fn string(&self, name: &str) -> Option<&str> {
        match self.values.get(name) {
            Some(Bound::Text(text)) => Some(text),
            _ => None,
        }
    }

    /// A mandatory string parameter (binding has checked it is there).
    pub fn required(&self, name: &str) -> &str {
        self.string(name).unwrap_or_default()
    }

    /// A boolean parameter.
    pub fn bool(&self, name: &str) -> Option<bool> {
        match self.values.get(name) {
            Some(Bound::Bool(value)) => Some(*value),
            _ => None,
        }
    }

    /// Whether a switch is on.
    pub fn switch(&self, name: &str) -> bool {
        self.bool(name).unwrap_or(false)
    }

    /// A list parameter (`Some(empty)` for `$null`).
    pub fn list(&self, name: &str) -> Option<&[String]> {
        match self.values.get(name) {
            Some(Bound::List(items)) => Some(items),
            Some(Bound::Null) => Some(&[]),
            _ => None,
        }
    }

    /// A multi-valued parameter of a `Set-*` cmdlet.
    pub fn multi(&self, name: &str) -> Option<MultiValue> {
        match self.values.get(name) {
            Some(Bound::Multi(value)) => Some(value.clone()),
            Some(Bound::Null) => Some(MultiValue { replace: Some(Vec::new()), ..MultiValue::default() }),
            _ => None,
        }
    }

    /// An enumeration parameter, in its canonical spelling.
    pub fn choice(&self, name: &str) -> Option<&str> {
        self.string(name)
    }

    /// `-ResultSize`: `Some(Some(n))` for a number, `Some(None)` for `Unlimited`, `None` when absent.
    pub fn result_size(&self) -> Option<Option<u32>> {
        match self.values.get("ResultSize") {
            Some(Bound::Size(size)) => Some(*size),
            _ => None,
        }
    }

    /// A date-time parameter.
    pub fn time(&self, name: &str) -> Option<DateTime<Utc>> {
        match self.values.get(name) {
            Some(Bound::Time(at)) => Some(*at),
            _ => None,
        }
    }
}

fn shown(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(_) => "System.Object[]".into(),
        Value::Object(_) => "System.Collections.Hashtable".into(),
        other => other.to_string(),
    }
}

fn strings(spec: &ParamSpec, value: &Value) -> ExchangeResult<Vec<String>> {
    let item = |value: &Value| match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        other => Err(ExchangeError::cannot_convert(spec.name, &shown(other), "System.String")),
    };
    match value {
        Value::Array(items) => items.iter().map(item).collect(),
        other => Ok(vec![item(other)?]),
    }
}

fn convert(spec: &ParamSpec, value: &Value) -> ExchangeResult<Bound> {
    let wrong = || ExchangeError::cannot_convert(spec.name, &shown(value), spec.kind.type_name());
    if value.is_null() {
        return match spec.kind {
            ParamType::Switch | ParamType::Bool => Err(wrong()),
            _ => Ok(Bound::Null),
        };
    }
    Ok(match spec.kind {
        ParamType::String => match value {
            Value::String(text) => Bound::Text(text.clone()),
            Value::Number(number) => Bound::Text(number.to_string()),
            _ => return Err(wrong()),
        },
        ParamType::Bool | ParamType::Switch => match value {
            Value::Bool(flag) => Bound::Bool(*flag),
            Value::Number(number) if number.as_u64() == Some(0) => Bound::Bool(false),
            Value::Number(number) if number.as_u64() == Some(1) => Bound::Bool(true),
            other => {
                let value_type = match other {
                    Value::String(_) => "System.String",
                    Value::Array(_) => "System.Object[]",
                    Value::Object(_) => "System.Collections.Hashtable",
                    _ => "System.Double",
                };
                return Err(ExchangeError::not_a_boolean(spec.name, value_type, spec.kind.type_name()));
            }
        },
        ParamType::StringList => Bound::List(strings(spec, value)?),
        ParamType::MultiValued => match value {
            Value::Object(table) => {
                let mut multi = MultiValue::default();
                for (key, items) in table {
                    if key.starts_with('@') {
                        continue;
                    }
                    if key.eq_ignore_ascii_case("Add") {
                        multi.add = strings(spec, items)?;
                    } else if key.eq_ignore_ascii_case("Remove") {
                        multi.remove = strings(spec, items)?;
                    } else {
                        return Err(wrong());
                    }
                }
                Bound::Multi(multi)
            }
            other => Bound::Multi(MultiValue { replace: Some(strings(spec, other)?), ..MultiValue::default() }),
        },
        ParamType::Enum(names) => {
            let Value::String(text) = value else { return Err(wrong()) };
            let name = names
                .iter()
                .find(|name| name.eq_ignore_ascii_case(text.trim()))
                .ok_or_else(|| ExchangeError::not_in_set(spec.name, text, names))?;
            Bound::Text((*name).to_string())
        }
        ParamType::ResultSize => match value {
            Value::String(text) if text.eq_ignore_ascii_case("Unlimited") => Bound::Size(None),
            Value::String(text) => {
                Bound::Size(Some(text.trim().parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(wrong)?))
            }
            Value::Number(number) => Bound::Size(Some(
                number.as_u64().and_then(|n| u32::try_from(n).ok()).filter(|n| *n > 0).ok_or_else(wrong)?,
            )),
            _ => return Err(wrong()),
        },
        ParamType::DateTime => {
            let Value::String(text) = value else { return Err(wrong()) };
            let at = DateTime::parse_from_rfc3339(text.trim()).map_err(|_| wrong())?;
            Bound::Time(at.with_timezone(&Utc))
        }
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SPECS: &[ParamSpec] = &[
        mandatory("Identity", ParamType::String),
        optional("HiddenFromAddressListsEnabled", ParamType::Bool),
        optional("Type", ParamType::Enum(&["Regular", "Shared"])),
        optional("GrantSendOnBehalfTo", ParamType::MultiValued),
        optional("ResultSize", ParamType::ResultSize),
    ];

    fn bind(parameters: Value) -> ExchangeResult<Params> {
        Params::bind(SPECS, parameters.as_object().unwrap(), |_| true)
    }

    #[test]
    fn names_are_case_insensitive_and_values_are_typed() {
        let params = bind(json!({"identity": "a@b.c", "TYPE": "shared", "hiddenfromaddresslistsenabled": true,
                                 "GrantSendOnBehalfTo": {"@odata.type": "#Exchange.GenericHashTable", "Add": ["x"]},
                                 "ResultSize": "Unlimited"}))
        .unwrap();
        assert_eq!(params.required("Identity"), "a@b.c");
        assert_eq!(params.choice("Type"), Some("Shared"));
        assert_eq!(params.bool("HiddenFromAddressListsEnabled"), Some(true));
        assert_eq!(params.multi("GrantSendOnBehalfTo").unwrap().add, vec!["x".to_string()]);
        assert_eq!(params.result_size(), Some(None));
    }

    #[test]
    fn binding_errors_name_the_parameter() {
        let unknown = bind(json!({"Identity": "x", "Colour": "red"})).unwrap_err();
        assert!(unknown.detail.unwrap().message.contains("'Colour'"));
        let missing = bind(json!({"Type": "Shared"})).unwrap_err();
        assert!(missing.detail.unwrap().message.contains("mandatory parameters: Identity"));
        let wrong = bind(json!({"Identity": "x", "HiddenFromAddressListsEnabled": "yes"})).unwrap_err();
        assert!(wrong.detail.unwrap().message.contains("System.Boolean"));
        let outside = bind(json!({"Identity": "x", "Type": "Room2"})).unwrap_err();
        assert!(outside.detail.unwrap().message.contains("Regular, Shared"));
        let hidden =
            Params::bind(SPECS, json!({"Identity": "x", "Type": "Shared"}).as_object().unwrap(), |name| name != "Type")
                .unwrap_err();
        assert!(hidden.detail.unwrap().message.contains("'Type'"));
    }
}
