//! Decoding an answer into a typed value, naming the JSON path of the first field that does not fit, so an
//! error says where a server's answer went wrong rather than only that it did.

use serde::Deserialize;
use serde::de::Deserializer;

/// The first field of an answer that did not decode: its JSON path ("" for the whole body) and why.
pub struct BadField {
    pub path: String,
    pub detail: String,
}

impl BadField {
    /// The path, or `root` when the whole value was wrong.
    pub fn field_or(&self, root: &str) -> String {
        if self.path.is_empty() {
            root.to_string()
        } else {
            self.path.clone()
        }
    }
}

/// Decodes `input` as `T`, keeping the path of the first bad field.
pub fn decode<'de, D, T>(input: D) -> Result<T, BadField>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    serde_path_to_error::deserialize(input).map_err(|e| {
        let path = e.path().to_string();
        BadField {
            path: if path == "." { String::new() } else { path },
            detail: e.into_inner().to_string(),
        }
    })
}

/// Decodes a JSON body as `T`.
pub fn decode_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, BadField> {
    decode(&mut serde_json::Deserializer::from_slice(body))
}
