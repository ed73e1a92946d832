//! The plan step of a stock pass, pure: for one aligned pair, given what both sides read now and what the
//! pair remembers, decide the store quantity to write, the new merge base, and the conflict to raise. The
//! pass around it only loads, reads, applies and records; everything it decides is decided here.

use super::inventory::{
    self, ConflictKind, MergeBase, MergeDecision, Policy, StockObservation, UnconfirmedWrite,
    WriteCheck,
};

/// What a pass knows about one pair when it plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PairInput {
    /// The POS quantity (None: no such POS item this pass).
    pub pos: Option<i64>,
    /// The store's product (None: the store has no such product).
    pub store: Option<StoreStock>,
    pub base: Option<MergeBase>,
    /// A write whose answer was lost, still to be settled by this read of the store.
    pub unconfirmed: Option<UnconfirmedWrite>,
    /// Units of web orders the POS reading now includes (counted back once).
    pub absorbed_web: i64,
    /// Online sales since the last pass (None: there was no last pass).
    pub store_sales: Option<i64>,
}

/// The store's side of one pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreStock {
    pub quantity: Option<i64>,
    /// Whether the store manages this product's stock at all.
    pub managed: bool,
}

/// How conflicts are settled, and where a side's movement stops being believable.
pub struct Rules<'a> {
    pub threshold: i64,
    pub policy: &'a dyn Fn(ConflictKind) -> Policy,
}

/// A conflict found on this pass, and the quantity its policy settled on (None: waits for an operator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedConflict {
    pub kind: ConflictKind,
    pub merged: Option<i64>,
    pub proposed: Option<i64>,
    pub detail: String,
    pub settled: Option<i64>,
    pub policy: Policy,
    /// The sides as decided on: what `conflicts detect` lists.
    pub pos: Option<i64>,
    pub store: Option<i64>,
    pub base: Option<i64>,
}

/// What the plan decided for one pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PairPlan {
    /// The store does not manage this product's stock: the pair is left alone.
    Unmanaged,
    Planned(Box<Planned>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// The base this pass merged from (the pair's, or the one an unconfirmed write that landed set).
    pub merged_from: Option<MergeBase>,
    pub new_base: Option<MergeBase>,
    /// The quantity to write to the store (only when it differs from what the store shows).
    pub write: Option<i64>,
    /// Why `write` (for the report and the sync log).
    pub why: Option<String>,
    pub conflict: Option<PlannedConflict>,
    /// Nothing to do, and why.
    pub skipped: Option<String>,
    /// The pair's unconfirmed write is settled by this pass's read (landed or not): forget it.
    pub forget_unconfirmed: bool,
}

