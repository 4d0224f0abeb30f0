//! `callsense analyze-text`: JSONL in → JSONL out, offline (no server).
//!
//! Each input line is a JSON object with a "text" field (and optionally
//! "lang", a language hint); each output line is that object with
//! `sentiment` {label, score, probabilities} and `intent` {label, confidence,
//! top} added (each only if the routed model has that head) and
//! `classification` {model, language, mixed_language, language_fallback}. A
//! bad line produces an object with "error" naming the line, and processing
//! goes on.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::Context;
use serde_json::{json, Map, Value};

use crate::classify::runtime;
use crate::classify::{ModelSet, Route};
use crate::classify::{Prediction, TextModel};

/// Which classifier to run offline, and how (shared by `analyze-text` and `eval`).
#[derive(Debug, clap::Args)]
pub struct ModelArgs {
    /// Model directory (model.onnx, tokenizer.json, labels.json); repeat for
    /// several (texts are routed by language, the first is the fallback).
    #[arg(long = "model", default_values = ["models/callsense-e5"])]
    pub models: Vec<PathBuf>,
    /// Texts per model batch.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub batch: u16,
    /// ONNX Runtime threads.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub threads: u16,
    /// libonnxruntime.so (default: ORT_DYLIB_PATH, then .runtime/lib).
    #[arg(long)]
    pub ort_library: Option<PathBuf>,
}

impl ModelArgs {
    /// Loads ONNX Runtime and the model directories.
    ///
    /// # Errors
    /// Runtime missing or a directory breaks the model contract.
    pub fn load(&self) -> anyhow::Result<ModelSet> {
        let env = runtime::init(self.ort_library.as_deref())?;
        if self.models.len() > crate::config::MAX_CLASSIFIER_MODELS {
            anyhow::bail!(
                "{} --model directories given; at most {} are supported",
                self.models.len(),
                crate::config::MAX_CLASSIFIER_MODELS
            );
        }
        let models = self
            .models
            .iter()
            .map(|dir| TextModel::load(&env, dir, usize::from(self.threads)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ModelSet::new(models))
    }

    pub fn batch(&self) -> usize {
        usize::from(self.batch)
    }
}

#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Input JSONL ("-" = stdin).
    #[arg(long, short, default_value = "-")]
    pub input: String,
    /// Output JSONL ("-" = stdout).
    #[arg(long, short, default_value = "-")]
    pub output: String,
}

/// Adds the JSON the CLI prints for a prediction to `obj`: `sentiment`
/// and `intent` (each if the model has that head) and `classification`.
pub fn add_prediction_json(
    obj: &mut Map<String, Value>,
    p: &Prediction,
    route: &Route,
    model_id: &str,
) {
    if let Some(s) = &p.sentiment {
        let [neg, neu, pos] = s.probabilities;
        obj.insert(
            "sentiment".into(),
            json!({
                "label": s.label_name(),
                "score": s.score,
                "probabilities": {"negative": neg, "neutral": neu, "positive": pos},
            }),
        );
    }
    if let Some(i) = &p.intent {
        let top: Vec<Value> = i
            .top
            .iter()
            .map(|(l, c)| json!({"label": l, "confidence": c}))
            .collect();
        obj.insert(
            "intent".into(),
            json!({"label": i.label, "confidence": i.confidence, "low_confidence": i.low_confidence, "top": top}),
        );
    }
    obj.insert(
        "classification".into(),
        json!({
            "model": model_id,
            "language": route.language,
            "mixed_language": route.mixed,
            "language_fallback": route.fallback,
        }),
    );
}

pub fn run(args: AnalyzeArgs) -> anyhow::Result<()> {
    let mut model = args.model.load()?;
    let input: Box<dyn BufRead> = if args.input == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(&args.input)
                .with_context(|| format!("cannot open {}", args.input))?,
        ))
    };
    let mut output: Box<dyn Write> = if args.output == "-" {
        Box::new(std::io::BufWriter::new(std::io::stdout().lock()))
    } else {
        Box::new(std::io::BufWriter::new(
            std::fs::File::create(&args.output)
                .with_context(|| format!("cannot create {}", args.output))?,
        ))
    };
    let mut pending: Vec<(usize, Map<String, Value>, String)> = Vec::new();
    let (mut lines, mut errors) = (0usize, 0usize);
    let mut flush = |pending: &mut Vec<(usize, Map<String, Value>, String)>,
                     out: &mut dyn Write|
     -> anyhow::Result<()> {
        let items: Vec<(&str, Option<&str>)> = pending
            .iter()
            .map(|p| (p.2.as_str(), p.1.get("lang").and_then(Value::as_str)))
            .collect();
        let preds = model.classify(&items)?;
        drop(items);
        for ((_, mut obj, _), (p, route)) in pending.drain(..).zip(preds) {
            let id = model.models()[route.model].model_id().to_string();
            add_prediction_json(&mut obj, &p, &route, &id);
            writeln!(out, "{}", Value::Object(obj))?;
        }
        Ok(())
    };
    for (n, line) in input.lines().enumerate() {
        let line_no = n + 1;
        let line = line.with_context(|| format!("reading line {line_no}"))?;
        if line.trim().is_empty() {
            continue;
        }
        lines += 1;
        let parsed = serde_json::from_str::<Value>(&line)
            .map_err(|e| format!("line {line_no}: not JSON: {e}"))
            .and_then(|v| match v {
                Value::Object(o) => Ok(o),
                _ => Err(format!("line {line_no}: expected a JSON object")),
            })
            .and_then(|o| match o.get("text") {
                Some(Value::String(t)) if !t.trim().is_empty() => {
                    let t = t.clone();
                    Ok((o, t))
                }
                Some(Value::String(_)) => Err(format!("line {line_no}: \"text\" is empty")),
                _ => Err(format!("line {line_no}: missing string field \"text\"")),
            });
        match parsed {
            Ok((obj, text)) => {
                pending.push((line_no, obj, text));
                if pending.len() >= args.model.batch() {
                    flush(&mut pending, &mut *output)?;
                }
            }
            Err(msg) => {
                // Keep order: finish the batch before the error line.
                flush(&mut pending, &mut *output)?;
                errors += 1;
                eprintln!("analyze-text: {msg}");
                writeln!(output, "{}", json!({"line": line_no, "error": msg}))?;
            }
        }
    }
    flush(&mut pending, &mut *output)?;
    output.flush()?;
    if errors > 0 {
        anyhow::bail!(
            "{errors} of {lines} input lines could not be analysed (see the \"error\" objects)"
        );
    }
    Ok(())
}
