//! The classifier model directory and its contract.
//!
//! A model directory holds:
//! - `model.onnx`: inputs `input_ids` and `attention_mask` (int64,
//!   `[batch, seq]`; a `token_type_ids` input, if declared, is fed zeros) →
//!   one float logits output per head, `[batch, labels]`;
//! - `tokenizer.json`: a Hugging Face `tokenizers` file;
//! - `labels.json`: `model_id`, `languages`, `max_length` (tokens, special
//!   tokens included), `truncation_side` (`left` keeps the end of long
//!   texts), and `heads`: `{name, output, labels}`. At least one of a
//!   `sentiment` head (labels negative/neutral/positive, any order) and an
//!   `intent` head (any labels: a domain pack such as banking77 brings its
//!   own); other heads are ignored.
//!
//! Any model that follows it can be dropped in. Owns: loading and checking
//! that contract, tokenisation with truncation and padding, and turning
//! logits into predictions. Synchronous; runs on the batcher's thread.

use std::path::{Path, PathBuf};

use ndarray::Array2;
use ort::environment::Environment;
use ort::session::Session;
use ort::value::Tensor;
use serde::Deserialize;
use tokenizers::Tokenizer;

/// Why a model could not be loaded or run.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ModelError {
    #[error("model directory {dir}: cannot read {file}: {reason}")]
    Read {
        dir: PathBuf,
        file: &'static str,
        reason: String,
    },
    #[error("model directory {dir}: {problem}")]
    Contract { dir: PathBuf, problem: String },
    #[error("classifier inference failed: {0}")]
    Inference(String),
    #[error("tokenizer failed: {0}")]
    Tokenize(String),
}

/// Which end of a long text survives truncation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TruncationSide {
    Left,
    Right,
}

/// `labels.json`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    pub model_id: String,
    #[serde(default)]
    pub languages: Vec<String>,
    pub max_length: usize,
    pub truncation_side: TruncationSide,
    pub heads: Vec<HeadSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadSpec {
    pub name: String,
    pub output: String,
    pub labels: Vec<String>,
    /// Calibration: logits are divided by this before the softmax (fitted
    /// on a development set so that a probability of 0.8 is right about
    /// 80 % of the time). Absent: 1.
    #[serde(default)]
    pub temperature: Option<f32>,
    /// Intent head: below this probability the prediction is `fallback_label`
    /// with `low_confidence` set, so rules never act on a guess. Absent: never.
    #[serde(default)]
    pub min_confidence: Option<f32>,
    /// The label a low-confidence intent becomes; default `other`.
    #[serde(default)]
    pub fallback_label: Option<String>,
}

impl HeadSpec {
    fn temperature(&self) -> f32 {
        self.temperature.unwrap_or(1.0)
    }
}

/// Sentiment classes, in the order of [`SentimentPrediction::probabilities`].
pub const SENTIMENT_LABELS: [&str; 3] = ["negative", "neutral", "positive"];

#[derive(Debug, Clone, PartialEq)]
pub struct SentimentPrediction {
    /// Index into [`SENTIMENT_LABELS`].
    pub label: usize,
    /// P(positive) − P(negative).
    pub score: f32,
    /// negative, neutral, positive.
    pub probabilities: [f32; 3],
}

impl SentimentPrediction {
    pub fn label_name(&self) -> &'static str {
        SENTIMENT_LABELS[self.label]
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct IntentPrediction {
    /// The most probable label, or the head's fallback label when that
    /// label's probability is under the head's `min_confidence`.
    pub label: String,
    /// Probability of the most probable label (`top[0]`).
    pub confidence: f32,
    /// `label` is the fallback: the model was not confident enough.
    pub low_confidence: bool,
    /// Best first, at most three.
    pub top: Vec<(String, f32)>,
}

/// What a model predicts for one text: each head the model has.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub sentiment: Option<SentimentPrediction>,
    pub intent: Option<IntentPrediction>,
}

/// A loaded model directory.
pub struct TextModel {
    spec: ModelSpec,
    tokenizer: Tokenizer,
    session: Session,
    has_token_type_ids: bool,
    /// The sentiment head and, for each of negative/neutral/positive, its column.
    sentiment_head: Option<(usize, [usize; 3])>,
    intent_head: Option<usize>,
    pad_id: i64,
}

