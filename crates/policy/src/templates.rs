//! The template engine: a minijinja environment with Tenure's filters (`ascii`, `truncate`) and fuel limit, the
//! template context built from a `model::Worker`, and the checks `parse_policy` runs on every template and
//! expression (syntax, unknown filters, a trial render against a sample worker).
//!
//! Absent worker fields are *undefined* in the context, so they render as nothing, are falsy in `when`
//! expressions and can be replaced with `default(…)`.

use std::collections::{BTreeMap, BTreeSet};

use minijinja::{Environment, Error, ErrorKind, Value, context};
use model::{Worker, WorkerStatus};

/// The fuel one render or evaluation may burn; a runaway template (a huge loop) fails instead of hanging.
pub(crate) const FUEL: u64 = 50_000;

/// The variables a template may use.
const ROOT_VARIABLES: [&str; 4] = ["worker", "given_name", "family_name", "counter"];

/// The fields of the `worker` variable.
pub(crate) const WORKER_FIELDS: [&str; 27] = [
    "employee_id",
    "legal_given_name",
    "legal_family_name",
    "preferred_given_name",
    "preferred_family_name",
    "job_title",
    "department",
    "division",
    "cost_center",
    "office_location",
    "city",
    "country",
    "usage_location",
    "company",
    "employee_type",
    "manager_id",
    "hire_date",
    "termination_date",
    "status",
    "leave_type",
    "leave_start",
    "leave_end",
    "business_phone",
    "mobile_phone",
    "personal_email",
    "time_zone",
    "custom",
];

/// Whether a source is a whole template (`{{ … }}` inside text) or a bare expression (`when`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SourceKind {
    /// A template rendering to text.
    Template,
    /// A minijinja expression, evaluated for truthiness.
    Expression,
}

/// The environment every policy template is compiled in.
pub(crate) fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_fuel(Some(FUEL));
    env.add_filter("ascii", |value: Value| ascii(&text_of(&value)));
    env.add_filter("truncate", |value: Value, length: usize| text_of(&value).chars().take(length).collect::<String>());
    env
}

/// A value as text; undefined and none are empty.
fn text_of(value: &Value) -> String {
    if value.is_undefined() || value.is_none() { String::new() } else { value.to_string() }
}

/// Transliterates to ASCII: German umlauts and ß by the German convention (ä → ae, ß → ss), everything else by
/// `deunicode` (ø → o, ç → c); characters without a transliteration are dropped.
#[must_use]
pub fn ascii(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let replacement = match c {
            'ä' => "ae",
            'ö' => "oe",
            'ü' => "ue",
            'Ä' => "Ae",
            'Ö' => "Oe",
            'Ü' => "Ue",
            'ß' => "ss",
            _ if c.is_ascii() => {
                out.push(c);
                continue;
            }
            _ => deunicode::deunicode_char(c).unwrap_or(""),
        };
        out.push_str(replacement);
    }
    out
}

/// A date (or nothing) as a context value.
fn date_value(date: Option<chrono::NaiveDate>) -> Value {
    date.map_or(Value::UNDEFINED, |date| Value::from(date.format("%Y-%m-%d").to_string()))
}

/// A text field (or nothing) as a context value.
fn text_value(text: Option<&str>) -> Value {
    text.map_or(Value::UNDEFINED, Value::from)
}

