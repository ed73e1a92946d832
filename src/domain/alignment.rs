//! SKU alignment: which POS item is which store product. Parses the shop's alignment CSV (POS SKU,
//! `<store> SKU` — the store's own name, as the shop's sheet heads it — match type, confidence) with errors that name line and column, refuses lines that pair
//! one SKU twice (both lines named, neither imported), and suggests matches for unaligned SKUs: exact,
//! normalised (case, punctuation and separators ignored), then fuzzy with a confidence.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alignment {
    pub pos_sku: String,
    pub store_sku: String,
    pub match_type: String,
    pub confidence: f64,
}

/// A pair and the line of the file it came from (1-based, as an editor shows it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlignmentLine {
    pub line: usize,
    pub pair: Alignment,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineError {
    pub line: usize,
    pub column: String,
    pub message: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

/// The file's columns: POS SKU, the store's SKU headed with the store's name (`store` is its label, e.g. the
/// sheet's "… SKU" column), match type, confidence.
pub fn columns(store: &str) -> [String; 4] {
    [
        "POS SKU".to_string(),
        format!("{store} SKU"),
        "Match Type".to_string(),
        "Confidence".to_string(),
    ]
}

/// Parses the CSV; returns the valid rows and one error per bad line (valid lines still count).
/// The header names the columns in any order (case and spacing ignored); a missing required column fails all.
pub fn parse_csv(text: &str, store: &str) -> Result<(Vec<Alignment>, Vec<LineError>), LineError> {
    let (lines, errors) = parse_csv_lines(text, store)?;
    Ok((lines.into_iter().map(|l| l.pair).collect(), errors))
}

/// [`parse_csv`], each valid row with its line.
pub fn parse_csv_lines(
    text: &str,
    store: &str,
) -> Result<(Vec<AlignmentLine>, Vec<LineError>), LineError> {
    let columns = columns(store);
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((header_no, header)) = lines.next() else {
        return Err(LineError {
            line: 1,
            column: "-".into(),
            message: "the file is empty".into(),
        });
    };
    let header: Vec<String> = split_csv_line(header.trim_start_matches('\u{feff}'), ',')
        .iter()
        .map(|h| squash(h))
        .collect();
    let mut index = [usize::MAX; 4];
    for (i, name) in columns.iter().enumerate() {
        match header.iter().position(|h| *h == squash(name)) {
            Some(p) => index[i] = p,
            None if i < 2 => {
                return Err(LineError {
                    line: header_no + 1,
                    column: name.to_string(),
                    message: format!("the header has no '{name}' column"),
                });
            }
            None => {}
        }
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (no, line) in lines {
        let cells = split_csv_line(line, ',');
        let cell = |i: usize| {
            cells
                .get(index[i])
                .map(|c| c.trim().to_string())
                .unwrap_or_default()
        };
        let err = |column: &str, message: String| LineError {
            line: no + 1,
            column: column.to_string(),
            message,
        };
        let (pos_sku, store_sku) = (cell(0), cell(1));
        if pos_sku.is_empty() {
            errors.push(err(&columns[0], "empty".into()));
            continue;
        }
        if store_sku.is_empty() {
            errors.push(err(&columns[1], "empty".into()));
            continue;
        }
        let match_type = if index[2] == usize::MAX {
            "manual".to_string()
        } else {
            cell(2)
        };
        let confidence = if index[3] == usize::MAX || cell(3).is_empty() {
            1.0
        } else {
            match cell(3).parse::<f64>() {
                Ok(c) if (0.0..=1.0).contains(&c) => c,
                _ => {
                    errors.push(err(
                        &columns[3],
                        format!("'{}' is not a number from 0 to 1", cell(3)),
                    ));
                    continue;
                }
            }
        };
        rows.push(AlignmentLine {
            line: no + 1,
            pair: Alignment {
                pos_sku,
                store_sku,
                match_type,
                confidence,
            },
        });
    }
    Ok((rows, errors))
}

/// Splits the lines of one import into those that can be applied and those that contradict each other: a
/// POS SKU paired with two store SKUs, or a store SKU with two POS SKUs. Every line of such a group is
/// refused, naming the others, since either choice would silently drop the other pair. A line repeated
/// exactly is applied once. Errors come in line order.
pub fn without_conflicts(
    lines: Vec<AlignmentLine>,
    store: &str,
) -> (Vec<AlignmentLine>, Vec<LineError>) {
    let columns = columns(store);
    let mut refused: BTreeMap<usize, LineError> = BTreeMap::new();
    for (column, side, other_side, what) in [
        (
            &columns[0],
            0,
            1,
            "one POS item goes with one store product",
        ),
        (
            &columns[1],
            1,
            0,
            "one store product goes with one POS item",
        ),
    ] {
        let sku = |l: &AlignmentLine, s: usize| {
            if s == 0 {
                l.pair.pos_sku.clone()
            } else {
                l.pair.store_sku.clone()
            }
        };
        let mut groups: BTreeMap<String, Vec<&AlignmentLine>> = BTreeMap::new();
        for l in &lines {
            groups.entry(sku(l, side)).or_default().push(l);
        }
        for (key, group) in groups {
            let partners: BTreeSet<String> = group.iter().map(|l| sku(l, other_side)).collect();
            if partners.len() < 2 {
                continue;
            }
            for l in &group {
                let others: Vec<String> = group
                    .iter()
                    .filter(|o| o.line != l.line && sku(o, other_side) != sku(l, other_side))
                    .map(|o| format!("{} on line {}", sku(o, other_side), o.line))
                    .collect();
                refused.entry(l.line).or_insert_with(|| LineError {
                    line: l.line,
                    column: column.to_string(),
                    message: format!(
                        "{key} is paired with {} here and with {}: {what}, so neither line was imported",
                        sku(l, other_side),
                        others.join(", ")
                    ),
                });
            }
        }
    }
    let mut seen = BTreeSet::new();
    let kept = lines
        .into_iter()
        .filter(|l| !refused.contains_key(&l.line))
        .filter(|l| seen.insert((l.pair.pos_sku.clone(), l.pair.store_sku.clone())))
        .collect();
    (kept, refused.into_values().collect())
}

/// Splits one CSV line on `delimiter`, honouring double quotes (`""` inside quotes is a quote).
/// Shared with the POS file connector, whose exports may use another delimiter.
pub(crate) fn split_csv_line(line: &str, delimiter: char) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                if let Some(s) = cells.last_mut() {
                    s.push('"');
                }
            }
            ('"', _) => quoted = !quoted,
            (d, false) if d == delimiter => cells.push(String::new()),
            (c, _) => {
                if let Some(s) = cells.last_mut() {
                    s.push(c)
                }
            }
        }
    }
    cells
}

