//! JSON batching (`POST /v1.0/$batch`). STUB — being written.

use serde_json::Value;

use super::error::GraphError;

/// One request of a batch, validated.
#[derive(Clone, Debug)]
pub struct BatchItem {
    /// The request id.
    pub id: String,
    /// The raw request object.
    pub raw: Value,
}

/// Parses and validates a batch body.
pub fn parse_batch(body: &[u8]) -> Result<Vec<BatchItem>, GraphError> {
    let _: Value = serde_json::from_slice(body).map_err(|_| GraphError::bad_request("Invalid batch payload."))?;
    Ok(Vec::new())
}