impl TextModel {
    /// Loads and checks a model directory.
    ///
    /// # Errors
    /// Missing files, a `labels.json` or graph that breaks the contract.
    pub fn load(env: &Environment, dir: &Path, threads: usize) -> Result<Self, ModelError> {
        let read_err = |file: &'static str, reason: String| ModelError::Read {
            dir: dir.into(),
            file,
            reason,
        };
        let contract = |problem: String| ModelError::Contract {
            dir: dir.into(),
            problem,
        };
        let spec_text = std::fs::read_to_string(dir.join("labels.json"))
            .map_err(|e| read_err("labels.json", e.to_string()))?;
        let spec: ModelSpec =
            serde_json::from_str(&spec_text).map_err(|e| read_err("labels.json", e.to_string()))?;
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| read_err("tokenizer.json", e.to_string()))?;
        tokenizer
            .with_truncation(None)
            .map_err(|e| read_err("tokenizer.json", e.to_string()))?;
        tokenizer.with_padding(None);
        let build = || -> ort::Result<Session> {
            Session::builder(env)?
                .with_intra_threads(threads)?
                .with_inter_threads(1)?
                .commit_from_file(dir.join("model.onnx"))
        };
        let session = build().map_err(|e| read_err("model.onnx", e.to_string()))?;

        if spec.max_length < 4 {
            return Err(contract(format!(
                "max_length {} is too small",
                spec.max_length
            )));
        }
        let inputs = check_inputs(&session).map_err(contract)?;
        let outputs: Vec<String> = session
            .outputs()
            .iter()
            .map(|o| o.name().to_string())
            .collect();
        for h in &spec.heads {
            h.check(&outputs).map_err(contract)?;
        }
        let intent_head = spec.heads.iter().position(|h| h.name == "intent");
        let sentiment_head = sentiment_columns(&spec).map_err(contract)?;
        if sentiment_head.is_none() && intent_head.is_none() {
            return Err(contract(
                "labels.json has neither a `sentiment` nor an `intent` head".into(),
            ));
        }
        let pad_id = tokenizer
            .get_padding()
            .map(|p| p.pad_id as i64)
            .or_else(|| tokenizer.token_to_id("[PAD]").map(i64::from))
            .or_else(|| tokenizer.token_to_id("<pad>").map(i64::from))
            .unwrap_or(0);
        Ok(Self {
            has_token_type_ids: inputs.iter().any(|i| i == "token_type_ids"),
            spec,
            tokenizer,
            session,
            sentiment_head,
            intent_head,
            pad_id,
        })
    }

    pub fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    pub fn model_id(&self) -> &str {
        &self.spec.model_id
    }

    /// Token ids for one text: special tokens kept, truncated to `max_length`
    /// on the configured side.
    ///
    /// # Errors
    /// The tokenizer failed.
    pub fn encode(&self, text: &str) -> Result<Vec<i64>, ModelError> {
        let enc = self
            .tokenizer
            .encode(text, true)
            .map_err(|e| ModelError::Tokenize(e.to_string()))?;
        let ids = enc.get_ids();
        let max = self.spec.max_length;
        if ids.len() <= max {
            return Ok(ids.iter().map(|&i| i as i64).collect());
        }
        let special = enc.get_special_tokens_mask();
        let lead = special.iter().take_while(|&&s| s == 1).count();
        let trail = special.iter().rev().take_while(|&&s| s == 1).count();
        let body = max.saturating_sub(lead + trail);
        let inner = &ids[lead..ids.len() - trail];
        let kept = match self.spec.truncation_side {
            TruncationSide::Left => &inner[inner.len() - body..],
            TruncationSide::Right => &inner[..body],
        };
        Ok(ids[..lead]
            .iter()
            .chain(kept)
            .chain(&ids[ids.len() - trail..])
            .map(|&i| i as i64)
            .collect())
    }

    /// Classifies a batch of texts. Texts are grouped by token length and
    /// each group runs as one inference, so a long text does not pad a whole
    /// batch of short ones (padding waste per group is kept under
    /// [`MAX_PADDING_WASTE`]).
    ///
    /// # Errors
    /// Tokenizer or inference failure.
    pub fn classify(&mut self, texts: &[&str]) -> Result<Vec<Prediction>, ModelError> {
        let encoded = texts
            .iter()
            .map(|t| self.encode(t))
            .collect::<Result<Vec<_>, _>>()?;
        let mut order: Vec<usize> = (0..encoded.len()).collect();
        order.sort_by_key(|&i| encoded[i].len());
        let mut out: Vec<Option<Prediction>> = vec![None; encoded.len()];
        let mut start = 0;
        while start < order.len() {
            let mut end = start + 1;
            let mut tokens = encoded[order[start]].len();
            while end < order.len() {
                let next = encoded[order[end]].len();
                let padded = (end - start + 1) * next;
                if padded as f32 > (tokens + next) as f32 * (1.0 + MAX_PADDING_WASTE) {
                    break;
                }
                tokens += next;
                end += 1;
            }
            let group: Vec<&[i64]> = order[start..end]
                .iter()
                .map(|&i| encoded[i].as_slice())
                .collect();
            for (k, p) in self.run(&group)?.into_iter().enumerate() {
                out[order[start + k]] = Some(p);
            }
            start = end;
        }
        Ok(out
            .into_iter()
            .map(|p| p.expect("every text classified"))
            .collect())
    }

    /// One inference over already-encoded texts, padded to the longest.
    fn run(&mut self, encoded: &[&[i64]]) -> Result<Vec<Prediction>, ModelError> {
        if encoded.is_empty() {
            return Ok(Vec::new());
        }
        let n = encoded.len();
        let width = encoded.iter().map(|e| e.len()).max().unwrap_or(1).max(1);
        let mut ids = Array2::<i64>::from_elem((n, width), self.pad_id);
        let mut mask = Array2::<i64>::zeros((n, width));
        for (r, e) in encoded.iter().enumerate() {
            for (c, &id) in e.iter().enumerate() {
                ids[[r, c]] = id;
                mask[[r, c]] = 1;
            }
        }
        let infer = |e: ort::Error| ModelError::Inference(e.to_string());
        let mut inputs = ort::inputs![
            "input_ids" => Tensor::from_array(ids).map_err(infer)?,
            "attention_mask" => Tensor::from_array(mask).map_err(infer)?,
        ];
        if self.has_token_type_ids {
            let type_ids = Array2::<i64>::zeros((n, width));
            inputs.push((
                "token_type_ids".into(),
                Tensor::from_array(type_ids).map_err(infer)?.into(),
            ));
        }
        let outputs = self.session.run(inputs).map_err(infer)?;
        let logits = |head: usize| -> Result<Vec<Vec<f32>>, ModelError> {
            let h = &self.spec.heads[head];
            let (shape, data) = outputs[h.output.as_str()]
                .try_extract_tensor::<f32>()
                .map_err(infer)?;
            let k = h.labels.len();
            if shape.len() != 2 || shape[0] as usize != n || shape[1] as usize != k {
                return Err(ModelError::Inference(format!(
                    "output `{}` has shape {shape:?}, expected [{n}, {k}]",
                    h.output
                )));
            }
            let t = h.temperature();
            Ok(data
                .chunks_exact(k)
                .map(|row| softmax(&row.iter().map(|v| v / t).collect::<Vec<f32>>()))
                .collect())
        };
        let mut sentiment = match self.sentiment_head {
            Some((h, columns)) => logits(h)?
                .iter()
                .map(|p| Some(sentiment_prediction(p, &columns)))
                .collect(),
            None => vec![None; n],
        };
        let mut intent = match self.intent_head {
            Some(h) => {
                let head = &self.spec.heads[h];
                logits(h)?
                    .iter()
                    .map(|p| Some(intent_prediction(p, head)))
                    .collect()
            }
            None => vec![None; n],
        };
        Ok(sentiment
            .drain(..)
            .zip(intent.drain(..))
            .map(|(sentiment, intent)| Prediction { sentiment, intent })
            .collect())
    }
}

