//! Sentiment and intent classification with ONNX Runtime (ort).
//!
//! `runtime` loads the ONNX Runtime library; `model` implements the model
//! directory contract (documented there and in `models/README.md`);
//! `batcher` batches texts across calls on one dedicated thread per model;
//! `router` picks the model for each text by language; `weight` says how
//! much a turn's sentiment counts in call-level figures (back-channels none).

mod batcher;
pub(crate) mod eval;
mod model;
mod router;
pub mod runtime;
pub(crate) mod weight;

pub use batcher::{Batcher, Classified, ClassifyError};
pub use model::{
    IntentPrediction, ModelError, ModelSpec, Prediction, SentimentPrediction, TextModel,
    SENTIMENT_LABELS,
};
pub use router::{
    primary_language, route_among, Classifiers, ModelSet, Route, Routed, ScriptMix, CLEAR_SHARE,
    MIXED_SHARE,
};
