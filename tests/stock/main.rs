//! Stock and prices, one test binary: stock and price passes between the POS and the store, the file-only
//! POS, a SKU's trace, operator resolution of conflicts, and the alignment import.

mod alignment_import;
mod conflicts;
mod passes;
mod pos_csv;
mod prices;
mod trace;
