//! A deal stage's id as its CRM spells it: Freshsales numbers (`202`), HubSpot words
//! (`closedwon`) or numbers for custom pipelines. Carried as text everywhere; on the wire a
//! numeric id stays a JSON number, as clients written for Freshsales read it.

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// A deal stage's id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StageId(String);

/// A number (Freshsales) or 1 to 100 characters of text (HubSpot).
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for StageId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, SchemaType, Type};
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(SchemaType::new(Type::Integer))
                    .minimum(Some(0)),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(SchemaType::new(Type::String))
                    .min_length(Some(1))
                    .max_length(Some(100)),
            )
            .description(Some(
                "A deal stage's id as its CRM spells it: a number (Freshsales) or text (HubSpot's `closedwon`)",
            ))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for StageId {}

impl StageId {
    /// A stage id from its text; `None` when empty, longer than 100 bytes, or holding a
    /// control character.
    pub fn new(id: impl Into<String>) -> Option<Self> {
        let id = id.into();
        let id = id.trim();
        (!id.is_empty() && id.len() <= 100 && !id.chars().any(char::is_control))
            .then(|| Self(id.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as a number, when it is one (Freshsales' ids are).
    pub fn as_u64(&self) -> Option<u64> {
        if self.0.len() > 1 && self.0.starts_with('0') {
            return None;
        }
        self.0.parse().ok()
    }
}

impl From<u64> for StageId {
    fn from(id: u64) -> Self {
        Self(id.to_string())
    }
}

impl std::fmt::Display for StageId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for StageId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.as_u64() {
            Some(n) => s.serialize_u64(n),
            None => s.serialize_str(&self.0),
        }
    }
}

impl<'de> Deserialize<'de> for StageId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = StageId;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a stage id: a non-negative integer or 1 to 100 characters of text")
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<StageId, E> {
                Ok(StageId::from(n))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<StageId, E> {
                u64::try_from(n)
                    .map(StageId::from)
                    .map_err(|_| E::custom("a stage id is not negative"))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<StageId, E> {
                StageId::new(s).ok_or_else(|| E::custom("a stage id is 1 to 100 characters"))
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_ids_stay_numbers_on_the_wire_and_words_are_text() {
        let fs: StageId = serde_json::from_str("202").unwrap();
        assert_eq!(serde_json::to_string(&fs).unwrap(), "202");
        assert_eq!(fs.as_u64(), Some(202));
        let hs: StageId = serde_json::from_str("\"closedwon\"").unwrap();
        assert_eq!(serde_json::to_string(&hs).unwrap(), "\"closedwon\"");
        assert_eq!(hs.as_u64(), None);
        // A numeric id sent as text is the same id.
        let text: StageId = serde_json::from_str("\"202\"").unwrap();
        assert_eq!(text, fs);
        // A leading zero is not a number: it stays text, as the CRM spelt it.
        let padded: StageId = serde_json::from_str("\"0202\"").unwrap();
        assert_eq!(serde_json::to_string(&padded).unwrap(), "\"0202\"");
        for bad in ["-1", "\"\"", "1.5", "null", "\"a\\u0000b\""] {
            assert!(serde_json::from_str::<StageId>(bad).is_err(), "{bad}");
        }
    }
}
