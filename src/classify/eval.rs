//! Classification metrics: confusion matrix, accuracy, per-class precision,
//! recall and F1, macro-F1. Used by `callsense eval`.
//!
//! Owns: the arithmetic and a plain-text rendering. Labels seen only in the
//! gold data or only in predictions both get a row and a column.

use std::collections::BTreeMap;
use std::fmt::Write;

/// Counts of (gold, predicted) label pairs.
#[derive(Debug, Clone, Default)]
pub struct Confusion {
    labels: Vec<String>,
    index: BTreeMap<String, usize>,
    /// `counts[gold][pred]`, grown as labels appear.
    counts: Vec<Vec<u64>>,
}

/// Precision, recall, F1 and support of one label.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassScore {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: u64,
}

impl Confusion {
    /// Starts with `labels` in this order (more may be added as seen).
    pub fn with_labels<S: AsRef<str>>(labels: &[S]) -> Self {
        let mut c = Self::default();
        for l in labels {
            c.slot(l.as_ref());
        }
        c
    }

    fn slot(&mut self, label: &str) -> usize {
        if let Some(&i) = self.index.get(label) {
            return i;
        }
        let i = self.labels.len();
        self.labels.push(label.to_string());
        self.index.insert(label.to_string(), i);
        for row in &mut self.counts {
            row.push(0);
        }
        self.counts.push(vec![0; i + 1]);
        i
    }

    pub fn add(&mut self, gold: &str, predicted: &str) {
        let g = self.slot(gold);
        let p = self.slot(predicted);
        self.counts[g][p] += 1;
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    /// How often `gold` was predicted as `predicted` (0 for unseen labels).
    pub fn count(&self, gold: &str, predicted: &str) -> u64 {
        match (self.index.get(gold), self.index.get(predicted)) {
            (Some(&g), Some(&p)) => self.counts[g][p],
            _ => 0,
        }
    }

    pub fn accuracy(&self) -> f64 {
        let correct: u64 = (0..self.labels.len()).map(|i| self.counts[i][i]).sum();
        ratio(correct, self.total())
    }

    /// Scores of every label with gold examples (labels only ever predicted
    /// count as false positives of the others but get no row of their own).
    pub fn per_class(&self) -> Vec<ClassScore> {
        let n = self.labels.len();
        (0..n)
            .filter_map(|i| {
                let support: u64 = self.counts[i].iter().sum();
                if support == 0 {
                    return None;
                }
                let tp = self.counts[i][i];
                let predicted: u64 = (0..n).map(|g| self.counts[g][i]).sum();
                let (precision, recall) = (ratio(tp, predicted), ratio(tp, support));
                let f1 = if precision + recall == 0.0 {
                    0.0
                } else {
                    2.0 * precision * recall / (precision + recall)
                };
                Some(ClassScore {
                    label: self.labels[i].clone(),
                    precision,
                    recall,
                    f1,
                    support,
                })
            })
            .collect()
    }

    /// Unweighted mean F1 over labels with gold examples.
    pub fn macro_f1(&self) -> f64 {
        let scores = self.per_class();
        if scores.is_empty() {
            return 0.0;
        }
        scores.iter().map(|s| s.f1).sum::<f64>() / scores.len() as f64
    }

    /// Accuracy, macro-F1, per-class scores and the matrix as text.
    pub fn render(&self, title: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{title}: n = {}, accuracy = {:.2} %, macro-F1 = {:.2} %",
            self.total(),
            100.0 * self.accuracy(),
            100.0 * self.macro_f1()
        );
        let digits = self.labels.len().to_string().len();
        let width = self
            .labels
            .iter()
            .map(String::len)
            .max()
            .unwrap_or(5)
            .max(5)
            + digits
            + 1;
        let _ = writeln!(
            out,
            "  {:<width$}  precision  recall     F1  support",
            "label"
        );
        for s in self.per_class() {
            let _ = writeln!(
                out,
                "  {:<width$}  {:>8.1}%  {:>5.1}%  {:>5.1}%  {:>7}",
                s.label,
                100.0 * s.precision,
                100.0 * s.recall,
                100.0 * s.f1,
                s.support
            );
        }
        let _ = writeln!(
            out,
            "  confusion (rows: gold, columns: predicted, in label order above + extras):"
        );
        let _ = write!(out, "  {:<width$}", "");
        for i in 0..self.labels.len() {
            let _ = write!(out, " {:>4}", i);
        }
        let _ = writeln!(out);
        for (i, row) in self.counts.iter().enumerate() {
            let _ = write!(out, "  {:<width$}", format!("{i} {}", self.labels[i]));
            for c in row {
                let _ = write!(out, " {c:>4}");
            }
            let _ = writeln!(out);
        }
        out
    }
}

/// Confidence against correctness, in equal-width confidence bins: the
/// expected calibration error (ECE) and a reliability table. A calibrated
/// head is right about 80 % of the time when it says 0.8.
#[derive(Debug, Clone)]
pub struct Calibration {
    /// Per bin: (count, confidence sum, correct count).
    bins: Vec<(u64, f64, u64)>,
}

