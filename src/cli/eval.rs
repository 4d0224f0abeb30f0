//! `callsense eval`: accuracy, macro-F1, per-class scores and confusion
//! matrices per head and language, from labelled data, offline.
//!
//! Input: JSONL with "text" and gold "sentiment" and/or "intent" (optional
//! "lang"), or an SST-2 style TSV whose header names a `label` column
//! (0 = negative, 1 = positive) and a `sentence`/`content`/`text` column.
//! Each text is routed to a model by its language (as in the engine), and
//! the report says which model classified each language.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Context};
use serde_json::Value;

use super::analyze::ModelArgs;
use crate::classify::eval::{Calibration, Confusion};
use crate::classify::SENTIMENT_LABELS;

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// Labelled JSONL (text, sentiment?, intent?, lang?) or SST-2 TSV.
    pub file: PathBuf,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Two-class sentiment (SST-2 style): predict whichever of negative and
    /// positive is more probable, ignoring neutral.
    #[arg(long)]
    pub sentiment_binary: bool,
    /// Language of a TSV file's texts (JSONL lines carry their own "lang").
    #[arg(long, default_value = "en")]
    pub tsv_lang: String,
    /// Print a JSON summary (accuracy and macro-F1 per head and language) instead of tables.
    #[arg(long)]
    pub json: bool,
}

struct Example {
    text: String,
    lang: String,
    sentiment: Option<String>,
    intent: Option<String>,
}

fn read(path: &PathBuf, tsv_lang: &str) -> anyhow::Result<Vec<Example>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = Vec::new();
    if path.extension().is_some_and(|e| e == "tsv") {
        // SST-2 style: a header naming a `label` column (0/1) and a text
        // column (`sentence`, `content` or `text`), in either order.
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap_or("").split('\t').collect();
        let col = |names: &[&str]| header.iter().position(|h| names.contains(&h.trim()));
        let (Some(li), Some(ti)) = (col(&["label"]), col(&["sentence", "content", "text"])) else {
            bail!(
                "{}: the TSV header needs a `label` and a `sentence`/`content`/`text` column",
                path.display()
            );
        };
        for (n, line) in lines.enumerate() {
            let fields: Vec<&str> = line.split('\t').collect();
            let (Some(label), Some(sentence)) = (fields.get(li), fields.get(ti)) else {
                bail!(
                    "{} line {}: expected {} tab-separated columns",
                    path.display(),
                    n + 2,
                    header.len()
                );
            };
            let sentiment = match label.trim() {
                "0" => "negative",
                "1" => "positive",
                other => bail!(
                    "{} line {}: label {other:?} is not 0 or 1",
                    path.display(),
                    n + 2
                ),
            };
            out.push(Example {
                text: (*sentence).into(),
                lang: tsv_lang.into(),
                sentiment: Some(sentiment.into()),
                intent: None,
            });
        }
        return Ok(out);
    }
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let v: Value = serde_json::from_str(line)
            .with_context(|| format!("{} line {}: not JSON", path.display(), n + 1))?;
        let field = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let text = field("text")
            .with_context(|| format!("{} line {}: missing \"text\"", path.display(), n + 1))?;
        let ex = Example {
            text,
            lang: field("lang").unwrap_or_else(|| "all".into()),
            sentiment: field("sentiment"),
            intent: field("intent"),
        };
        if ex.sentiment.is_none() && ex.intent.is_none() {
            bail!(
                "{} line {}: no gold \"sentiment\" or \"intent\" label",
                path.display(),
                n + 1
            );
        }
        if let Some(s) = &ex.sentiment {
            if !SENTIMENT_LABELS.contains(&s.as_str()) {
                bail!(
                    "{} line {}: sentiment {s:?} is not one of {SENTIMENT_LABELS:?}",
                    path.display(),
                    n + 1
                );
            }
        }
        out.push(ex);
    }
    Ok(out)
}

/// Reliability-table bins for the calibration report.
const CALIBRATION_BINS: usize = 10;

pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let examples = read(&args.file, &args.tsv_lang)?;
    if examples.is_empty() {
        bail!("{} holds no examples", args.file.display());
    }
    let mut models = args.model.load()?;
    let sentiment_labels: Vec<&str> = if args.sentiment_binary {
        vec!["negative", "positive"]
    } else {
        SENTIMENT_LABELS.to_vec()
    };
    // (head, lang) → confusion; models used per lang
    let mut tables: BTreeMap<(&str, String), Confusion> = BTreeMap::new();
    // (head, lang) → confidence against correctness
    let mut calibration: BTreeMap<(&str, String), Calibration> = BTreeMap::new();
    let mut used: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let started = std::time::Instant::now();
    for chunk in examples.chunks(args.model.batch()) {
        let items: Vec<(&str, Option<&str>)> = chunk
            .iter()
            .map(|e| {
                (
                    e.text.as_str(),
                    (e.lang != "all").then_some(e.lang.as_str()),
                )
            })
            .collect();
        for (e, (p, route)) in chunk.iter().zip(models.classify(&items)?) {
            let model = &models.models()[route.model];
            *used
                .entry(e.lang.clone())
                .or_default()
                .entry(model.model_id().to_string())
                .or_default() += 1;
            if let Some(gold) = &e.sentiment {
                let Some(s) = &p.sentiment else {
                    bail!(
                        "{}: gold sentiment, but model {} (routed for language {:?}) has no sentiment head",
                        args.file.display(),
                        model.model_id(),
                        route.language
                    );
                };
                let [neg, _, pos] = s.probabilities;
                let (pred, confidence) = if args.sentiment_binary {
                    let p = pos.max(neg) / (pos + neg).max(f32::MIN_POSITIVE);
                    (if pos >= neg { "positive" } else { "negative" }, p)
                } else {
                    (s.label_name(), s.probabilities[s.label])
                };
                calibration
                    .entry(("sentiment", e.lang.clone()))
                    .or_insert_with(|| Calibration::new(CALIBRATION_BINS))
                    .add(f64::from(confidence), pred == gold);
                tables
                    .entry(("sentiment", e.lang.clone()))
                    .or_insert_with(|| Confusion::with_labels(&sentiment_labels))
                    .add(gold, pred);
            }
            if let Some(gold) = &e.intent {
                let Some(i) = &p.intent else {
                    bail!(
                        "{}: gold intent, but model {} (routed for language {:?}) has no intent head",
                        args.file.display(),
                        model.model_id(),
                        route.language
                    );
                };
                tables
                    .entry(("intent", e.lang.clone()))
                    .or_insert_with(|| {
                        let labels = model
                            .spec()
                            .heads
                            .iter()
                            .find(|h| h.name == "intent")
                            .map(|h| h.labels.clone())
                            .unwrap_or_default();
                        Confusion::with_labels(&labels)
                    })
                    .add(gold, &i.label);
                calibration
                    .entry(("intent", e.lang.clone()))
                    .or_insert_with(|| Calibration::new(CALIBRATION_BINS))
                    .add(f64::from(i.confidence), &i.label == gold);
            }
        }
    }
    let elapsed = started.elapsed();
    let models_of = |lang: &str| -> Value {
        serde_json::to_value(used.get(lang).cloned().unwrap_or_default()).unwrap_or(Value::Null)
    };
    if args.json {
        let rows: Vec<Value> = tables
            .iter()
            .map(|((head, lang), c)| {
                let per_class: Vec<Value> = c
                    .per_class()
                    .iter()
                    .map(|s| serde_json::json!({"label": s.label, "precision": s.precision, "recall": s.recall, "f1": s.f1, "support": s.support}))
                    .collect();
                let ece = calibration
                    .get(&(*head, lang.clone()))
                    .map_or(0.0, Calibration::ece);
                let mut row = serde_json::json!({"head": head, "lang": lang, "n": c.total(), "accuracy": c.accuracy(), "macro_f1": c.macro_f1(), "ece": ece, "per_class": per_class, "models": models_of(lang)});
                if *head == "sentiment" {
                    // The confusion analysts care about most.
                    row["negative_as_neutral"] = c.count("negative", "neutral").into();
                    row["neutral_as_negative"] = c.count("neutral", "negative").into();
                }
                row
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({"file": args.file, "results": rows})
        );
        return Ok(());
    }
    println!(
        "{}: {} examples ({:.2} ms per text)",
        args.file.display(),
        examples.len(),
        elapsed.as_secs_f64() * 1000.0 / examples.len() as f64
    );
    for (lang, ms) in &used {
        let list: Vec<String> = ms.iter().map(|(m, n)| format!("{m} ({n})")).collect();
        println!("  [{lang}] classified by {}", list.join(", "));
    }
    println!();
    for ((head, lang), c) in &tables {
        let mode = if *head == "sentiment" && args.sentiment_binary {
            ", binary"
        } else {
            ""
        };
        println!("{}", c.render(&format!("{head} [{lang}{mode}]")));
        if let Some(cal) = calibration.get(&(*head, lang.clone())) {
            println!(
                "{}",
                cal.render(&format!("{head} [{lang}{mode}] calibration"))
            );
        }
    }
    Ok(())
}