/// Largest share of padding tokens a length group may add (0.25 = 25 %).
pub const MAX_PADDING_WASTE: f32 = 0.25;

fn softmax(x: &[f32]) -> Vec<f32> {
    let m = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = x.iter().map(|v| (v - m).exp()).collect();
    let s: f32 = e.iter().sum();
    e.into_iter().map(|v| v / s).collect()
}

fn sentiment_prediction(p: &[f32], columns: &[usize; 3]) -> SentimentPrediction {
    let probabilities = [p[columns[0]], p[columns[1]], p[columns[2]]];
    let label = (0..3)
        .max_by(|&a, &b| probabilities[a].total_cmp(&probabilities[b]))
        .unwrap_or(1);
    SentimentPrediction {
        label,
        score: (probabilities[2] - probabilities[0]).clamp(-1.0, 1.0),
        probabilities,
    }
}

/// The label a low-confidence intent becomes unless the head names another.
pub const DEFAULT_FALLBACK: &str = "other";

fn intent_prediction(p: &[f32], head: &HeadSpec) -> IntentPrediction {
    let labels = &head.labels;
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
    let top: Vec<(String, f32)> = order
        .iter()
        .take(3)
        .map(|&i| (labels[i].clone(), p[i]))
        .collect();
    let confidence = top[0].1;
    let low_confidence = head.min_confidence.is_some_and(|m| confidence < m);
    let label = if low_confidence {
        head.fallback_label
            .clone()
            .unwrap_or_else(|| DEFAULT_FALLBACK.to_string())
    } else {
        top[0].0.clone()
    };
    IntentPrediction {
        label,
        confidence,
        low_confidence,
        top,
    }
}

