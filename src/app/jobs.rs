//! Job commands for operators: look at the queue, retry what died, discard what should not run.

use super::{App, AppError, Result};
use crate::domain::time::now_ms;
use crate::store::{Job, JobState, jobs};

impl App {
    pub fn jobs(&mut self, state: Option<JobState>, limit: i64) -> Result<Vec<Job>> {
        Ok(jobs::list(self.store.conn(), state, limit)?)
    }

    pub fn job_counts(&mut self) -> Result<Vec<(JobState, i64)>> {
        Ok(jobs::count_by_state(self.store.conn())?)
    }

    /// Runs a dead, cancelled or waiting job again now, with a fresh attempt budget.
    pub fn retry_job(&mut self, id: i64) -> Result<Job> {
        self.store.write(|tx| {
            let job = jobs::get(tx, id)?.ok_or(AppError::JobNotFound(id))?;
            match job.state {
                JobState::Dead | JobState::Cancelled | JobState::Retrying | JobState::Queued => {
                    jobs::requeue(tx, id, now_ms())?;
                    Ok(jobs::get(tx, id)?.ok_or(AppError::JobNotFound(id))?)
                }
                JobState::Running => Err(AppError::Rejected(format!(
                    "job {id} is running; wait for it to finish"
                ))),
                JobState::Done => Err(AppError::Rejected(format!(
                    "job {id} is done; nothing to retry"
                ))),
            }
        })
    }

    pub fn retry_all_dead(&mut self) -> Result<usize> {
        self.store.write(|tx| Ok(jobs::requeue_dead(tx, now_ms())?))
    }

    /// Cancels a job that has not finished; a running job cannot be pulled back.
    pub fn discard_job(&mut self, id: i64) -> Result<Job> {
        let by = self.actor.name.clone();
        self.store.write(|tx| {
            let job = jobs::get(tx, id)?.ok_or(AppError::JobNotFound(id))?;
            match job.state {
                JobState::Dead | JobState::Retrying | JobState::Queued => {
                    jobs::cancel(tx, id, &format!("discarded by {by}"), now_ms())?;
                    Ok(jobs::get(tx, id)?.ok_or(AppError::JobNotFound(id))?)
                }
                JobState::Running => Err(AppError::Rejected(format!(
                    "job {id} is running; it cannot be discarded now"
                ))),
                JobState::Done | JobState::Cancelled => Err(AppError::Rejected(format!(
                    "job {id} is already {}",
                    job.state.as_str()
                ))),
            }
        })
    }
}
