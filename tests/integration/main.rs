//! Integration tests: the real server on port 0, real gRPC, real models
//! (Silero VAD, OpenAI's Whisper base and the synthetic-speech Whisper
//! stand-in, the shipped classifiers). `scripts/test.sh` installs the runtime files first.

mod common;

mod analytics;
mod asr_real;
mod asr_synth;
mod audiohook;
mod audiosocket;
mod auth;
mod board;
mod classifier;
mod cli;
mod connect;
mod errors;
mod faults;
mod fork;
mod lifecycle;
mod routing;
mod stream;
mod twilio;