/// Plans one pair.
pub fn plan_pair(input: &PairInput, rules: &Rules) -> PairPlan {
    if input.store.is_some_and(|s| !s.managed) {
        return PairPlan::Unmanaged;
    }
    let store_now = input.store.and_then(|s| s.quantity);
    // A write whose answer was lost: this read of the store says whether it landed, and so which base the
    // merge starts from. If it cannot tell, nothing is merged (that could count a change twice).
    let mut unknown_write = None;
    let mut forget_unconfirmed = false;
    let base = match input.unconfirmed.map(|u| (u, u.check(store_now))) {
        None => input.base,
        Some((_, WriteCheck::Landed(base))) => {
            forget_unconfirmed = true;
            Some(base)
        }
        Some((_, WriteCheck::NotLanded)) => {
            forget_unconfirmed = true;
            input.base
        }
        Some((u, WriteCheck::Unknown)) => {
            unknown_write = Some(u.unknown_detail(store_now));
            input.base
        }
    };
    let obs = StockObservation {
        pos: input.pos,
        store: store_now,
        base,
        absorbed_web: input.absorbed_web,
        store_sales: input.store_sales,
        pos_sales: None,
    };
    let decision = match unknown_write {
        Some(detail) => MergeDecision::Conflict {
            kind: ConflictKind::UnconfirmedWrite,
            merged: None,
            proposed: obs.pos,
            detail,
        },
        None => inventory::decide(&obs, rules.threshold),
    };
    let mut planned = Planned {
        merged_from: base,
        new_base: None,
        write: None,
        why: None,
        conflict: None,
        skipped: None,
        forget_unconfirmed,
    };
    match decision {
        MergeDecision::Apply { quantity, new_base } => {
            planned.new_base = Some(new_base);
            if Some(quantity) != store_now {
                planned.write = Some(quantity);
                planned.why = Some(merge_why(&obs));
            }
        }
        MergeDecision::Conflict {
            kind,
            merged,
            proposed,
            detail,
        } => {
            let policy = (rules.policy)(kind);
            let settled = inventory::resolve(policy, obs.pos, obs.store, merged);
            if let (Some(q), Some(p), Some(_)) = (settled, obs.pos, obs.store) {
                planned.new_base = Some(MergeBase {
                    agreed: q,
                    pos_seen: p,
                    store_seen: q,
                });
                if Some(q) != store_now {
                    planned.write = Some(q);
                    planned.why = Some(format!(
                        "{} settled by policy {}",
                        kind.as_str(),
                        policy.name()
                    ));
                }
            }
            planned.conflict = Some(PlannedConflict {
                kind,
                merged,
                proposed,
                detail,
                settled,
                policy,
                pos: obs.pos,
                store: obs.store,
                base: obs.base.map(|b| b.agreed),
            });
        }
        MergeDecision::Skip { reason } => planned.skipped = Some(reason),
    }
    PairPlan::Planned(Box::new(planned))
}

