//! The stock merge: merge, don't overwrite. Each aligned SKU keeps a merge base — the quantity agreed at the
//! last pass and what each side showed then — so a pass adds BOTH sides' movements since:
//! `merged = agreed + (pos − pos_seen + absorbed_web) + (store − store_seen)`.
//! `absorbed_web` is the quantity of web orders the POS took in since the last pass (staged orders that became
//! POS documents, or back-office sales orders whose reservation lowered its free stock): the store already
//! counted those sales, so adding them back keeps them counted once. A counted order later cancelled comes
//! back on both sides, so it is counted out once (a negative `absorbed_web`).
//! A conflict is raised only where the merge cannot be trusted.

use serde::{Deserialize, Serialize};

/// What both sides agreed on at the last pass, and what each showed then.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeBase {
    pub agreed: i64,
    pub pos_seen: i64,
    pub store_seen: i64,
}

/// One SKU as read on a pass.
#[derive(Debug, Clone, PartialEq)]
pub struct StockObservation {
    /// None: the SKU is aligned but the POS has no such item (or it is not an e-commerce item).
    pub pos: Option<i64>,
    /// None: the store has no such product, or does not manage its stock.
    pub store: Option<i64>,
    pub base: Option<MergeBase>,
    pub absorbed_web: i64,
    /// Online sales syncdesk saw since the last pass (imported web orders), to explain the store's movement.
    pub store_sales: Option<i64>,
    /// In-store sales since the last pass, when the back office reports them.
    pub pos_sales: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictKind {
    /// Both sides' sales together exceed the stock: oversold.
    NegativeStock,
    /// A side moved by more than the threshold beyond the sales that explain it (a manual edit, a recount).
    UnexplainedChange,
    /// No merge base yet and the sides disagree by more than the threshold.
    QuantityMismatch,
    /// POS and store prices differ by more than the allowed share.
    PriceDrift,
    /// Aligned, but one side has no such item.
    MissingAlignment,
    /// A stock write's answer was lost and the store now shows neither the old value nor the one written:
    /// whether the write landed cannot be told, so merging again could count a change twice.
    UnconfirmedWrite,
}

impl ConflictKind {
    pub const ALL: [ConflictKind; 6] = [
        ConflictKind::NegativeStock,
        ConflictKind::UnexplainedChange,
        ConflictKind::QuantityMismatch,
        ConflictKind::PriceDrift,
        ConflictKind::MissingAlignment,
        ConflictKind::UnconfirmedWrite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConflictKind::NegativeStock => "negative_stock",
            ConflictKind::UnexplainedChange => "unexplained_change",
            ConflictKind::QuantityMismatch => "quantity_mismatch",
            ConflictKind::PriceDrift => "price_drift",
            ConflictKind::MissingAlignment => "missing_alignment",
            ConflictKind::UnconfirmedWrite => "unconfirmed_write",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// What a narrow screen calls it (at most 11 cells).
    pub fn short(self) -> &'static str {
        match self {
            ConflictKind::NegativeStock => "oversold",
            ConflictKind::UnexplainedChange => "unexplained",
            ConflictKind::QuantityMismatch => "mismatch",
            ConflictKind::PriceDrift => "price drift",
            ConflictKind::MissingAlignment => "missing",
            ConflictKind::UnconfirmedWrite => "unconfirmed",
        }
    }
}

/// A stock write whose answer never came (timeout, dropped connection, store restarted mid-batch): the
/// store may or may not have applied it. Kept on the pair until a read of the store tells which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnconfirmedWrite {
    /// The quantity sent.
    pub quantity: i64,
    /// What the store showed before (when the write was planned).
    pub prior: Option<i64>,
    /// The base the pass would have recorded had the answer come.
    pub base: MergeBase,
}

/// What a read of the store says about an unconfirmed write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteCheck {
    /// The store shows what was written: it landed, its base stands.
    Landed(MergeBase),
    /// The store still shows what it had: it did not land; the old base stands.
    NotLanded,
    /// Neither: something else changed the store too, and which happened first cannot be told.
    Unknown,
}

