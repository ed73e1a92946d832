//! The foundation's behaviour, tested through the library: the order workflow, its invariants under random
//! operation sequences, migrations, the durable job queue (and how every job ends), the store's own failures
//! and the backorder e-mail over real SMTP.
//! One test binary (several modules) keeps link time down on small machines.

mod backorder_email;
mod job_endings;
mod job_queue;
mod migrations;
mod roles;
mod store_faults;
mod support;
mod workflow;
mod workflow_props;
