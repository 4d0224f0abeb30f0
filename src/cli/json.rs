//! Proto messages as canonical proto3 JSON with proto field names, through
//! the same descriptors the server's reflection serves.

use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, SerializeOptions};

/// Serialises a `callsense.v1` message as one line of JSON.
///
/// # Errors
/// The message name is not in the descriptor set.
pub fn to_json<M: Message>(full_name: &str, msg: &M) -> anyhow::Result<String> {
    let pool = DescriptorPool::decode(crate::proto::FILE_DESCRIPTOR_SET)?;
    let desc = pool
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
