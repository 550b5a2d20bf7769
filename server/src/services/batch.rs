//! Batching: concurrent calls queued for one task that serves them many at a time (callbacks
//! recorded under one commit, many contacts' stamps read by one lookup). A call made while a
//! batch is being served waits for the next batch, which starts after the call was made: what
//! a batch reads was committed no later than any of its calls arrived.

use std::{
    future::Future,
    pin::Pin,
    sync::{Arc, OnceLock},
};

use tokio::sync::{mpsc, oneshot};

type Answer<T> = std::result::Result<T, String>;
type Job<Req, Resp> = (Req, oneshot::Sender<Answer<Resp>>);
type Serve<Req, Resp> =
    Arc<dyn Fn(Vec<Req>) -> Pin<Box<dyn Future<Output = Answer<Vec<Resp>>> + Send>> + Send + Sync>;

/// Serves calls of `Req` in batches of at most `max`, one batch at a time, each call answered
/// with its own `Resp` (a failed batch answers each of its calls with the error).
pub struct Batcher<Req, Resp> {
    max: usize,
    serve: Serve<Req, Resp>,
    queue: Arc<OnceLock<mpsc::Sender<Job<Req, Resp>>>>,
}

impl<Req, Resp> Clone for Batcher<Req, Resp> {
    fn clone(&self) -> Self {
        Self {
            max: self.max,
            serve: self.serve.clone(),
            queue: self.queue.clone(),
        }
    }
}

impl<Req, Resp> std::fmt::Debug for Batcher<Req, Resp> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batcher").field("max", &self.max).finish()
    }
}

impl<Req: Send + 'static, Resp: Send + 'static> Batcher<Req, Resp> {
    /// `serve` answers a batch with one `Resp` per call, in order.
    pub fn new<F, Fut>(max: usize, serve: F) -> Self
    where
        F: Fn(Vec<Req>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Answer<Vec<Resp>>> + Send + 'static,
    {
        Self {
            max,
            serve: Arc::new(move |batch| Box::pin(serve(batch))),
            queue: Arc::default(),
        }
    }

    /// Queues a call and waits for its batch's answer. The serving task starts with the first
    /// call, on its runtime, and ends when the last clone of the batcher is dropped.
    pub async fn call(&self, req: Req) -> Answer<Resp> {
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::channel(4 * self.max);
            tokio::spawn(run(self.serve.clone(), self.max, rx));
            tx
        });
        let (reply, answer) = oneshot::channel();
        queue
            .send((req, reply))
            .await
            .map_err(|_| "the batch task stopped".to_string())?;
        answer
            .await
            .map_err(|_| "the batch task stopped".to_string())?
    }
}

async fn run<Req, Resp>(
    serve: Serve<Req, Resp>,
    max: usize,
    mut rx: mpsc::Receiver<Job<Req, Resp>>,
) {
    let mut jobs = Vec::with_capacity(max);
    while rx.recv_many(&mut jobs, max).await > 0 {
        let (batch, replies): (Vec<Req>, Vec<_>) = jobs.drain(..).unzip();
        let size = replies.len();
        match serve(batch).await {
            Ok(answers) if answers.len() == size => {
                for (reply, a) in replies.into_iter().zip(answers) {
                    let _ = reply.send(Ok(a));
                }
            }
            Ok(answers) => {
                let e = format!("a batch of {size} was answered {} times", answers.len());
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, size, "a batch failed");
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn concurrent_calls_share_batches_and_each_gets_its_own_answer() {
        let served = Arc::new(AtomicUsize::new(0));
        let s = served.clone();
        let doubler = Batcher::new(16, move |batch: Vec<u32>| {
            s.fetch_add(1, Ordering::SeqCst);
            async move {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                Ok(batch.into_iter().map(|n| n * 2).collect())
            }
        });
        let calls: Vec<_> = (0..40u32)
            .map(|n| {
                let d = doubler.clone();
                tokio::spawn(async move { (n, d.call(n).await) })
            })
            .collect();
        for c in calls {
            let (n, answer) = c.await.unwrap();
            assert_eq!(answer, Ok(n * 2));
        }
        let batches = served.load(Ordering::SeqCst);
        assert!(
            (3..40).contains(&batches),
            "40 calls in batches of at most 16 took {batches} batches"
        );
    }

    #[tokio::test]
    async fn a_failed_batch_answers_every_call_with_its_error() {
        let failing = Batcher::new(4, |_: Vec<u32>| async {
            Err::<Vec<u32>, _>("the database is gone".to_string())
        });
        assert_eq!(failing.call(1).await, Err("the database is gone".into()));
        let short = Batcher::new(4, |_: Vec<u32>| async { Ok(Vec::<u32>::new()) });
        assert!(short
            .call(1)
            .await
            .unwrap_err()
            .contains("answered 0 times"));
    }
}