/// The `worker` value: every `Worker` field by its Rust name (dates as `YYYY-MM-DD`, `status` as `pre-hire`,
/// `active`, `leave` or `terminated`, plus `leave_type`), `custom` a map of the custom fields.
pub(crate) fn worker_value(worker: &Worker) -> Value {
    let mut map: BTreeMap<&str, Value> = BTreeMap::new();
    map.insert("employee_id", Value::from(worker.employee_id.as_str()));
    let texts: [(&str, &Option<String>); 20] = [
        ("legal_given_name", &worker.legal_given_name),
        ("legal_family_name", &worker.legal_family_name),
        ("preferred_given_name", &worker.preferred_given_name),
        ("preferred_family_name", &worker.preferred_family_name),
        ("job_title", &worker.job_title),
        ("department", &worker.department),
        ("division", &worker.division),
        ("cost_center", &worker.cost_center),
        ("office_location", &worker.office_location),
        ("city", &worker.city),
        ("country", &worker.country),
        ("company", &worker.company),
        ("employee_type", &worker.employee_type),
        ("business_phone", &worker.business_phone),
        ("mobile_phone", &worker.mobile_phone),
        ("personal_email", &worker.personal_email),
        ("time_zone", &worker.time_zone),
        ("leave_type", &None),
        ("status", &None),
        ("usage_location", &None),
    ];
    for (name, value) in texts {
        map.insert(name, text_value(value.as_deref()));
    }
    map.insert("usage_location", text_value(worker.usage_location.as_ref().map(|code| code.as_str())));
    map.insert("manager_id", text_value(worker.manager_id.as_ref().map(|id| id.as_str())));
    map.insert("hire_date", date_value(worker.hire_date));
    map.insert("termination_date", date_value(worker.termination_date));
    map.insert("leave_start", date_value(worker.leave_start));
    map.insert("leave_end", date_value(worker.leave_end));
    let (status, leave_type) = match &worker.status {
        None => (None, None),
        Some(WorkerStatus::PreHire) => (Some("pre-hire"), None),
        Some(WorkerStatus::Active) => (Some("active"), None),
        Some(WorkerStatus::Leave { leave_type }) => (Some("leave"), leave_type.as_deref()),
        Some(WorkerStatus::Terminated) => (Some("terminated"), None),
    };
    map.insert("status", text_value(status));
    map.insert("leave_type", text_value(leave_type));
    map.insert("custom", Value::from_serialize(&worker.custom_fields));
    Value::from(map)
}

/// The context of every template: `worker`, `given_name` (preferred, else legal), `family_name` (likewise).
pub(crate) fn worker_context(worker: &Worker) -> Value {
    let given = worker.preferred_given_name.as_deref().or(worker.legal_given_name.as_deref());
    let family = worker.preferred_family_name.as_deref().or(worker.legal_family_name.as_deref());
    context! { worker => worker_value(worker), given_name => text_value(given), family_name => text_value(family) }
}

/// A message for a minijinja error, without minijinja's source location (the policy problem names it).
pub(crate) fn describe(error: &Error) -> String {
    match error.detail() {
        Some(detail) => format!("{}: {detail}", error.kind()),
        None => error.kind().to_string(),
    }
}

