//! The audio front end: telephony bytes → 16 kHz mono speech segments per channel.
//!
//! `codec` (G.711 / LINEAR16, channel split) → `resample` (rubato, to 16 kHz)
//! → `vad` (frame speech probability) → `endpoint` (utterance boundaries).
//! `frontend` chains them for one call; `pool` runs calls on dedicated
//! threads. `file` reads audio files for the CLI and tests.

pub mod codec;
pub mod endpoint;
pub mod file;
pub mod frontend;
pub mod pool;
pub mod resample;
pub mod vad;

pub use endpoint::{EndpointParams, Segment, DEFAULT_LEAD_PAD_MS};
pub use frontend::{CallFrontend, FrontendError, FrontendSetup, Utterance};
pub use pool::{FrontendEvent, FrontendHandle, FrontendPool};
pub use resample::TARGET_RATE;
pub use vad::VadFactory;
