//! The Graph v1.0 metadata for users and groups, read from Microsoft's own CSDL extract
//! (`crates/sandbox/schema/graph-v1.0-users-groups.csdl.xml`, MIT-licensed, embedded at build time).
//!
//! It is the source of truth for which property names exist on `microsoft.graph.user` / `group` (inherited
//! `directoryObject` and `entity` members included), their casing and their types. `$select`, `$filter` and
//! `$orderby` all resolve names here, case-insensitively, as Graph does.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::EntityKind;

/// The CSDL extract, embedded.
const CSDL: &str = include_str!("../../../schema/graph-v1.0-users-groups.csdl.xml");

/// The primitive or structured type of a property (element type for collections).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EdmType {
    /// `Edm.String`
    String,
    /// `Edm.Boolean`
    Boolean,
    /// `Edm.Int32` / `Edm.Int64`
    Integer,
    /// `Edm.Double`
    Double,
    /// `Edm.Guid`
    Guid,
    /// `Edm.DateTimeOffset`
    DateTimeOffset,
    /// `Edm.Date`
    Date,
    /// A structured (complex or entity) or enum type, by its short name (`assignedLicense`).
    Structured(String),
    /// Any other `Edm.*` primitive (`Edm.Binary`, `Edm.Stream`, …).
    OtherPrimitive(String),
}

impl EdmType {
    fn parse(name: &str) -> EdmType {
        match name {
            "Edm.String" => EdmType::String,
            "Edm.Boolean" => EdmType::Boolean,
            "Edm.Int16" | "Edm.Int32" | "Edm.Int64" | "Edm.Byte" => EdmType::Integer,
            "Edm.Double" | "Edm.Single" | "Edm.Decimal" => EdmType::Double,
            "Edm.Guid" => EdmType::Guid,
            "Edm.DateTimeOffset" => EdmType::DateTimeOffset,
            "Edm.Date" => EdmType::Date,
            other if other.starts_with("Edm.") => EdmType::OtherPrimitive(other.to_string()),
            other => {
                let short = other.rsplit('.').next().unwrap_or(other);
                EdmType::Structured(short.to_string())
            }
        }
    }

    /// The OData name of the type, as ODataLib prints it in error messages.
    pub fn odata_name(&self) -> String {
        match self {
            EdmType::String => "Edm.String".into(),
            EdmType::Boolean => "Edm.Boolean".into(),
            EdmType::Integer => "Edm.Int32".into(),
            EdmType::Double => "Edm.Double".into(),
            EdmType::Guid => "Edm.Guid".into(),
            EdmType::DateTimeOffset => "Edm.DateTimeOffset".into(),
            EdmType::Date => "Edm.Date".into(),
            EdmType::Structured(name) => format!("microsoft.graph.{name}"),
            EdmType::OtherPrimitive(name) => name.clone(),
        }
    }
}

/// One declared property of a structured type.
#[derive(Clone, Debug)]
pub struct PropertyDef {
    /// The name in the schema's casing.
    pub name: String,
    /// The type (the element type for collections).
    pub ty: EdmType,
    /// `Collection(...)`.
    pub collection: bool,
    /// `Nullable` (defaults to true, as in CSDL).
    pub nullable: bool,
    /// A navigation property (`manager`, `members`, …) rather than a structural one.
    pub navigation: bool,
}

/// An entity or complex type with its inherited members flattened in.
#[derive(Clone, Debug, Default)]
pub struct StructuredType {
    /// Short name (`user`, `employeeOrgData`).
    pub name: String,
    base: Option<String>,
    /// Declared and inherited properties, base type first.
    pub properties: Vec<PropertyDef>,
    by_lower_name: HashMap<String, usize>,
}

impl StructuredType {
    /// A property by name, compared case-insensitively.
    pub fn property(&self, name: &str) -> Option<&PropertyDef> {
        self.by_lower_name.get(&name.to_ascii_lowercase()).map(|&index| &self.properties[index])
    }

    /// The structural (non-navigation) properties.
    pub fn structural(&self) -> impl Iterator<Item = &PropertyDef> {
        self.properties.iter().filter(|property| !property.navigation)
    }
}

/// Every structured type of the extract, keyed by short name.
#[derive(Debug, Default)]
pub struct Schema {
    types: HashMap<String, StructuredType>,
}

impl Schema {
    /// A structured type by short name (`user`, `assignedLicense`).
    pub fn structured(&self, name: &str) -> Option<&StructuredType> {
        self.types.get(name)
    }
}

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| parse_csdl(CSDL));

/// The parsed schema (parsed once, at first use).
pub fn schema() -> &'static Schema {
    &SCHEMA
}

/// The entity type behind `kind`.
///
/// # Panics
/// Only if the embedded CSDL lost its `user` or `group` entity type (a broken build, caught by the tests).
pub fn entity(kind: EntityKind) -> &'static StructuredType {
    let name = match kind {
        EntityKind::User => "user",
        EntityKind::Group => "group",
    };
    schema().structured(name).expect("the embedded CSDL declares user and group")
}

/// The value of `name="…"` in a tag's attribute text.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = tag;
    while let Some(at) = rest.find(name) {
        let before_ok = at == 0 || rest[..at].ends_with(char::is_whitespace);
        let after = &rest[at + name.len()..];
        if before_ok && let Some(value) = after.strip_prefix("=\"") {
            return value.find('"').map(|end| &value[..end]);
        }
        rest = after;
    }
    None
}