/// A header name with case, spaces and punctuation removed, so `Retail Price` matches `retail_price`.
pub(crate) fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// A SKU with case, punctuation and separators removed: `FF-OCEAN-1.5` → `FFOCEAN15`.
pub fn normalise(sku: &str) -> String {
    sku.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

/// Similarity from 0 to 1: 1 − edit distance / longer length, on normalised SKUs.
pub fn similarity(a: &str, b: &str) -> f64 {
    let (a, b): (Vec<char>, Vec<char>) = (
        normalise(a).chars().collect(),
        normalise(b).chars().collect(),
    );
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 0.0;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut row = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            row.push(
                (prev[j] + usize::from(ca != cb))
                    .min(prev[j + 1] + 1)
                    .min(row[j] + 1),
            );
        }
        prev = row;
    }
    1.0 - prev[b.len()] as f64 / longest as f64
}

/// Proposes a store SKU for each unaligned POS SKU: exact, then normalised, then the most similar one at or
/// above `min_confidence`. Each store SKU is proposed at most once (best match first).
pub fn suggest(pos: &[String], store: &[String], min_confidence: f64) -> Vec<Alignment> {
    let mut out = Vec::new();
    let mut taken = std::collections::HashSet::new();
    let by_norm: std::collections::HashMap<String, &String> =
        store.iter().map(|w| (normalise(w), w)).collect();
    let mut rest = Vec::new();
    for p in pos {
        if let Some(w) = store.iter().find(|w| *w == p) {
            taken.insert(w.clone());
            out.push(Alignment {
                pos_sku: p.clone(),
                store_sku: w.clone(),
                match_type: "exact".into(),
                confidence: 1.0,
            });
        } else if let Some(w) = by_norm.get(&normalise(p)).filter(|w| !taken.contains(**w)) {
            taken.insert((*w).clone());
            out.push(Alignment {
                pos_sku: p.clone(),
                store_sku: (*w).clone(),
                match_type: "normalised".into(),
                confidence: 0.99,
            });
        } else {
            rest.push(p);
        }
    }
    let mut candidates: Vec<(f64, &String, &String)> = Vec::new();
    for p in rest {
        for w in store.iter().filter(|w| !taken.contains(*w)) {
            let s = similarity(p, w);
            if s >= min_confidence {
                candidates.push((s, p, w));
            }
        }
    }
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut matched = std::collections::HashSet::new();
    for (s, p, w) in candidates {
        if matched.contains(p) || taken.contains(w) {
            continue;
        }
        matched.insert(p);
        taken.insert(w.clone());
        out.push(Alignment {
            pos_sku: p.clone(),
            store_sku: w.clone(),
            match_type: "fuzzy".into(),
            confidence: (s * 100.0).round() / 100.0,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_seed_format_and_names_bad_lines() {
        let csv = "POS SKU,WooCommerce SKU,Match Type,Confidence\n\
                   BIG-BUD-1L,AN-BIGBUD-1L,fuzzy,0.95\n\
                   FF-OCEAN-1.5,FF-OCEAN-1-5-CUFT,exact,1.0\n\
                   ,X,exact,1\n\
                   GH-FLORA,GH-FLORA-1QT,auto-high,high\n\
                   \"QUOTED,SKU\",\"W \"\"1\"\"\",manual,\n";
        let (rows, errors) = parse_csv(csv, "WooCommerce").unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[2].pos_sku, "QUOTED,SKU");
        assert_eq!(rows[2].store_sku, "W \"1\"");
        assert_eq!(rows[2].confidence, 1.0);
        assert_eq!(errors[0].to_string(), "line 4, column POS SKU: empty");
        assert_eq!(
            errors[1].to_string(),
            "line 5, column Confidence: 'high' is not a number from 0 to 1"
        );
        assert!(
            parse_csv("SKU,Other\nA,B\n", "WooCommerce")
                .unwrap_err()
                .to_string()
                .contains("no 'POS SKU' column")
        );
    }

    #[test]
    fn a_sku_paired_twice_refuses_every_line_of_it() {
        let csv = "POS SKU,WooCommerce SKU\n\
                   P-1,W-1\n\
                   P-2,W-1\n\
                   P-3,W-3\n\
                   P-3,W-3\n\
                   P-4,W-4\n\
                   P-4,W-5\n";
        let (lines, errors) = parse_csv_lines(csv, "WooCommerce").unwrap();
        assert!(errors.is_empty());
        let (kept, refused) = without_conflicts(lines, "WooCommerce");
        assert_eq!(
            kept.iter().map(|l| l.line).collect::<Vec<_>>(),
            vec![4],
            "the repeated line counts once"
        );
        let shown: Vec<String> = refused.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            vec![
                "line 2, column WooCommerce SKU: W-1 is paired with P-1 here and with P-2 on line 3: one store product goes with one POS item, so neither line was imported",
                "line 3, column WooCommerce SKU: W-1 is paired with P-2 here and with P-1 on line 2: one store product goes with one POS item, so neither line was imported",
                "line 6, column POS SKU: P-4 is paired with W-4 here and with W-5 on line 7: one POS item goes with one store product, so neither line was imported",
                "line 7, column POS SKU: P-4 is paired with W-5 here and with W-4 on line 6: one POS item goes with one store product, so neither line was imported",
            ]
        );
    }

    #[test]
    fn suggestions_go_exact_then_normalised_then_fuzzy() {
        let pos = [
            "A-1".to_string(),
            "ff-ocean-1.5".into(),
            "GH-FLORA-GRO".into(),
            "NOTHING-LIKE".into(),
        ];
        let store = [
            "A-1".to_string(),
            "FF-OCEAN-15".into(),
            "GH-FLORA-GRO-1QT".into(),
            "ZZZ".into(),
        ];
        let s = suggest(&pos, &store, 0.6);
        let kinds: Vec<(&str, &str)> = s
            .iter()
            .map(|a| (a.pos_sku.as_str(), a.match_type.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("A-1", "exact"),
                ("ff-ocean-1.5", "normalised"),
                ("GH-FLORA-GRO", "fuzzy")
            ]
        );
        assert!(s[2].confidence > 0.6 && s[2].confidence < 1.0);
    }
}