impl UnconfirmedWrite {
    /// Reads `store_now` against the write. A write of the value the store already had is `Landed`.
    pub fn check(&self, store_now: Option<i64>) -> WriteCheck {
        match store_now {
            Some(q) if q == self.quantity => WriteCheck::Landed(self.base),
            now if now == self.prior => WriteCheck::NotLanded,
            _ => WriteCheck::Unknown,
        }
    }

    /// The conflict's explanation when [`check`](Self::check) cannot tell.
    pub fn unknown_detail(&self, store_now: Option<i64>) -> String {
        format!(
            "a write of {} got no answer; the store now says {}, before it said {}: whether the write landed cannot be told, so nothing is merged until someone decides",
            self.quantity,
            store_now.map_or("nothing".to_string(), |q| q.to_string()),
            self.prior.map_or("nothing".to_string(), |q| q.to_string())
        )
    }
}

/// How a conflict of a kind is settled (its names, as configured and recorded, are in `config::stock`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    PosWins,
    StoreWins,
    Merge,
    /// Wait for an operator.
    Manual,
}

/// The outcome for one SKU on a pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeDecision {
    /// Write `quantity` to the store (if it differs) and make it the new base.
    Apply { quantity: i64, new_base: MergeBase },
    /// Nothing trustworthy to write; the conflict proposes `proposed` (None: nothing to propose).
    Conflict {
        kind: ConflictKind,
        merged: Option<i64>,
        proposed: Option<i64>,
        detail: String,
    },
    /// Nothing to do (one side unmanaged and no alignment problem worth raising, or no change).
    Skip { reason: String },
}

/// The merged quantity from a base and both sides.
pub fn merged(base: MergeBase, pos: i64, store: i64, absorbed_web: i64) -> i64 {
    base.agreed + (pos - base.pos_seen + absorbed_web) + (store - base.store_seen)
}

/// Decides one SKU. `threshold` is the largest movement a side may make without sales to explain it.
pub fn decide(obs: &StockObservation, threshold: i64) -> MergeDecision {
    let (pos, store) = match (obs.pos, obs.store) {
        (Some(p), Some(w)) => (p, w),
        (None, None) => {
            return MergeDecision::Skip {
                reason: "missing on both sides".into(),
            };
        }
        (p, _) => {
            let side = if p.is_none() { "the POS" } else { "the store" };
            return MergeDecision::Conflict {
                kind: ConflictKind::MissingAlignment,
                merged: None,
                proposed: None,
                detail: format!("aligned, but {side} has no such item"),
            };
        }
    };
    let Some(base) = obs.base else {
        // First pass: the POS holds the physical count; agree on it unless the store is far off.
        let apply = MergeDecision::Apply {
            quantity: pos,
            new_base: MergeBase {
                agreed: pos,
                pos_seen: pos,
                store_seen: pos,
            },
        };
        return if (pos - store).abs() > threshold {
            MergeDecision::Conflict {
                kind: ConflictKind::QuantityMismatch,
                merged: None,
                proposed: Some(pos),
                detail: format!("first sync: POS has {pos}, the store {store}"),
            }
        } else {
            apply
        };
    };
    let pos_move = pos - base.pos_seen + obs.absorbed_web;
    let store_move = store - base.store_seen;
    for (side, moved, sales) in [
        ("store", store_move, obs.store_sales),
        ("POS", pos_move, obs.pos_sales),
    ] {
        if let Some(sold) = sales {
            let unexplained = moved + sold; // sales explain a fall of exactly `sold`
            if unexplained.abs() > threshold {
                return MergeDecision::Conflict {
                    kind: ConflictKind::UnexplainedChange,
                    merged: Some(merged(base, pos, store, obs.absorbed_web)),
                    proposed: Some(merged(base, pos, store, obs.absorbed_web)),
                    detail: format!(
                        "the {side} moved {moved:+} since the last pass; sales explain {:+}",
                        -sold
                    ),
                };
            }
        }
    }
    let quantity = merged(base, pos, store, obs.absorbed_web);
    if quantity < 0 {
        return MergeDecision::Conflict {
            kind: ConflictKind::NegativeStock,
            merged: Some(quantity),
            proposed: Some(0),
            detail: format!("sales on both sides exceed the stock: merged {quantity}"),
        };
    }
    MergeDecision::Apply {
        quantity,
        new_base: MergeBase {
            agreed: quantity,
            pos_seen: pos,
            store_seen: quantity,
        },
    }
}

