//! How a few policy fields are read from JSON, beyond what serde does by itself.

use serde::{Deserialize, Deserializer};

/// A field that distinguishes "left out" (`None`) from "set to null" (`Some(None)`).
pub(super) fn explicit<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A list that must not be empty: an empty matcher would match nothing, surely a mistake.
pub(super) fn non_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let list = Vec::<T>::deserialize(deserializer)?;
    if list.is_empty() {
        return Err(serde::de::Error::custom(
            "an empty list would match nothing; leave the key out instead",
        ));
    }
    Ok(list)
}

pub(super) fn some_non_empty<'de, D, T>(deserializer: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    non_empty(deserializer).map(Some)
}