/// One reliability-table row.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationBin {
    /// Confidence range [low, high).
    pub low: f64,
    pub high: f64,
    pub count: u64,
    pub mean_confidence: f64,
    pub accuracy: f64,
}

impl Calibration {
    /// `bins` equal-width bins over [0, 1] (at least 1).
    pub fn new(bins: usize) -> Self {
        Self {
            bins: vec![(0, 0.0, 0); bins.max(1)],
        }
    }

    /// One prediction: its confidence (clamped to [0, 1]) and whether it was right.
    pub fn add(&mut self, confidence: f64, correct: bool) {
        let c = if confidence.is_finite() {
            confidence.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let n = self.bins.len();
        let b = ((c * n as f64) as usize).min(n - 1);
        let bin = &mut self.bins[b];
        bin.0 += 1;
        bin.1 += c;
        bin.2 += u64::from(correct);
    }

    /// Σ over bins of (bin share) × |accuracy − mean confidence|.
    pub fn ece(&self) -> f64 {
        let total: u64 = self.bins.iter().map(|b| b.0).sum();
        if total == 0 {
            return 0.0;
        }
        self.rows()
            .iter()
            .map(|r| r.count as f64 / total as f64 * (r.accuracy - r.mean_confidence).abs())
            .sum()
    }

    /// The non-empty bins.
    pub fn rows(&self) -> Vec<CalibrationBin> {
        let n = self.bins.len() as f64;
        self.bins
            .iter()
            .enumerate()
            .filter(|(_, b)| b.0 > 0)
            .map(|(i, &(count, conf, correct))| CalibrationBin {
                low: i as f64 / n,
                high: (i + 1) as f64 / n,
                count,
                mean_confidence: conf / count as f64,
                accuracy: ratio(correct, count),
            })
            .collect()
    }

    /// The reliability table as text.
    pub fn render(&self, title: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{title}: ECE = {:.2} %", 100.0 * self.ece());
        let _ = writeln!(out, "  confidence   n      mean conf  accuracy");
        for r in self.rows() {
            let _ = writeln!(
                out,
                "  {:.1}-{:.1}    {:<6} {:>8.3}  {:>8.3}",
                r.low, r.high, r.count, r.mean_confidence, r.accuracy
            );
        }
        out
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_match_hand_computation() {
        let mut c = Confusion::with_labels(&["a", "b"]);
        // gold a: 3 → a, 1 → b; gold b: 2 → b, 2 → a
        for (g, p) in [
            ("a", "a"),
            ("a", "a"),
            ("a", "a"),
            ("a", "b"),
            ("b", "b"),
            ("b", "b"),
            ("b", "a"),
            ("b", "a"),
        ] {
            c.add(g, p);
        }
        assert_eq!(c.total(), 8);
        assert!((c.accuracy() - 5.0 / 8.0).abs() < 1e-12);
        let s = c.per_class();
        // a: precision 3/5, recall 3/4 → F1 = 2/3; b: precision 2/3, recall 1/2 → F1 = 4/7
        assert!((s[0].precision - 0.6).abs() < 1e-12 && (s[0].recall - 0.75).abs() < 1e-12);
        assert!((s[0].f1 - 2.0 / 3.0).abs() < 1e-12);
        assert!((s[1].f1 - 4.0 / 7.0).abs() < 1e-12);
        assert!((c.macro_f1() - (2.0 / 3.0 + 4.0 / 7.0) / 2.0).abs() < 1e-12);
    }

    #[test]
    fn calibration_error_from_bins() {
        let mut c = Calibration::new(10);
        // Bin 0.9-1.0: said 0.95 four times, right twice -> |0.5 - 0.95|.
        for right in [true, true, false, false] {
            c.add(0.95, right);
        }
        // Bin 0.5-0.6: said 0.55 four times, right twice -> |0.5 - 0.55|.
        for right in [true, false, true, false] {
            c.add(0.55, right);
        }
        assert!((c.ece() - (0.5 * 0.45 + 0.5 * 0.05)).abs() < 1e-9);
        assert_eq!(c.rows().len(), 2);
        // 1.0 lands in the top bin, not past it.
        c.add(1.0, true);
        assert_eq!(c.rows().last().map(|r| r.count), Some(5));
        let mut perfect = Calibration::new(10);
        perfect.add(1.0, true);
        perfect.add(0.0, false);
        assert!(perfect.ece() < 1e-9);
    }

    #[test]
    fn count_of_a_pair() {
        let mut c = Confusion::with_labels(&["negative", "neutral"]);
        c.add("negative", "neutral");
        c.add("negative", "neutral");
        c.add("neutral", "negative");
        assert_eq!(c.count("negative", "neutral"), 2);
        assert_eq!(c.count("neutral", "negative"), 1);
        assert_eq!(c.count("positive", "negative"), 0);
    }

    #[test]
    fn predicted_only_labels_hurt_precision_but_get_no_row() {
        let mut c = Confusion::default();
        c.add("x", "y");
        c.add("x", "x");
        let s = c.per_class();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].label, "x");
        assert!((s[0].recall - 0.5).abs() < 1e-12);
        assert!(c.render("t").contains("n = 2, accuracy = 50.00 %"));
    }
}
