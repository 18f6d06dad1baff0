//! `AttributeMap`: a user's managed attribute values, keyed by [`UserAttribute`].
//!
//! A sorted vector of pairs rather than a `BTreeMap`: a user has a dozen or so values, and at 100,000 accounts the
//! B-tree's nodes were a kilobyte per account on each side of a plan. It offers the part of the map API the code
//! uses, and serializes as a JSON object exactly like the map did.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::UserAttribute;

/// Attribute values in `UserAttribute` order, each attribute at most once.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct AttributeMap(Vec<(UserAttribute, String)>);

impl AttributeMap {
    /// An empty map.
    #[must_use]
    pub fn new() -> Self {
        Self(Vec::new())
    }

    fn position(&self, attribute: UserAttribute) -> Result<usize, usize> {
        self.0.binary_search_by(|(key, _)| key.cmp(&attribute))
    }

    /// The value of `attribute`, if set.
    #[must_use]
    pub fn get(&self, attribute: &UserAttribute) -> Option<&String> {
        self.position(*attribute).ok().map(|index| &self.0[index].1)
    }

    /// Whether `attribute` is set.
    #[must_use]
    pub fn contains_key(&self, attribute: &UserAttribute) -> bool {
        self.position(*attribute).is_ok()
    }

    /// Sets `attribute`, returning the value it replaced.
    pub fn insert(&mut self, attribute: UserAttribute, value: String) -> Option<String> {
        match self.position(attribute) {
            Ok(index) => Some(std::mem::replace(&mut self.0[index].1, value)),
            Err(index) => {
                self.0.insert(index, (attribute, value));
                None
            }
        }
    }

    /// Unsets `attribute`, returning its value.
    pub fn remove(&mut self, attribute: &UserAttribute) -> Option<String> {
        self.position(*attribute).ok().map(|index| self.0.remove(index).1)
    }

    /// The value of `attribute`, set to `make()` first when it is not set.
    pub fn get_or_insert_with(&mut self, attribute: UserAttribute, make: impl FnOnce() -> String) -> &mut String {
        let index = match self.position(attribute) {
            Ok(index) => index,
            Err(index) => {
                self.0.insert(index, (attribute, make()));
                index
            }
        };
        &mut self.0[index].1
    }

    /// The pairs, in `UserAttribute` order.
    pub fn iter(&self) -> impl Iterator<Item = (&UserAttribute, &String)> {
        self.0.iter().map(|(key, value)| (key, value))
    }

    /// The set attributes, in order.
    pub fn keys(&self) -> impl Iterator<Item = &UserAttribute> {
        self.0.iter().map(|(key, _)| key)
    }

    /// How many attributes are set.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether none is set.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for AttributeMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl FromIterator<(UserAttribute, String)> for AttributeMap {
    fn from_iter<I: IntoIterator<Item = (UserAttribute, String)>>(pairs: I) -> Self {
        let mut map = Self::new();
        for (attribute, value) in pairs {
            map.insert(attribute, value);
        }
        map
    }
}

impl<const N: usize> From<[(UserAttribute, String); N]> for AttributeMap {
    fn from(pairs: [(UserAttribute, String); N]) -> Self {
        pairs.into_iter().collect()
    }
}

impl<'a> IntoIterator for &'a AttributeMap {
    type Item = (&'a UserAttribute, &'a String);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (UserAttribute, String)>,
        fn(&'a (UserAttribute, String)) -> (&'a UserAttribute, &'a String),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(key, value)| (key, value))
    }
}

impl IntoIterator for AttributeMap {
    type Item = (UserAttribute, String);
    type IntoIter = std::vec::IntoIter<(UserAttribute, String)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl Serialize for AttributeMap {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (attribute, value) in &self.0 {
            map.serialize_entry(attribute, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for AttributeMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor;
        impl<'de> Visitor<'de> for MapVisitor {
            type Value = AttributeMap;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a map of user attributes to values")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<AttributeMap, A::Error> {
                let mut map = AttributeMap(Vec::with_capacity(access.size_hint().unwrap_or(0)));
                while let Some((attribute, value)) = access.next_entry::<UserAttribute, String>()? {
                    map.insert(attribute, value);
                }
                map.0.shrink_to_fit();
                Ok(map)
            }
        }
        deserializer.deserialize_map(MapVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_a_sorted_map_and_serializes_like_one() {
        let mut map = AttributeMap::new();
        assert_eq!(map.insert(UserAttribute::JobTitle, "Analyst".into()), None);
        assert_eq!(map.insert(UserAttribute::DisplayName, "Ada".into()), None);
        assert_eq!(map.insert(UserAttribute::JobTitle, "Engineer".into()), Some("Analyst".into()));
        assert_eq!(map.keys().copied().collect::<Vec<_>>(), [UserAttribute::DisplayName, UserAttribute::JobTitle]);
        assert_eq!(map.get(&UserAttribute::JobTitle).map(String::as_str), Some("Engineer"));
        let json = serde_json::to_string(&map).expect("serializes");
        assert_eq!(json, r#"{"displayName":"Ada","jobTitle":"Engineer"}"#);
        assert_eq!(serde_json::from_str::<AttributeMap>(&json).expect("parses"), map);
        assert_eq!(map.remove(&UserAttribute::DisplayName), Some("Ada".into()));
        assert!(!map.contains_key(&UserAttribute::DisplayName));
        map.get_or_insert_with(UserAttribute::City, || "Oslo".into());
        assert_eq!(map.len(), 2);
    }
}