/// `merge: POS +3 (incl. -1 web), store -2 since the last pass`, or a first sync.
fn merge_why(obs: &StockObservation) -> String {
    match obs.base {
        Some(b) => format!(
            "merge: POS {:+}{}, store {:+} since the last pass",
            obs.pos.unwrap_or(0) - b.pos_seen,
            if obs.absorbed_web != 0 {
                format!(" (incl. {:+} web)", obs.absorbed_web)
            } else {
                String::new()
            },
            obs.store.unwrap_or(0) - b.store_seen
        ),
        None => "first sync: the POS count".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn merge_all(_: ConflictKind) -> Policy {
        Policy::Merge
    }

    fn manual(_: ConflictKind) -> Policy {
        Policy::Manual
    }

    fn planned(input: &PairInput, policy: &dyn Fn(ConflictKind) -> Policy) -> Planned {
        let rules = Rules {
            threshold: 1_000_000,
            policy,
        };
        match plan_pair(input, &rules) {
            PairPlan::Planned(p) => *p,
            PairPlan::Unmanaged => panic!("unexpectedly unmanaged"),
        }
    }

    fn stock(q: i64) -> Option<StoreStock> {
        Some(StoreStock {
            quantity: Some(q),
            managed: true,
        })
    }

    #[test]
    fn an_unmanaged_product_is_left_alone() {
        let input = PairInput {
            pos: Some(5),
            store: Some(StoreStock {
                quantity: None,
                managed: false,
            }),
            base: None,
            unconfirmed: None,
            absorbed_web: 0,
            store_sales: None,
        };
        let rules = Rules {
            threshold: 10,
            policy: &merge_all,
        };
        assert_eq!(plan_pair(&input, &rules), PairPlan::Unmanaged);
    }

    #[test]
    fn a_first_sync_writes_the_pos_count() {
        let p = planned(
            &PairInput {
                pos: Some(7),
                store: stock(3),
                base: None,
                unconfirmed: None,
                absorbed_web: 0,
                store_sales: None,
            },
            &merge_all,
        );
        assert_eq!(p.write, Some(7));
        assert_eq!(p.why.as_deref(), Some("first sync: the POS count"));
    }

    proptest! {
        /// Sales on both sides since an agreed base are both kept: the store is written the merge, and the
        /// new base records what each side showed, so the next pass starts from agreement.
        #[test]
        fn simultaneous_sales_are_both_kept(
            agreed in 0i64..1000,
            pos_sold in 0i64..50,
            store_sold in 0i64..50,
        ) {
            prop_assume!(pos_sold + store_sold <= agreed);
            let base = MergeBase { agreed, pos_seen: agreed, store_seen: agreed };
            let input = PairInput {
                pos: Some(agreed - pos_sold),
                store: stock(agreed - store_sold),
                base: Some(base),
                unconfirmed: None,
                absorbed_web: 0,
                store_sales: Some(store_sold),
            };
            let p = planned(&input, &merge_all);
            let merged = agreed - pos_sold - store_sold;
            prop_assert!(p.conflict.is_none());
            let new_base = p.new_base.expect("a base");
            prop_assert_eq!(new_base.agreed, merged);
            prop_assert_eq!(new_base.pos_seen, agreed - pos_sold);
            prop_assert_eq!(new_base.store_seen, merged);
            // Written only when the store does not already show it.
            prop_assert_eq!(p.write, (merged != agreed - store_sold).then_some(merged));
        }

        /// Whatever the sides say, the plan never writes a negative quantity, never writes what the store
        /// already shows, and a conflict left to an operator moves no base and writes nothing.
        #[test]
        fn a_plan_is_never_harmful(
            pos in proptest::option::of(0i64..200),
            store in proptest::option::of(0i64..200),
            agreed in proptest::option::of(0i64..200),
            pos_seen in 0i64..200,
            store_seen in 0i64..200,
            absorbed_web in -10i64..10,
            store_sales in proptest::option::of(0i64..20),
        ) {
            let input = PairInput {
                pos,
                store: Some(StoreStock { quantity: store, managed: true }),
                base: agreed.map(|agreed| MergeBase { agreed, pos_seen, store_seen }),
                unconfirmed: None,
                absorbed_web,
                store_sales,
            };
            for policy in [&merge_all as &dyn Fn(ConflictKind) -> Policy, &manual] {
                let p = planned(&input, policy);
                if let Some(q) = p.write {
                    prop_assert!(q >= 0, "wrote {q}");
                    prop_assert_ne!(Some(q), store);
                    prop_assert!(p.why.is_some());
                }
                if let Some(c) = &p.conflict && c.settled.is_none() {
                    prop_assert_eq!(p.write, None);
                    prop_assert_eq!(p.new_base, None);
                }
                prop_assert!(p.skipped.is_none() || (p.write.is_none() && p.conflict.is_none()));
            }
        }

        /// Nothing moved on either side since the agreed base: the plan writes nothing and keeps agreeing.
        #[test]
        fn no_change_on_either_side_plans_no_write(agreed in 0i64..10_000) {
            let base = MergeBase { agreed, pos_seen: agreed, store_seen: agreed };
            let input = PairInput {
                pos: Some(agreed),
                store: stock(agreed),
                base: Some(base),
                unconfirmed: None,
                absorbed_web: 0,
                store_sales: Some(0),
            };
            for policy in [&merge_all as &dyn Fn(ConflictKind) -> Policy, &manual] {
                let p = planned(&input, policy);
                prop_assert_eq!(p.write, None);
                prop_assert!(p.conflict.is_none());
                prop_assert_eq!(p.new_base, Some(base));
            }
        }

        /// Planning again right after the plan was applied — the store shows what was written, the POS what
        /// it showed, the base is the new one — is a no-op: no write, no conflict, the same base.
        #[test]
        fn replanning_after_applying_is_a_no_op(
            pos in 0i64..500,
            store in 0i64..500,
            agreed in proptest::option::of(0i64..500),
            pos_seen in 0i64..500,
            store_seen in 0i64..500,
            absorbed_web in -5i64..5,
            store_sales in proptest::option::of(0i64..20),
            pos_wins in proptest::bool::ANY,
        ) {
            let base = agreed.map(|agreed| MergeBase { agreed, pos_seen, store_seen });
            let input = PairInput {
                pos: Some(pos),
                store: stock(store),
                base,
                unconfirmed: None,
                absorbed_web,
                store_sales,
            };
            let pos_first = |_: ConflictKind| Policy::PosWins;
            let policy: &dyn Fn(ConflictKind) -> Policy = if pos_wins { &pos_first } else { &merge_all };
            let first = planned(&input, policy);
            let Some(new_base) = first.new_base else { return Ok(()) };
            let again = PairInput {
                pos: Some(pos),
                store: stock(first.write.unwrap_or(store)),
                base: Some(new_base),
                unconfirmed: None,
                absorbed_web: 0,
                store_sales: Some(0),
            };
            let second = planned(&again, policy);
            prop_assert_eq!(second.write, None);
            prop_assert!(second.conflict.is_none(), "{:?}", second.conflict);
            prop_assert_eq!(second.new_base, Some(new_base));
        }

        /// A write whose answer was lost: a store read that shows it merges from the base the write set (an
        /// older read never takes the pair back to the old base), and a read that shows neither the written
        /// nor the earlier quantity writes nothing and moves no base — it waits for someone to decide.
        #[test]
        fn a_stale_store_read_never_undoes_a_newer_write(
            written in 0i64..500,
            prior in 0i64..500,
            seen in 0i64..500,
            pos in 0i64..500,
        ) {
            prop_assume!(written != prior);
            let old = MergeBase { agreed: prior, pos_seen: prior, store_seen: prior };
            let newer = MergeBase { agreed: written, pos_seen: pos, store_seen: written };
            let input = |store_now: i64| PairInput {
                pos: Some(pos),
                store: stock(store_now),
                base: Some(old),
                unconfirmed: Some(UnconfirmedWrite { quantity: written, prior: Some(prior), base: newer }),
                absorbed_web: 0,
                store_sales: None,
            };
            let landed = planned(&input(written), &merge_all);
            prop_assert_eq!(landed.merged_from, Some(newer));
            prop_assert!(landed.forget_unconfirmed);
            prop_assert_eq!(landed.write, None, "the store already shows the write");
            if seen != written && seen != prior {
                for policy in [&merge_all as &dyn Fn(ConflictKind) -> Policy, &manual] {
                    let unknown = planned(&input(seen), policy);
                    prop_assert_eq!(
                        unknown.conflict.as_ref().map(|c| c.kind),
                        Some(ConflictKind::UnconfirmedWrite)
                    );
                    prop_assert!(!unknown.forget_unconfirmed);
                    if policy(ConflictKind::UnconfirmedWrite) == Policy::Manual {
                        prop_assert_eq!(unknown.write, None);
                        prop_assert_eq!(unknown.new_base, None);
                    }
                }
            }
        }

        /// A conflict settles as its policy says: pos_wins writes the POS count, store_wins keeps the store's,
        /// merge writes the merged quantity (never below zero), manual writes nothing and waits. Whatever
        /// settles becomes the new base with the POS as seen.
        #[test]
        fn each_policy_settles_a_conflict_as_documented(
            pos in 0i64..100,
            store in 0i64..100,
            beyond in 1i64..100,
            which in 0usize..4,
        ) {
            // Both sides sold since the base, together more than it held: a negative-stock conflict (the
            // store's sales explain its fall, so nothing else is raised).
            let agreed = pos + store + beyond;
            let store_sold = agreed - store;
            let policy = [Policy::PosWins, Policy::StoreWins, Policy::Merge, Policy::Manual][which];
            let chosen = move |_: ConflictKind| policy;
            let input = PairInput {
                pos: Some(pos),
                store: stock(store),
                base: Some(MergeBase { agreed, pos_seen: agreed, store_seen: agreed }),
                unconfirmed: None,
                absorbed_web: 0,
                store_sales: Some(store_sold),
            };
            let p = planned(&input, &chosen);
            let c = p.conflict.as_ref().expect("a conflict");
            prop_assert_eq!(c.kind, ConflictKind::NegativeStock);
            let expected = match policy {
                Policy::PosWins => Some(pos),
                Policy::StoreWins => Some(store),
                Policy::Merge => Some(0),
                Policy::Manual => None,
            };
            prop_assert_eq!(c.settled, expected);
            prop_assert_eq!(p.write, expected.filter(|q| *q != store));
            prop_assert_eq!(
                p.new_base,
                expected.map(|q| MergeBase { agreed: q, pos_seen: pos, store_seen: q })
            );
        }
    }
}
