//! Proto messages as canonical proto3 JSON with proto field names, through
//! the same descriptors the server's reflection serves (the CLI's JSON
//! output, the telephony back channels).

use std::sync::OnceLock;

use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, SerializeOptions};

/// The `callsense.v1` descriptors, decoded once.
fn pool() -> anyhow::Result<&'static DescriptorPool> {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    if let Some(p) = POOL.get() {
        return Ok(p);
    }
    let p = DescriptorPool::decode(crate::proto::FILE_DESCRIPTOR_SET)?;
    Ok(POOL.get_or_init(|| p))
}

/// Serialises a `callsense.v1` message as one line of JSON.
///
/// # Errors
/// The message name is not in the descriptor set.
pub fn to_json<M: Message>(full_name: &str, msg: &M) -> anyhow::Result<String> {
    let desc = pool()?
        .get_message_by_name(full_name)
        .ok_or_else(|| anyhow::anyhow!("{full_name} is not in the descriptor set"))?;
    let dynamic = DynamicMessage::decode(desc, msg.encode_to_vec().as_slice())?;
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::new(&mut out);
    dynamic.serialize_with_options(
        &mut ser,
        &SerializeOptions::new().use_proto_field_name(true),
    )?;
    Ok(String::from_utf8(out)?)
}
