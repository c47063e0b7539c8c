//! The JSON request of `POST /v1/match`, parsed strictly.
//!
//! ```text
//! {"text": "..."}                                   (or {"id": .., "text": ..}, a JSONL line)
//! {"items": [{"id": "a" | 7, "text": "..."}, ...]}   (id optional: the position, from 0)
//! ```
//!
//! Unknown fields are refused (a typo such as `"txt"` must not silently
//! match nothing). Malformed JSON is a 400, valid JSON of the wrong shape a
//! 422; both messages are serde_json's, with line and column.

use axum::http::StatusCode;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use super::api::ApiError;
use crate::input::QueryId;

/// The body of `POST /v1/match`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchBody {
    /// The id of a single text, echoed as the matches' `query`.
    #[serde(default)]
    pub id: Option<WireId>,
    /// One text.
    #[serde(default)]
    pub text: Option<String>,
    /// Several texts.
    #[serde(default)]
    pub items: Option<Vec<Item>>,
}

/// One item of a batch.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// Echoed in the answer; the item's position when absent.
    #[serde(default)]
    pub id: Option<WireId>,
    /// The text to match.
    pub text: String,
}

/// An item id: a string or a non-negative integer, as in JSONL input.
/// A string id is at most [`MAX_ID_BYTES`] long: every match of the item
/// repeats it, so a long one would multiply the answer's size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireId(pub QueryId);

/// Longest string id of an item (and `?name=` of a file, `api::MAX_NAME`).
pub const MAX_ID_BYTES: usize = 1024;

impl<'de> Deserialize<'de> for WireId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<WireId, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = WireId;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or a non-negative integer")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<WireId, E> {
                Ok(WireId(QueryId::Num(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<WireId, E> {
                u64::try_from(v)
                    .map(|n| WireId(QueryId::Num(n)))
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<WireId, E> {
                if v.len() > MAX_ID_BYTES {
                    return Err(E::custom(format!(
                        "an id of {} bytes: ids are at most {MAX_ID_BYTES} bytes",
                        v.len()
                    )));
                }
                Ok(WireId(QueryId::Str(v.to_owned())))
            }
        }
        d.deserialize_any(V)
    }
}

impl MatchBody {
    /// Parse a request body.
    ///
    /// # Errors
    /// 400 for malformed JSON (or not UTF-8), 422 for the wrong shape.
    pub fn parse(bytes: &[u8]) -> Result<MatchBody, ApiError> {
        // serde would also read a struct from an array of its fields
        // (`["x"]`): only an object is a request.
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        if first.is_some_and(|b| *b != b'{')
            && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok()
        {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "wrong fields or types: the body must be a JSON object",
            ));
        }
        serde_json::from_slice(bytes).map_err(|e| {
            use serde_json::error::Category;
            let status = match e.classify() {
                Category::Data => StatusCode::UNPROCESSABLE_ENTITY,
                Category::Syntax | Category::Eof | Category::Io => StatusCode::BAD_REQUEST,
            };
            let what = if status == StatusCode::BAD_REQUEST {
                "malformed JSON"
            } else {
                "wrong fields or types"
            };
            ApiError::new(status, format!("{what}: {e}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(body: &str) -> Option<StatusCode> {
        MatchBody::parse(body.as_bytes()).err().map(|e| e.status())
    }

    #[test]
    fn shapes_and_statuses() {
        let ok = MatchBody::parse(
            br#"{"items":[{"id":"a","text":"x"},{"id":7,"text":"y"},{"text":"z"}]}"#,
        )
        .unwrap();
        let items = ok.items.unwrap();
        assert_eq!(items[0].id, Some(WireId(QueryId::Str("a".into()))));
        assert_eq!(items[1].id, Some(WireId(QueryId::Num(7))));
        assert_eq!(items[2].id, None);
        assert_eq!(
            MatchBody::parse(br#"{"text":"hi"}"#)
                .unwrap()
                .text
                .as_deref(),
            Some("hi")
        );
        let line = MatchBody::parse(br#"{"id":3,"text":"hi"}"#).unwrap();
        assert_eq!(line.id, Some(WireId(QueryId::Num(3))));
        for bad in [
            "",
            "{",
            "{\"text\": \"a\",}",
            "nul",
            "\u{0}",
            "{\"text\": \"a\"",
        ] {
            assert_eq!(status(bad), Some(StatusCode::BAD_REQUEST), "{bad:?}");
        }
        for wrong in [
            r#"{"text": 5}"#,
            r#"{"txt": "a"}"#,
            r#"[]"#,
            r#"["x"]"#,
            r#""text""#,
            r#"{"items": {"text": "a"}}"#,
            r#"{"items": [{"id": -1, "text": "a"}]}"#,
            r#"{"items": [{"id": 1.5, "text": "a"}]}"#,
            r#"{"items": [{"id": "a"}]}"#,
        ] {
            assert_eq!(
                status(wrong),
                Some(StatusCode::UNPROCESSABLE_ENTITY),
                "{wrong}"
            );
        }
        // Ids up to 1024 bytes; a longer one (every match repeats it) is
        // refused, naming the limit.
        let id = |n: usize| {
            format!(
                r#"{{"items": [{{"id": "{}", "text": "a"}}]}}"#,
                "i".repeat(n)
            )
        };
        assert!(MatchBody::parse(id(MAX_ID_BYTES).as_bytes()).is_ok());
        let e = MatchBody::parse(id(MAX_ID_BYTES + 1).as_bytes()).unwrap_err();
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            e.message().contains("ids are at most 1024 bytes"),
            "{}",
            e.message()
        );
        let e = MatchBody::parse(br#"{"txt": "a"}"#).unwrap_err();
        assert!(
            e.message().contains("unknown field `txt`"),
            "{}",
            e.message()
        );
    }
}