/// A small hand parser for the CSDL subset: `EntityType`/`ComplexType` with `Property` and `NavigationProperty`
/// children. Everything else (annotations, actions, entity sets) is skipped.
fn parse_csdl(text: &str) -> Schema {
    let mut declared: Vec<StructuredType> = Vec::new();
    let mut current: Option<StructuredType> = None;
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>') else { break };
        let tag = &rest[open + 1..open + close];
        rest = &rest[open + close + 1..];
        if tag.starts_with('!') || tag.starts_with('?') {
            continue;
        }
        let element = tag.split(|c: char| c.is_whitespace() || c == '/').next().unwrap_or("");
        match element {
            "EntityType" | "ComplexType" => {
                if let Some(done) = current.take() {
                    declared.push(done);
                }
                let name = attribute(tag, "Name").unwrap_or_default().to_string();
                let base = attribute(tag, "BaseType").map(|base| base.rsplit('.').next().unwrap_or(base).to_string());
                let structured = StructuredType { name, base, ..StructuredType::default() };
                if tag.ends_with('/') {
                    declared.push(structured);
                } else {
                    current = Some(structured);
                }
            }
            "/EntityType" | "/ComplexType" => {
                if let Some(done) = current.take() {
                    declared.push(done);
                }
            }
            "Property" | "NavigationProperty" => {
                let Some(structured) = current.as_mut() else { continue };
                let (Some(name), Some(raw_type)) = (attribute(tag, "Name"), attribute(tag, "Type")) else { continue };
                let (collection, element_type) = match raw_type.strip_prefix("Collection(") {
                    Some(inner) => (true, inner.trim_end_matches(')')),
                    None => (false, raw_type),
                };
                structured.properties.push(PropertyDef {
                    name: name.to_string(),
                    ty: EdmType::parse(element_type),
                    collection,
                    nullable: attribute(tag, "Nullable") != Some("false"),
                    navigation: element == "NavigationProperty",
                });
            }
            _ => {}
        }
    }
    if let Some(done) = current.take() {
        declared.push(done);
    }

    let by_name: HashMap<String, StructuredType> =
        declared.into_iter().map(|structured| (structured.name.clone(), structured)).collect();
    let mut types = HashMap::new();
    for name in by_name.keys() {
        types.insert(name.clone(), flatten(&by_name, name));
    }
    Schema { types }
}

/// A type with its base types' properties prepended (base first), and its name index built.
fn flatten(by_name: &HashMap<String, StructuredType>, name: &str) -> StructuredType {
    let mut chain = Vec::new();
    let mut next = Some(name.to_string());
    while let Some(current) = next {
        // A cycle cannot occur in Microsoft's metadata; the length guard keeps a corrupt file from looping.
        if chain.len() > 16 {
            break;
        }
        let Some(structured) = by_name.get(&current) else { break };
        chain.push(structured);
        next = structured.base.clone();
    }
    let mut flat = StructuredType { name: name.to_string(), ..StructuredType::default() };
    for structured in chain.iter().rev() {
        for property in &structured.properties {
            let lower = property.name.to_ascii_lowercase();
            if flat.by_lower_name.contains_key(&lower) {
                continue;
            }
            flat.by_lower_name.insert(lower, flat.properties.len());
            flat.properties.push(property.clone());
        }
    }
    flat.base = chain.first().and_then(|structured| structured.base.clone());
    flat
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_has_its_own_and_inherited_properties() {
        let user = entity(EntityKind::User);
        assert_eq!(user.property("id").map(|p| p.ty.clone()), Some(EdmType::String));
        assert!(user.property("deletedDateTime").is_some(), "inherited from directoryObject");
        let upn = user.property("USERPRINCIPALNAME").expect("case-insensitive lookup");
        assert_eq!(upn.name, "userPrincipalName");
        let licenses = user.property("assignedLicenses").expect("assignedLicenses");
        assert!(licenses.collection);
        assert!(!licenses.nullable);
        assert_eq!(licenses.ty, EdmType::Structured("assignedLicense".into()));
        assert!(user.property("manager").is_some_and(|p| p.navigation));
        assert!(user.property("noSuchThing").is_none());
    }

    #[test]
    fn group_and_complex_types_are_parsed() {
        let group = entity(EntityKind::Group);
        assert!(group.property("groupTypes").is_some_and(|p| p.collection && p.ty == EdmType::String));
        assert!(group.property("members").is_some_and(|p| p.navigation));
        let license = schema().structured("assignedLicense").expect("complex type");
        assert_eq!(license.property("skuid").map(|p| p.ty.clone()), Some(EdmType::Guid));
        let org = schema().structured("employeeOrgData").expect("complex type");
        assert_eq!(org.property("costCenter").map(|p| p.name.as_str()), Some("costCenter"));
    }

    #[test]
    fn attribute_lookup_requires_a_word_boundary() {
        let tag = r#"Property Name="x" BaseName="y" Type="Edm.String""#;
        assert_eq!(attribute(tag, "Name"), Some("x"));
        assert_eq!(attribute(tag, "Type"), Some("Edm.String"));
        assert_eq!(attribute(r#"EntityType BaseName="y""#, "Name"), None);
    }
}
