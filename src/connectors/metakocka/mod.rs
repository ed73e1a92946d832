//! Metakocka ERP client (placeholder while it is written).
