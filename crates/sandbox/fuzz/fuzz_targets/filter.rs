//! Fuzzes the `$filter` parser and evaluator, and the whole list-query pipeline (decoding, `$select`,
//! `$filter` binding and rules, `$orderby`, `$search`, delta options) on arbitrary input. Any panic, stack
//! overflow or hang is a bug: malformed input must always come back as a Graph error.
#![no_main]

use std::sync::LazyLock;

use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use sandbox::directory::user::User;
use sandbox::graph::odata::{self, EntityKind, filter};

/// A real user from the sample seed, so evaluation goes through `User::property`.
static SAMPLE_USER: LazyLock<User> = LazyLock::new(|| {
    let directory = sandbox::seed::Seed::sample().build(chrono::Utc::now()).expect("the sample seed builds");
    let tenant = directory.tenant("contoso.com").expect("the sample seed has Contoso");
    let tenant = tenant.read();
    tenant.users.values().find(|user| !user.assigned_licenses.is_empty()).or_else(|| tenant.users.values().next()).cloned().expect("a user")
});

fuzz_target!(|data: &[u8]| {
    let user = &*SAMPLE_USER;
    let get = |name: &str| user.property(name);
    let text = String::from_utf8_lossy(data);

    if let Ok(expr) = filter::parse(&text) {
        let _ = odata::matches(&expr, &get);
    }

    let mut eventual = HeaderMap::new();
    eventual.insert("ConsistencyLevel", HeaderValue::from_static("eventual"));
    for headers in [HeaderMap::new(), eventual] {
        for kind in [EntityKind::User, EntityKind::Group] {
            if let Ok(query) = odata::parse_list_query(kind, Some(&text), &headers) {
                if let Some(expr) = &query.filter {
                    let _ = odata::matches(expr, &get);
                }
                if let Some(search) = &query.search_query {
                    let _ = odata::search_matches(search, &get);
                }
                let _ = odata::project(kind, query.select.as_deref(), &get);
            }
            let _ = odata::parse_delta_query(kind, Some(&text), &headers);
        }
    }
    // The raw text as a `$filter` value through the list rules too.
    let as_filter = format!("$filter={}", text.replace('&', "%26"));
    if let Ok(query) = odata::parse_list_query(EntityKind::User, Some(&as_filter), &HeaderMap::new())
        && let Some(expr) = &query.filter
    {
        let _ = odata::matches(expr, &get);
    }
});
