//! The audio front end: telephony bytes → 16 kHz mono speech segments per channel.
//!
//! `codec` (G.711 / LINEAR16, channel split) → `resample` (rubato, to 16 kHz)
//! → `vad` (frame speech probability) → `endpoint` (utterance boundaries).
//! `frontend` chains them for one call; `pool` runs calls on dedicated
//! threads. `file` reads audio files for the CLI and tests.

mod codec;
mod endpoint;
mod file;
mod frontend;
mod pool;
mod resample;
mod vad;

pub use codec::{
    alaw_to_linear, linear_to_alaw, linear_to_ulaw, ulaw_to_linear, CodecError, Decoder,
};
pub use endpoint::{
    rms_dbfs, speech_level_dbfs, EndpointParams, Endpointer, Segment, DEFAULT_LEAD_PAD_MS,
};
pub use file::{AudioClip, FileError};
pub use frontend::{CallFrontend, FrontendError, FrontendSetup, Progress, Utterance};
pub use pool::{FrontendEvent, FrontendHandle, FrontendPool, PoolClosed};
pub use resample::{resample_offline, ResampleError, StreamResampler, TARGET_RATE};
pub use vad::{
    factory as vad_factory, EarshotVad, SileroModel, SileroVad, VadError, VadFactory,
    VoiceDetector, WatchedVad,
};