/// The quantity a resolution settles on.
pub fn resolve(
    policy: Policy,
    pos: Option<i64>,
    store: Option<i64>,
    merged: Option<i64>,
) -> Option<i64> {
    match policy {
        Policy::PosWins => pos,
        Policy::StoreWins => store,
        Policy::Merge => merged.map(|m| m.max(0)),
        Policy::Manual => None,
    }
}

/// A price held in whole cents (how a price_drift conflict's `proposed` column stores it) as money: "120.98".
pub fn money_from_cents(cents: i64) -> String {
    format!("{:.2}", rust_decimal::Decimal::new(cents, 2))
}

/// Money text ("32.60") as whole cents; None when it is not a number.
pub fn cents_from_money(text: &str) -> Option<i64> {
    let price: rust_decimal::Decimal = text.trim().parse().ok()?;
    rust_decimal::prelude::ToPrimitive::to_i64(
        &(price.round_dp(2) * rust_decimal::Decimal::from(100)),
    )
}

/// True when two prices differ by more than `share` of the POS price (e.g. 0.20).
pub fn price_drift(pos_price: f64, store_price: f64, share: f64) -> bool {
    pos_price > 0.0 && ((pos_price - store_price).abs() / pos_price) > share
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cents_read_as_money() {
        assert_eq!(money_from_cents(12098), "120.98");
        assert_eq!(money_from_cents(1200), "12.00");
        assert_eq!(money_from_cents(5), "0.05");
        assert_eq!(cents_from_money("32.60"), Some(3260));
        assert_eq!(cents_from_money("n/a"), None);
    }

    fn obs(pos: i64, store: i64, base: MergeBase) -> StockObservation {
        StockObservation {
            pos: Some(pos),
            store: Some(store),
            base: Some(base),
            absorbed_web: 0,
            store_sales: None,
            pos_sales: None,
        }
    }

    const BASE: MergeBase = MergeBase {
        agreed: 10,
        pos_seen: 10,
        store_seen: 10,
    };

    #[test]
    fn simultaneous_sales_on_both_sides_are_both_kept() {
        // 2 sold in the shop, 3 online: the seed's resolver keeps one side; the merge keeps both.
        assert_eq!(
            decide(&obs(8, 7, BASE), 10),
            MergeDecision::Apply {
                quantity: 5,
                new_base: MergeBase {
                    agreed: 5,
                    pos_seen: 8,
                    store_seen: 5
                }
            }
        );
    }

    #[test]
    fn a_web_order_absorbed_by_the_pos_is_counted_once() {
        // 3 sold online (store 10 → 7); the staged order reaches the POS (10 → 7) before the pass.
        let mut o = obs(7, 7, BASE);
        o.absorbed_web = 3;
        assert!(matches!(
            decide(&o, 10),
            MergeDecision::Apply { quantity: 7, .. }
        ));
    }

    #[test]
    fn overselling_is_a_conflict_proposing_zero() {
        let d = decide(
            &obs(
                2,
                1,
                MergeBase {
                    agreed: 5,
                    pos_seen: 5,
                    store_seen: 5,
                },
            ),
            10,
        );
        assert!(
            matches!(
                d,
                MergeDecision::Conflict {
                    kind: ConflictKind::NegativeStock,
                    merged: Some(-2),
                    proposed: Some(0),
                    ..
                }
            ),
            "{d:?}"
        );
    }

    #[test]
    fn an_unexplained_store_edit_is_a_conflict() {
        let mut o = obs(10, 60, BASE);
        o.store_sales = Some(0);
        assert!(matches!(
            decide(&o, 10),
            MergeDecision::Conflict {
                kind: ConflictKind::UnexplainedChange,
                ..
            }
        ));
        o.store = Some(0);
        o.store_sales = Some(10); // ten sold online: explained
        assert!(matches!(
            decide(&o, 10),
            MergeDecision::Apply { quantity: 0, .. }
        ));
    }

    #[test]
    fn first_sync_takes_the_pos_count_unless_far_off() {
        let mut o = obs(20, 18, BASE);
        o.base = None;
        assert!(matches!(
            decide(&o, 10),
            MergeDecision::Apply { quantity: 20, .. }
        ));
        o.store = Some(50);
        assert!(matches!(
            decide(&o, 10),
            MergeDecision::Conflict {
                kind: ConflictKind::QuantityMismatch,
                proposed: Some(20),
                ..
            }
        ));
    }

    #[test]
    fn one_sided_skus_are_missing_alignment() {
        let mut o = obs(20, 18, BASE);
        o.store = None;
        assert!(matches!(
            decide(&o, 10),
            MergeDecision::Conflict {
                kind: ConflictKind::MissingAlignment,
                ..
            }
        ));
    }

    #[test]
    fn policies_pick_their_side() {
        assert_eq!(
            resolve(Policy::PosWins, Some(4), Some(9), Some(-1)),
            Some(4)
        );
        assert_eq!(
            resolve(Policy::StoreWins, Some(4), Some(9), Some(-1)),
            Some(9)
        );
        assert_eq!(resolve(Policy::Merge, Some(4), Some(9), Some(-1)), Some(0));
        assert_eq!(resolve(Policy::Manual, Some(4), Some(9), Some(-1)), None);
        assert!(price_drift(10.0, 7.5, 0.2));
        assert!(!price_drift(10.0, 8.5, 0.2));
    }

    #[derive(Debug, Clone)]
    enum Move {
        ShopSale(i64),
        OnlineSale(i64),
        Restock(i64),
        /// The POS takes in the oldest pending web order.
        Absorb,
        Pass,
    }

    fn moves() -> impl Strategy<Value = Vec<Move>> {
        prop::collection::vec(
            prop_oneof![
                3 => (1..4i64).prop_map(Move::ShopSale),
                3 => (1..4i64).prop_map(Move::OnlineSale),
                1 => (1..20i64).prop_map(Move::Restock),
                2 => Just(Move::Absorb),
                2 => Just(Move::Pass),
            ],
            1..60,
        )
    }

    proptest! {
        /// For any interleaving of sales on both sides, restocks, web orders reaching the POS and passes,
        /// after a pass the store equals the true stock (initial + every movement): no sale lost, none twice.
        /// (Stock starts high enough never to go negative; overselling is the unit test above.)
        #[test]
        fn no_sale_is_lost_or_counted_twice(initial in 200..400i64, moves in moves()) {
            let mut truth = initial;
            let (mut pos, mut store) = (initial, initial);
            let mut pending_web: Vec<i64> = Vec::new();
            let mut absorbed = 0;
            let mut base = MergeBase { agreed: initial, pos_seen: initial, store_seen: initial };
            for m in moves.iter().cloned().chain([Move::Pass]) {
                match m {
                    Move::ShopSale(q) => { pos -= q; truth -= q; }
                    Move::OnlineSale(q) => { store -= q; truth -= q; pending_web.push(q); }
                    Move::Restock(q) => { pos += q; truth += q; }
                    Move::Absorb => if !pending_web.is_empty() { let q = pending_web.remove(0); pos -= q; absorbed += q; },
                    Move::Pass => {
                        let o = StockObservation { pos: Some(pos), store: Some(store), base: Some(base), absorbed_web: absorbed, store_sales: None, pos_sales: None };
                        match decide(&o, i64::MAX) {
                            MergeDecision::Apply { quantity, new_base } => {
                                prop_assert_eq!(quantity, truth);
                                store = quantity;
                                base = new_base;
                            }
                            other => prop_assert!(false, "unexpected {other:?}"),
                        }
                        absorbed = 0;
                        // The POS, less web orders it has not taken in yet, always equals the truth.
                        prop_assert_eq!(pos - pending_web.iter().sum::<i64>(), truth);
                    }
                }
            }
        }
    }
}
