//! Parsing the policy file: the shipped example parses (and its `[hr]` section is a valid CSV mapping), and a
//! broken file reports every problem at once with its line and key.

use policy::parse_policy;

const EXAMPLE: &str = include_str!("../examples/policy.toml");

#[test]
fn the_example_policy_parses() {
    let policy = parse_policy("policy.toml", EXAMPLE).unwrap_or_else(|problems| {
        panic!("{}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))
    });
    assert_eq!(policy.default_time_zone(), chrono_tz::Europe::Berlin);
    assert_eq!(policy.revision().len(), 64);
    assert!(policy.revision().chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
    assert_eq!(policy.source_text(), EXAMPLE);
    let hr = policy.hr_section().expect("an [hr] section").clone();
    let mapping: hr_source::CsvMapping = hr.try_into().expect("a valid CSV mapping");
    assert!(mapping.problems().is_empty(), "{:?}", mapping.problems());
    assert_eq!(mapping.columns.len(), 25);
    assert_eq!(policy.limits().deletes.max_count, Some(10));
}

#[test]
fn a_broken_policy_reports_every_problem_at_once() {
    let text = r#"[scope]
upn_domains = ["contoso.com"]

[attributes]
displayName = "{{ given_name }} {{ family_name }}"
favouriteColour = "{{ worker.city }}"

[naming]
domain = "contoso.com"
candidates = [
  "{{ given_name | ascii | lower }}",
  "{{ given_name | asci }}",
]

[lifecycle]
default_time_zone = "Europe/Berlinn"
keep_account_when = "worker.custom.keep =="

[[groups]]
name = "all"
kind = "distribution"
when = "worker.departmnet"

[[licences]]
sku = "ENTERPRISEPACK"
colour = "blue"

[limits]
deletes = { share = 1.5 }
"#;
    let problems = parse_policy("policy.toml", text).expect_err("problems");
    let texts: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        texts,
        vec![
            "policy.toml:6: attributes.favouriteColour: unknown attribute \"favouriteColour\" (expected one of \
             displayName, givenName, surname, jobTitle, department, companyName, officeLocation, city, country, \
             usageLocation, employeeId, employeeType, employeeHireDate, employeeLeaveDateTime, mobilePhone, \
             businessPhones, employeeOrgData/costCenter, employeeOrgData/division)",
            "policy.toml:12: naming.candidates[1]: unknown filter \"asci\"",
            "policy.toml:16: lifecycle.default_time_zone: unknown time zone \"Europe/Berlinn\"",
            "policy.toml:17: lifecycle.keep_account_when: syntax error: unexpected end of input, expected expression",
            "policy.toml:21: groups[0].kind: \"distribution\" is not a group kind (use security or microsoft365)",
            "policy.toml:22: groups[0].when: unknown worker field \"departmnet\"",
            "policy.toml:26: licences[0].colour: unknown field `colour`, expected one of `id`, `sku`, `when`",
            "policy.toml:29: limits.deletes.share: share 1.5 is not between 0 and 1",
        ],
    );
}

#[test]
fn unknown_sections_and_syntax_errors_name_their_line() {
    let problems =
        parse_policy("p.toml", "[naming]\ndomain = \"contoso.com\"\ncandidates = [\"x\"]\n\n[groupz]\nx = 1\n")
            .expect_err("problems");
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].line, Some(5));
    assert_eq!(problems[0].key, "groupz");
    assert!(problems[0].message.starts_with("unknown section \"groupz\""), "{}", problems[0]);

    let problems = parse_policy("p.toml", "[naming]\ndomain = \n").expect_err("problems");
    assert_eq!(problems[0].line, Some(2), "{}", problems[0]);

    let problems = parse_policy("p.toml", "[scope]\nupn_domains = []\n").expect_err("problems");
    assert_eq!(
        problems[0].to_string(),
        "p.toml: naming: missing section [naming] (name candidates are needed to create accounts)"
    );
}
