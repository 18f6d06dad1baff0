//! Name candidates: rendering the naming templates for one worker (expanding `counter`), cleaning the local
//! parts and building UPN / `mailNickname` / `mail` triples in order of preference.

use minijinja::{Template, Value, context};
use model::NameCandidate;

/// The naming settings of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NamingRules {
    /// The UPN domain (lower-case).
    pub(crate) domain: String,
    /// Local-part templates, in order.
    pub(crate) candidates: Vec<String>,
    /// First counter value.
    pub(crate) counter_start: u32,
    /// Last counter value.
    pub(crate) max_counter: u32,
    /// Whether `mail` is set to the UPN.
    pub(crate) set_mail: bool,
}

/// Cleans a rendered local part: lower-case, spaces dropped, characters outside `[a-z0-9._-]` removed, leading,
/// trailing and repeated dots removed.
#[must_use]
pub fn clean_local_part(rendered: &str) -> String {
    let kept: String = rendered
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        .collect();
    kept.split('.').filter(|part| !part.is_empty()).collect::<Vec<_>>().join(".")
}

/// The name candidates of one worker, in order and without repeats; `Err((index, error))` names the failing
/// candidate template.
pub(crate) fn candidates(
    rules: &NamingRules,
    templates: &[(Template<'_, '_>, bool)],
    base: &Value,
) -> Result<Vec<NameCandidate>, (usize, minijinja::Error)> {
    let mut out: Vec<NameCandidate> = Vec::new();
    let mut push = |rendered: String| {
        let local = clean_local_part(&rendered);
        // A local part without a letter (a name of only symbols leaves just the counter, `2`) names nobody.
        if !local.chars().any(|character| character.is_ascii_lowercase()) {
            return;
        }
        let upn = format!("{local}@{}", rules.domain);
        if out.iter().any(|candidate| candidate.user_principal_name == upn) {
            return;
        }
        out.push(NameCandidate {
            mail: rules.set_mail.then(|| upn.clone()),
            user_principal_name: upn,
            mail_nickname: local,
        });
    };
    for (index, (template, uses_counter)) in templates.iter().enumerate() {
        if *uses_counter {
            for counter in rules.counter_start..=rules.max_counter {
                let rendered = template.render(context! { counter => counter, ..base.clone() });
                push(rendered.map_err(|error| (index, error))?);
            }
        } else {
            push(template.render(base).map_err(|error| (index, error))?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleaning_keeps_only_safe_characters() {
        assert_eq!(clean_local_part("Mary Ann.O'Neil"), "maryann.oneil");
        assert_eq!(clean_local_part(".a..b."), "a.b");
        assert_eq!(clean_local_part("李"), "");
        assert_eq!(clean_local_part("x_y-z2"), "x_y-z2");
    }

    #[test]
    fn a_name_of_only_symbols_gives_no_candidate_not_just_the_counter() {
        let env = minijinja::Environment::new();
        let plain = env.template_from_str("{{ name }}").expect("template");
        let numbered = env.template_from_str("{{ name }}{{ counter }}").expect("template");
        let rules = NamingRules {
            domain: "contoso.com".into(),
            candidates: Vec::new(),
            counter_start: 2,
            max_counter: 3,
            set_mail: false,
        };
        let templates = [(plain, false), (numbered, true)];
        let none = candidates(&rules, &templates, &context! { name => "???" }).expect("renders");
        assert!(none.is_empty(), "{none:?}");
        let some = candidates(&rules, &templates, &context! { name => "Zoë" }).expect("renders");
        let upns: Vec<&str> = some.iter().map(|candidate| candidate.user_principal_name.as_str()).collect();
        assert_eq!(upns, ["zo@contoso.com", "zo2@contoso.com", "zo3@contoso.com"]);
    }
}