/// The model's input names: `input_ids` and `attention_mask` required,
/// `token_type_ids` allowed, nothing else.
fn check_inputs(session: &Session) -> Result<Vec<String>, String> {
    let inputs: Vec<String> = session
        .inputs()
        .iter()
        .map(|i| i.name().to_string())
        .collect();
    for required in ["input_ids", "attention_mask"] {
        if !inputs.iter().any(|i| i == required) {
            return Err(format!(
                "model.onnx has no `{required}` input (inputs: {inputs:?})"
            ));
        }
    }
    if let Some(extra) = inputs.iter().find(|i| {
        !matches!(
            i.as_str(),
            "input_ids" | "attention_mask" | "token_type_ids"
        )
    }) {
        return Err(format!("model.onnx has an unsupported input `{extra}`"));
    }
    Ok(inputs)
}

/// The `sentiment` head's index and, per [`SENTIMENT_LABELS`] entry, its
/// column; `None` without a sentiment head.
fn sentiment_columns(spec: &ModelSpec) -> Result<Option<(usize, [usize; 3])>, String> {
    let Some(h) = spec.heads.iter().position(|h| h.name == "sentiment") else {
        return Ok(None);
    };
    let labels = &spec.heads[h].labels;
    if labels.len() != 3 {
        return Err(format!("sentiment head must have 3 labels, has {labels:?}"));
    }
    let mut columns = [0; 3];
    for (k, want) in SENTIMENT_LABELS.iter().enumerate() {
        columns[k] = labels
            .iter()
            .position(|l| l == want)
            .ok_or_else(|| format!("sentiment head lacks label `{want}` ({labels:?})"))?;
    }
    Ok(Some((h, columns)))
}

impl HeadSpec {
    /// Checks the head against the model's `outputs`: its output exists, it
    /// has labels, a positive temperature, and a fallback among its labels.
    fn check(&self, outputs: &[String]) -> Result<(), String> {
        if !outputs.contains(&self.output) {
            return Err(format!(
                "head `{}` names output `{}`, not in model.onnx ({outputs:?})",
                self.name, self.output
            ));
        }
        if self.labels.is_empty() {
            return Err(format!("head `{}` has no labels", self.name));
        }
        if !(self.temperature().is_finite() && self.temperature() > 0.0) {
            return Err(format!(
                "head `{}`: temperature {} must be a positive number",
                self.name,
                self.temperature()
            ));
        }
        if let Some(m) = self.min_confidence {
            if !(0.0..1.0).contains(&m) {
                return Err(format!(
                    "head `{}`: min_confidence {m} must be in [0, 1)",
                    self.name
                ));
            }
            let fallback = self.fallback_label.as_deref().unwrap_or(DEFAULT_FALLBACK);
            if !self.labels.iter().any(|l| l == fallback) {
                return Err(format!(
                    "head `{}`: fallback label `{fallback}` is not one of its labels",
                    self.name
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentiment_uses_label_columns_not_positions() {
        // Head order positive, negative, neutral.
        let p = sentiment_prediction(&[0.7, 0.1, 0.2], &[1, 2, 0]);
        assert_eq!(p.label_name(), "positive");
        assert_eq!(p.probabilities, [0.1, 0.2, 0.7]);
        assert!((p.score - 0.6).abs() < 1e-6);
    }

    fn head(labels: &[&str], min_confidence: Option<f32>) -> HeadSpec {
        HeadSpec {
            name: "intent".into(),
            output: "intent_logits".into(),
            labels: labels.iter().map(|s| s.to_string()).collect(),
            temperature: None,
            min_confidence,
            fallback_label: None,
        }
    }

    #[test]
    fn intent_top3_sorted() {
        let p = intent_prediction(&[0.1, 0.5, 0.15, 0.25], &head(&["a", "b", "c", "d"], None));
        assert_eq!(p.label, "b");
        assert!(!p.low_confidence);
        assert_eq!(
            p.top.iter().map(|t| t.0.as_str()).collect::<Vec<_>>(),
            vec!["b", "d", "c"]
        );
    }

    #[test]
    fn unsure_intent_falls_back_to_other() {
        let h = head(&["refund_request", "other", "complaint"], Some(0.5));
        let unsure = intent_prediction(&[0.45, 0.2, 0.35], &h);
        assert_eq!(unsure.label, "other");
        assert!(unsure.low_confidence);
        // What it leaned to stays visible.
        assert_eq!(unsure.top[0].0, "refund_request");
        assert!((unsure.confidence - 0.45).abs() < 1e-6);
        let sure = intent_prediction(&[0.7, 0.1, 0.2], &h);
        assert_eq!(sure.label, "refund_request");
        assert!(!sure.low_confidence);
    }

    #[test]
    fn softmax_sums_to_one() {
        let s = softmax(&[1.0, 2.0, 3.0]);
        assert!((s.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(s[2] > s[1] && s[1] > s[0]);
    }
}