/// The filter names a template or expression applies (`x | name`), found lexically so that filters in branches
/// a trial render does not reach are checked too.
pub(crate) fn filter_names(source: &str, kind: SourceKind) -> Vec<String> {
    let chars: Vec<char> = source.chars().collect();
    let mut names = Vec::new();
    let mut in_code = kind == SourceKind::Expression;
    let mut quote: Option<char> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if !in_code {
            match (c, next) {
                ('{', Some('{' | '%')) => {
                    in_code = true;
                    i += 2;
                }
                ('{', Some('#')) => {
                    i += 2;
                    while i < chars.len() && !(chars[i] == '#' && chars.get(i + 1) == Some(&'}')) {
                        i += 1;
                    }
                    i += 2;
                }
                _ => i += 1,
            }
            continue;
        }
        if let Some(open) = quote {
            if c == '\\' {
                i += 2;
                continue;
            }
            if c == open {
                quote = None;
            }
            i += 1;
            continue;
        }
        match (c, next) {
            ('\'' | '"', _) => quote = Some(c),
            ('}', Some('}')) | ('%', Some('}')) if kind == SourceKind::Template => {
                in_code = false;
                i += 1;
            }
            ('|', _) => {
                let mut j = i + 1;
                while j < chars.len() && chars[j].is_whitespace() {
                    j += 1;
                }
                let start = j;
                while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                    j += 1;
                }
                if j > start {
                    names.push(chars[start..j].iter().collect());
                }
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    names
}

/// Checks templates and expressions against one environment, caching which filter names exist.
pub(crate) struct Checker {
    env: Environment<'static>,
    sample: Value,
    known_filters: BTreeSet<String>,
    unknown_filters: BTreeSet<String>,
}

impl Checker {
    pub(crate) fn new() -> Self {
        Self {
            env: environment(),
            sample: sample_context(),
            known_filters: BTreeSet::new(),
            unknown_filters: BTreeSet::new(),
        }
    }

    fn filter_exists(&mut self, name: &str) -> bool {
        if self.known_filters.contains(name) {
            return true;
        }
        if self.unknown_filters.contains(name) {
            return false;
        }
        let probe = format!("{{{{ none | {name} }}}}");
        let exists = match self.env.render_str(&probe, ()) {
            Ok(_) => true,
            Err(error) => error.kind() != ErrorKind::UnknownFilter,
        };
        if exists {
            self.known_filters.insert(name.to_string())
        } else {
            self.unknown_filters.insert(name.to_string())
        };
        exists
    }

    /// Every problem with `source`: a syntax error, else each unknown filter and a failing trial render.
    pub(crate) fn check(&mut self, source: &str, kind: SourceKind) -> Vec<String> {
        self.check_with(source, kind, &[])
    }

    /// Like [`Self::check`], for a template that may also use the text variables `extra` (the leaver's
    /// auto-reply knows `display_name` and `manager_name`).
    pub(crate) fn check_with(&mut self, source: &str, kind: SourceKind, extra: &[&str]) -> Vec<String> {
        let compiled = match kind {
            SourceKind::Template => self.env.template_from_str(source).map(|_| ()),
            SourceKind::Expression => self.env.compile_expression(source).map(|_| ()),
        };
        if let Err(error) = compiled {
            return vec![describe(&error)];
        }
        let mut messages = Vec::new();
        let mut seen = BTreeSet::new();
        for name in filter_names(source, kind) {
            if seen.insert(name.clone()) && !self.filter_exists(&name) {
                messages.push(format!("unknown filter \"{name}\""));
            }
        }
        let variables = match kind {
            SourceKind::Template => self.env.template_from_str(source).map(|t| t.undeclared_variables(true)),
            SourceKind::Expression => self.env.compile_expression(source).map(|e| e.undeclared_variables(true)),
        };
        let mut variables: Vec<String> = variables.map(|set| set.into_iter().collect()).unwrap_or_default();
        variables.sort();
        for variable in variables {
            let mut segments = variable.split('.');
            let root = segments.next().unwrap_or_default();
            if !ROOT_VARIABLES.contains(&root)
                && !extra.contains(&root)
                && !self.env.globals().any(|(name, _)| name == root)
            {
                let mut known: Vec<&str> = ROOT_VARIABLES.to_vec();
                known.extend_from_slice(extra);
                let (last, rest) = known.split_last().map_or(("", &[][..]), |(last, rest)| (*last, rest));
                messages.push(format!("unknown variable \"{root}\" (use {} or {last})", rest.join(", ")));
            } else if root == "worker"
                && let Some(field) = segments.next()
                && !WORKER_FIELDS.contains(&field)
            {
                messages.push(format!("unknown worker field \"{field}\""));
            }
        }
        if !messages.is_empty() {
            return messages;
        }
        let extras: BTreeMap<&str, Value> = extra.iter().map(|name| (*name, Value::from("Sample"))).collect();
        let context =
            context! { counter => 2, ..minijinja::value::merge_maps([Value::from(extras), self.sample.clone()]) };
        let trial = match kind {
            SourceKind::Template => {
                self.env.template_from_str(source).and_then(|template| template.render(&context)).map(|_| ())
            }
            SourceKind::Expression => {
                self.env.compile_expression(source).and_then(|expression| expression.eval(&context)).map(|_| ())
            }
        };
        if let Err(error) = trial
            && error.kind() != ErrorKind::UnknownFilter
        {
            messages.push(describe(&error));
        }
        messages
    }
}

/// A worker with every field set, for trial renders.
fn sample_context() -> Value {
    let id = model::WorkerId::new("1000").unwrap_or_else(|_| unreachable!("a constant valid id"));
    let mut worker = Worker::new(id.clone(), model::SourceLocation::at_line("sample", 2));
    let date = chrono::NaiveDate::from_ymd_opt(2026, 1, 1);
    for field in [
        &mut worker.legal_given_name,
        &mut worker.legal_family_name,
        &mut worker.preferred_given_name,
        &mut worker.preferred_family_name,
        &mut worker.job_title,
        &mut worker.department,
        &mut worker.division,
        &mut worker.cost_center,
        &mut worker.office_location,
        &mut worker.city,
        &mut worker.country,
        &mut worker.company,
        &mut worker.employee_type,
        &mut worker.business_phone,
        &mut worker.mobile_phone,
        &mut worker.personal_email,
    ] {
        *field = Some("Sample".to_string());
    }
    worker.time_zone = Some("Europe/Berlin".to_string());
    worker.usage_location = model::CountryCode::new("DE").ok();
    worker.manager_id = Some(id);
    worker.hire_date = date;
    worker.termination_date = date;
    worker.leave_start = date;
    worker.leave_end = date;
    worker.status = Some(WorkerStatus::Active);
    worker_context(&worker)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_uses_the_german_table_then_deunicode() {
        assert_eq!(ascii("Jürgen Weiß"), "Juergen Weiss");
        assert_eq!(ascii("Zoë Ørsted"), "Zoe Orsted");
        assert_eq!(ascii("François"), "Francois");
        assert_eq!(ascii("ÄÖÜäöü"), "AeOeUeaeoeue");
    }

    #[test]
    fn filter_names_skip_strings_and_text() {
        let names =
            filter_names("a | b {{ x | lower | replace('|', '-') }} {# y | z #}{% if q|asci %}", SourceKind::Template);
        assert_eq!(names, vec!["lower", "replace", "asci"]);
        assert_eq!(filter_names("worker.x | ascii == 'a|b'", SourceKind::Expression), vec!["ascii"]);
    }

    #[test]
    fn truncate_takes_characters_without_ellipsis_and_absent_fields_render_empty() {
        let env = environment();
        let context = context! { worker => context! { city => "x" } };
        let rendered = env.render_str(
            "{{ 'Jürgen' | truncate(2) }}|{{ worker.department | lower }}|{{ worker.range }}{{ range(3) | length }}",
            context,
        );
        assert_eq!(rendered.expect("renders"), "Jü||3");
        let template = env
            .template_from_str("{{ range(3) }}{{ wokrer.x }}{{ worker.y }}{% set a = 1 %}{{ a }}")
            .expect("compiles");
        let mut names: Vec<_> = template.undeclared_variables(false).into_iter().collect();
        names.sort();
        assert_eq!(names, vec!["range".to_string(), "wokrer".to_string(), "worker".to_string()]);
    }

    #[test]
    fn checker_reports_unknown_filters_in_untaken_branches() {
        let mut checker = Checker::new();
        let messages = checker
            .check("{% if false %}{{ worker.city | asci }}{% endif %}{{ given_name | ascii }}", SourceKind::Template);
        assert_eq!(messages, vec!["unknown filter \"asci\"".to_string()]);
        assert_eq!(
            checker.check(
                "{{ wokrer.x }}{{ worker.departmnet }}{{ worker.custom.anything }}{{ range(2) | length }}",
                SourceKind::Template
            ),
            vec![
                "unknown variable \"wokrer\" (use worker, given_name, family_name or counter)".to_string(),
                "unknown worker field \"departmnet\"".to_string()
            ]
        );
        assert!(checker.check("{{ given_name", SourceKind::Template)[0].starts_with("syntax error"));
        assert!(checker.check("worker.department and", SourceKind::Expression)[0].starts_with("syntax error"));
    }

    #[test]
    fn runaway_templates_run_out_of_fuel() {
        let mut checker = Checker::new();
        let messages = checker.check(
            "{% for i in range(10000) %}{% for j in range(10000) %}x{% endfor %}{% endfor %}",
            SourceKind::Template,
        );
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(messages[0].contains("fuel"), "{messages:?}");
    }
}
