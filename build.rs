//! Compiles `proto/callsense/v1/*.proto` into Rust (prost + tonic) and writes the
//! file descriptor set used by server reflection and by `--json` output.
//! Uses the vendored `protoc` unless `PROTOC` is set.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::var_os("PROTOC").is_none() {
        std::env::set_var("PROTOC", protoc_bin_vendored::protoc_bin_path()?);
    }
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    println!("cargo:rerun-if-changed=proto");
    tonic_prost_build::configure()
        .file_descriptor_set_path(out.join("callsense_descriptor.bin"))
        .bytes(".callsense.v1.StreamCallRequest.audio_content")
        .compile_protos(&["proto/callsense/v1/callsense.proto"], &["proto"])?;
    Ok(())
}
