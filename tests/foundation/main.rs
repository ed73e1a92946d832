//! The foundation's behaviour, tested through the library: the order workflow, its invariants under random
//! operation sequences, migrations, the durable job queue and the backorder e-mail over real SMTP.
//! One test binary (several modules) keeps link time down on small machines.

mod backorder_email;
mod job_queue;
mod migrations;
mod support;
mod workflow;
mod workflow_props;
